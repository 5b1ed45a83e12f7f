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
    # Building from the sdist instead would cost an sdist build on every run.
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
# What pip would fetch into an isolated build environment beyond [build-system]
# requires: the build tools that the backend asks for where this machine lacks them.
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
def install_traced(session: nox.Session) -> None:
    """An editable install with Cython's line tracing, the C (or C++) written next to each .pyx for the plugin."""
    # setup.py's switch: Cython's linetrace directive and the defines that compile its trace calls.
    session.install("--no-build-isolation", "-e", ".", env={"MATHCORE_COVERAGE": "1"})


# <<< setuptools
# >>> meson, cmake
# The defines that compile Cython's trace calls (nogil code and prange bodies
# included) and keep them visible to coverage.py on CPython 3.13+, where
# Cython would otherwise use sys.monitoring (coveragepy/coveragepy#1790): for
# the C and the C++ compiler alike.
TRACE_DEFINES = "-DCYTHON_TRACE_NOGIL=1 -DCYTHON_USE_SYS_MONITORING=0"
COVERAGE_BUILD = Path("build", "coverage")  # it keeps the generated C and C++


def link_generated_c(pyx: Path) -> None:
    """Link the module's C or C++ from the build folder next to its .pyx, where Cython's plugin reads it."""
    for suffix in GENERATED:
        # tools/cythonize.py keeps Cython's output under <build>/cythonize/, laid out as src/ is.
        built = sorted(COVERAGE_BUILD.rglob(pyx.relative_to("src").with_suffix(suffix).as_posix()))
        if built:
            pyx.with_suffix(suffix).unlink(missing_ok=True)
            pyx.with_suffix(suffix).symlink_to(os.path.relpath(built[0], pyx.parent))


# <<< meson, cmake
# >>> meson
def install_traced(session: nox.Session) -> None:
    """An editable install with Cython's line tracing, built in build/coverage/; its C linked next to each .pyx."""
    session.install(
        "--no-build-isolation",
        "-e",
        ".",
        f"-Cbuild-dir={COVERAGE_BUILD}",
        f"-Csetup-args=-Dc_args={TRACE_DEFINES}",
        f"-Csetup-args=-Dcpp_args={TRACE_DEFINES}",
        # meson 1.12 ignores -Dcython_args (mesonbuild/meson#15989, fixed by
        # mesonbuild/meson#16003, not yet released): CYTHON carries the directive.
        env={"CYTHON": "cython -X linetrace=True"},
    )
    for pyx in sorted(Path("src").rglob("*.pyx")):
        link_generated_c(pyx)


# <<< meson
# >>> cmake
def install_traced(session: nox.Session) -> None:
    """An editable install with Cython's line tracing, built in build/coverage/; its C linked next to each .pyx."""
    session.install(
        "--no-build-isolation",
        "-e",
        ".",
        f"-Cbuild-dir={COVERAGE_BUILD}",
        "-Ccmake.define.CYTHON_ARGS=-X;linetrace=True",
        f"-Ccmake.define.CMAKE_C_FLAGS={TRACE_DEFINES}",
        f"-Ccmake.define.CMAKE_CXX_FLAGS={TRACE_DEFINES}",
    )
    for pyx in sorted(Path("src").rglob("*.pyx")):
        link_generated_c(pyx)


# <<< cmake
# What Cython writes from a .pyx: C, or C++ for a C++ module.
GENERATED = (".c", ".cpp", ".cxx")


def remove_generated(pyx: Path) -> None:
    """Delete the C or C++ beside a .pyx that Cython wrote (or a link to it), never a hand-written file."""
    for path in map(pyx.with_suffix, GENERATED):
        if path.is_symlink() or (path.is_file() and path.read_bytes().startswith(b"/* Generated by Cython")):
            path.unlink()


@nox.session(default=False)
def coverage(session: nox.Session) -> None:
    """The tests under coverage.py with Cython's plugin, over an editable build with line tracing; lines missed."""
    install_build_requirements(session)
    session.install("coverage>=7.10")
    install_traced(session)
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
    env = {"COVERAGE_CORE": "ctrace"}
    env["PYTHONPATH"] = "src"  # the traces name each .pyx relative to src/, found on sys.path  # only: meson, cmake
    try:
        session.run("coverage", "run", f"--rcfile={rcfile}", "-m", "pytest", *session.posargs, env=env)
        session.run("coverage", "report", f"--rcfile={rcfile}", env=env)
        session.run("coverage", "html", f"--rcfile={rcfile}", "-d", str(rcfile.parent / "html"), env=env)
    finally:
        # The C beside each .pyx is no source: left there, `git status` shows it and an sdist may take it in.
        for pyx in Path("src").rglob("*.pyx"):
            remove_generated(pyx)
