"""Build the core with each backend, test every build against its twin, time and compare them.

nox                         the main job: build, test, bench, compare
nox -s build_meson test     one backend, then the tests
nox -s build test           all three backends, then the tests
nox -s lint                 ruff, cython-lint, the templates agree
nox -s build check          wheel and sdist checks, stubtest against every build
nox -s test_pythons         one backend built and tested on each Python 3.10-3.13 found
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from tools.building import build as build_project
from tools.building import openmp_switch
from tools.render import BACKENDS, render, variant

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
    backend: str,
    where: Path = ROOT,
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> None:
    """Render the template into <where>/build/<backend>, then sdist -> wheel into <where>/dist/<backend>."""
    project, out = where / "build" / backend, where / "dist" / backend
    for old in (project, out):
        shutil.rmtree(old, ignore_errors=True)
    render(backend, project, variant(backend))
    # `python -m build` makes the sdist, then the wheel from that sdist: a
    # file missing from the sdist fails here, not on a user's machine.
    build_args = session.posargs if args is None else args
    # On failure build_project ends the session with what is missing (a C
    # compiler, Python.h, OpenMP asked for) and what to do.
    build_project(session, backend, variant(backend), project, out, *build_args, env=env)
    for path in sorted(out.iterdir()):
        session.log(f"built {path.relative_to(ROOT)}")


@nox.session(default=False)
def build_setuptools(session: nox.Session) -> None:
    """Build mathcore_setuptools (sdist, then wheel from it) into dist/setuptools/."""
    session.install(*group("build"))
    build_variant(session, "setuptools")


@nox.session(default=False)
def build_meson(session: nox.Session) -> None:
    """Build mathcore_meson (sdist, then wheel from it) into dist/meson/."""
    session.install(*group("build"))
    build_variant(session, "meson")


@nox.session(default=False)
def build_cmake(session: nox.Session) -> None:
    """Build mathcore_cmake (sdist, then wheel from it) into dist/cmake/."""
    session.install(*group("build"))
    build_variant(session, "cmake")


@nox.session
def build(session: nox.Session) -> None:
    """Build all three variants into dist/<backend>/."""
    session.install(*group("build"))
    for backend in BACKENDS:
        build_variant(session, backend)


def built_wheels(session: nox.Session, *, required: bool = True) -> list[str]:
    """The wheels of the builds under dist/<backend>/; stop with a hint if none is required and there are none."""
    wheels = sorted(str(p) for backend in BACKENDS for p in (ROOT / "dist" / backend).glob("*.whl"))
    if required and not wheels:
        session.error("no wheel under dist/: run `nox -s build` (or build_setuptools, build_meson, build_cmake) first")
    return wheels


@nox.session
def test(session: nox.Session) -> None:
    """Install every wheel under dist/ and run pytest over each build and the twin."""
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
def check(session: nox.Session) -> None:
    """Check dist/ (twine, check-wheel-contents, auditwheel, sdists alike), then stubtest every build."""
    wheels = built_wheels(session)
    session.install(*group("check"))
    session.install(*wheels)
    session.run("python", "tools/check_dists.py")
    # tools/check_dists.py has checked that all three are there.
    modules = [variant(backend) for backend in BACKENDS]
    session.run("python", "-m", "mypy.stubtest", *modules, "--allowlist=tools/stubtest-allowlist.txt", *session.posargs)


@nox.session(python=PYTHONS, default=False)
def test_pythons(session: nox.Session) -> None:
    """Build one backend (meson, or `-- cmake|setuptools`) for this Python into build/py<X.Y>/ and test it."""
    pytest_args = list(session.posargs)
    backend = pytest_args.pop(0) if pytest_args and pytest_args[0] in BACKENDS else "meson"
    where = ROOT / "build" / f"py{session.python}"
    session.install(*group("build"), *group("test"))
    build_variant(session, backend, where, args=[])
    session.install(*map(str, (where / "dist" / backend).glob("*.whl")))
    session.run("pytest", *pytest_args)


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
    build_variant(session, backend, NO_OPENMP, args=[*args, *session.posargs], env=env)


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
