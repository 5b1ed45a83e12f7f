"""Build the core with each backend, test every build against its twin, time and compare them.

nox                         the main job: build, test, bench, compare
nox -s build_meson test     one backend, then the tests
nox -s build test           all three backends, then the tests
nox -s build_clang test     all three built with clang and LLVM's OpenMP too, then every build tested
nox -s build_abi3 test_abi3 all three as one abi3 wheel each, tested on Python 3.12 and 3.13
nox -s lint                 ruff, cython-lint, the templates agree
nox -s build check          wheel and sdist checks, stubtest against every build
nox -s test_pythons         one backend built and tested on each Python 3.10-3.13 found
nox -s test_freethreaded    all three built and tested on a free-threaded CPython, where there is one
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from tools.building import build as build_project
from tools.building import openmp_switch
from tools.render import BACKENDS, render, variant
from tools.variants import ABI3, ABI3_FLOOR, DEFAULT, VARIANTS, Variant, by_label, of_abi, of_compiler

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
# test_pythons runs on the interpreters this machine has: a missing one is
# skipped with nox's "interpreter not found" line, on CI too (where nox would
# otherwise error), and nox does not try to download one.
nox.options.error_on_missing_interpreters = False
nox.options.download_python = "never"
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")


def group(name: str) -> list[str]:
    return nox.project.dependency_groups(PYPROJECT, name)


def build_variant(
    session: nox.Session,
    v: Variant,
    where: Path = ROOT,
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    python: str = "python",
) -> None:
    """Render v's template into <where>/build/<folder>, then sdist -> wheel into <where>/dist/<folder>."""
    project, out = where / "build" / v.folder, where / "dist" / v.folder
    for old in (project, out):
        shutil.rmtree(old, ignore_errors=True)
    render(v.backend, project, v.name)
    v_args, v_env = v.settings()
    # `python -m build` makes the sdist, then the wheel from that sdist: a
    # file missing from the sdist fails here, not on a user's machine.
    build_args = [*v_args, *(session.posargs if args is None else args)]
    build_env = {**v_env, **(env or {})}
    if v_args or v_env:
        session.log(f"{v.name}: {v.switches()}")
    # On failure build_project ends the session with what is missing (a C
    # compiler, Python.h, OpenMP asked for) and what to do.
    build_project(session, v.backend, v.name, project, out, *build_args, env=build_env, python=python)
    for path in sorted(out.iterdir()):
        session.log(f"built {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


@nox.session(default=False)
def build_setuptools(session: nox.Session) -> None:
    """Build mathcore_setuptools (sdist, then wheel from it) into dist/setuptools/."""
    session.install(*group("build"))
    build_variant(session, by_label("setuptools"))


@nox.session(default=False)
def build_meson(session: nox.Session) -> None:
    """Build mathcore_meson (sdist, then wheel from it) into dist/meson/."""
    session.install(*group("build"))
    build_variant(session, by_label("meson"))


@nox.session(default=False)
def build_cmake(session: nox.Session) -> None:
    """Build mathcore_cmake (sdist, then wheel from it) into dist/cmake/."""
    session.install(*group("build"))
    build_variant(session, by_label("cmake"))


@nox.session
def build(session: nox.Session) -> None:
    """Build all three backends with the default compiler into dist/<backend>/."""
    session.install(*group("build"))
    for v in of_compiler(DEFAULT):
        build_variant(session, v)


# Not in the main job (it must stay within 8 minutes here): `nox -s build_clang test`.
@nox.session(default=False)
def build_clang(session: nox.Session) -> None:
    """Build all three backends with clang and LLVM's OpenMP (libomp) into dist/<backend>-clang/."""
    session.install(*group("build"))
    for v in of_compiler("clang"):
        build_variant(session, v)


# Not in the main job either: it needs Python 3.12, the oldest CPython an
# abi3 wheel of the Limited API 3.12 installs on. `nox -s test` on 3.12 or
# later tests these wheels with the others; test_abi3 tests them on 3.12 and 3.13.
@nox.session(python=ABI3_FLOOR, default=False)
def build_abi3(session: nox.Session) -> None:
    """Build all three backends as one abi3 wheel each (CPython 3.12 and later) into dist/<backend>-abi3/."""
    session.install(*group("build"))
    for v in of_abi(ABI3):
        build_variant(session, v)


# Prints those of the wheels named in argv that this Python can install.
INSTALLABLE = """
import os, sys
from packaging.tags import sys_tags
from packaging.utils import parse_wheel_filename
here = set(sys_tags())
print(*(w for w in sys.argv[1:] if parse_wheel_filename(os.path.basename(w))[3] & here), sep="\\n")
"""


def built_wheels(session: nox.Session, *, required: bool = True) -> list[str]:
    """The wheels under dist/ that this session's Python installs; stop with a hint if none is required and none."""
    found = [str(path) for v in VARIANTS for path in v.wheels(ROOT)]
    wheels = found
    if found:
        # abi3 wheels need CPython 3.12+; a build made by another Python (nox
        # --force-python) is for that Python only.
        session.install("packaging")
        # stderr apart: only the wheels' paths come back.
        out = session.run("python", "-X", "utf8", "-c", INSTALLABLE, *found, silent=True, log=False, stderr=None)
        wheels = str(out).splitlines()
        for path in sorted(set(found) - set(wheels)):
            session.log(f"left out, not for this Python: {Path(path).relative_to(ROOT)}")
    if required and found and not wheels:
        session.error(
            "no wheel under dist/ is for this Python (see above): build for it, or run with the Python they are for"
        )
    if required and not wheels:
        session.error(
            "no wheel under dist/: run `nox -s build` (or build_setuptools, build_meson, build_cmake, build_clang) first"
        )
    return wheels


@nox.session
def test(session: nox.Session) -> None:
    """Install every wheel under dist/ (each variant's folder) and run pytest over each build and the twin."""
    wheels = built_wheels(session)
    session.install(*group("test"))
    session.install(*wheels)
    session.run("pytest", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Time every build against the others, the twin, NumPy and Numba; write reports/bench.*."""
    wheels = built_wheels(session)
    session.install(*group("bench"))
    session.install(*wheels)
    session.run("python", "-m", "tools.bench", *session.posargs)


def install_build_requires(session: nox.Session) -> None:
    """Every template's build-system.requires: builds without isolation and editable installs need them."""
    for backend in BACKENDS:
        session.install(*nox.project.load_toml(ROOT / backend / "pyproject.toml")["build-system"]["requires"])


@nox.session
def compare(session: nox.Session) -> None:
    """Measure each backend's build times, sizes, flags, OpenMP linkage and speed; write reports/compare.*."""
    session.install(*group("compare"))
    install_build_requires(session)
    if wheels := built_wheels(session, required=False):
        session.install(*wheels)  # for a quick bench when reports/bench.json is missing
    session.run("python", "-m", "tools.compare", *session.posargs)


# Not in the main job: it builds every backend once more with each compiler.
@nox.session(default=False)
def compare_compilers(session: nox.Session) -> None:
    """Each backend by gcc and by clang: build time, wheel size, OpenMP runtime, fork after OpenMP, speed."""
    session.install(*group("compare"))
    session.run("python", "-m", "tools.compilers", *session.posargs)


@nox.session(python=ABI3_FLOOR, default=False)
def compare_abi(session: nox.Session) -> None:
    """Each backend built for Python 3.12 and as one abi3 wheel: tag, configuration, build time, size, speed."""
    session.install(*group("compare"))
    session.run("python", "-m", "tools.abi", *session.posargs)


@nox.session(default=False)
def scale(session: nox.Session) -> None:
    """Time wheel builds, the edit loop and imports against the number of compiled modules; write reports/scale.*."""
    session.install(*group("scale"))
    install_build_requires(session)
    session.run("python", "-m", "tools.scale", *session.posargs)


# --- new: start a project of your own from one template ----------------------


@nox.session(venv_backend="none", default=False)
def new(session: nox.Session) -> None:
    """Copy a template into a new project: nox -s new -- BACKEND DEST [--name NAME] [--force] [--no-git]."""
    session.run(sys.executable, str(ROOT / "tools" / "new.py"), *session.posargs, external=True)


@nox.session(default=False)
@nox.parametrize("backend", BACKENDS)
def test_new(session: nox.Session, backend: str) -> None:
    """Generate `fastsum` from one template, add a NumPy module as its README says, build, test and develop it."""
    from tools.check_new import check_new

    session.install(*group("new"))
    check_new(session, backend)


@nox.session(default=False)
def lint(session: nox.Session) -> None:
    """Run ruff (lint and format check), cython-lint on the .pyx, and check the templates agree."""
    session.install(*group("lint"))
    session.run("ruff", "check", *session.posargs)
    session.run("ruff", "format", "--check")
    session.run("cython-lint", *sorted(str(p) for p in ROOT.glob("shared/**/*.pyx")))
    session.run("python", "tools/check_templates.py")


@nox.session(default=False)
def check_workflows(session: nox.Session) -> None:
    """Check this repository's GitHub Actions files without GitHub: check-jsonschema, zizmor --offline."""
    session.install(*group("workflows"))
    github = ROOT / ".github"
    session.run(
        "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, github.glob("workflows/*.yml"))
    )
    session.run("check-jsonschema", "--builtin-schema", "vendor.dependabot", str(github / "dependabot.yml"))
    # Its own configuration named: only .github/ here, not tools/new_project/.github/ (checked by test_new).
    workflows = sorted(map(str, github.glob("workflows/*.yml")))
    session.run("zizmor", "--offline", "--config", str(github / "zizmor.yml"), *workflows)


@nox.session(default=False)
def check(session: nox.Session) -> None:
    """Check dist/ (twine, check-wheel-contents, auditwheel, sdists alike), then stubtest every build."""
    wheels = built_wheels(session)
    session.install(*group("check"))
    session.install(*wheels)
    session.run("python", "tools/check_dists.py")
    # tools/check_dists.py has checked that all three are there.
    modules = [variant(backend) for backend in BACKENDS]
    session.run("python", "-m", "mypy.stubtest", *modules, "--allowlist=tools/stubtest-allowlist.txt", *session.posargs)


@nox.session(python=PYTHONS[PYTHONS.index(ABI3_FLOOR) :], default=False)
def test_abi3(session: nox.Session) -> None:
    """Install the abi3 wheels under dist/ into this Python, the same files on each, and run pytest over them."""
    wheels = [str(path) for v in of_abi(ABI3) for path in v.wheels(ROOT)]
    if not wheels:
        session.error("no abi3 wheel under dist/: run `nox -s build_abi3` first")
    session.install(*group("test"))
    session.install(*wheels)
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHONS, default=False)
def test_pythons(session: nox.Session) -> None:
    """Build one backend (meson, or `-- cmake|setuptools`) for this Python into build/py<X.Y>/ and test it."""
    pytest_args = list(session.posargs)
    backend = pytest_args.pop(0) if pytest_args and pytest_args[0] in BACKENDS else "meson"
    where = ROOT / "build" / f"py{session.python}"
    session.install(*group("build"), *group("test"))
    build_variant(session, by_label(backend), where, args=[])
    session.install(*map(str, (where / "dist" / backend).glob("*.whl")))
    session.run("pytest", *pytest_args)


# Free-threaded CPython: not on this machine, so only the "none found" line
# has run here. The builds go to build/freethreaded/, away from dist/.
FREETHREADED = ROOT / "build" / "freethreaded"


@nox.session(python=False, default=False)
def test_freethreaded(session: nox.Session) -> None:
    """Build each backend for a free-threaded CPython (3.14t) found here, test it with threads; else say so."""
    from tools import freethreaded

    python = freethreaded.find()
    if python is None and os.environ.get("FREETHREADED_REQUIRED") == "1":  # CI that provides one
        session.error(freethreaded.NOT_FOUND)
    if python is None:
        session.skip(freethreaded.NOT_FOUND)  # one line, exit status 0
    session.log(f"free-threaded CPython: {python}")
    # A venv of its own: nox would need the interpreter's version up front.
    venv = FREETHREADED / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    session.run(python, "-m", "venv", str(venv))
    py = freethreaded.venv_python(venv)
    session.run(py, "-m", "pip", "install", "--quiet", *group("build"), *group("test"), "pytest-run-parallel>=0.7")
    variants = of_compiler(DEFAULT)
    for v in variants:
        build_variant(session, v, FREETHREADED, args=[], python=py)
    session.run(py, "-m", "pip", "install", "--quiet", *(str(w) for v in variants for w in v.wheels(FREETHREADED)))
    session.run(py, "-c", freethreaded.GIL_CHECK, *(v.name for v in variants))
    # The whole suite (tests/test_robust.py calls every function from 16
    # threads at once), then each test of test_core.py run by 4 threads at once.
    session.run(py, "-m", "pytest", *session.posargs)
    session.run(py, "-m", "pytest", "tests/test_core.py", "--parallel-threads=4", "-q", *session.posargs)
    session.run(py, "-c", freethreaded.TWIN_THREADS, variants[0].name)


# Robustness: a build without OpenMP, build errors that say what to do, and
# reproducible wheels. The no-OpenMP builds go to build/no-openmp/{build,dist}/,
# away from the dist/<backend>/ wheels that `test` installs.
NO_OPENMP = ROOT / "build" / "no-openmp"


@nox.session(default=False)
@nox.parametrize("backend", BACKENDS, ids=list(BACKENDS))
def build_no_openmp(session: nox.Session, backend: str) -> None:
    """Build mathcore_<backend> with its OpenMP switch off into build/no-openmp/dist/<backend>/."""
    session.install(*group("build"))
    args, env = openmp_switch(backend, variant(backend), "off")
    session.log(f"OpenMP off: {' '.join([*args, *(f'{k}={v}' for k, v in env.items())])}")
    build_variant(session, by_label(backend), NO_OPENMP, args=[*args, *session.posargs], env=env)


@nox.session(default=False)
def test_no_openmp(session: nox.Session) -> None:
    """Run the whole suite on the wheels in build/no-openmp/dist/, asserting they lack OpenMP."""
    wheels = sorted(NO_OPENMP.glob("dist/*/*.whl"))
    if not wheels:
        session.error("no wheel under build/no-openmp/dist/: run `nox -s build_no_openmp` first")
    session.install(*group("test"))
    session.install(*map(str, wheels))
    session.run("pytest", "--openmp=off", *session.posargs)


@nox.session(python=False, default=False)
def build_errors(session: nox.Session) -> None:
    """Check that build sessions explain a missing C compiler or OpenMP (on a copy of the repo)."""
    from tools.build_errors import check

    check(session, *session.posargs)


@nox.session(default=False)
def reproducible(session: nox.Session) -> None:
    """Build each backend's sdist and wheel twice with SOURCE_DATE_EPOCH; compare the bytes."""
    session.install(*group("build"))
    from tools.reproducible import check

    check(session, *session.posargs)
