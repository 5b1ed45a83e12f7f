"""Build the core with each backend, test every build against its twin.

    nox -s build_meson test     one backend, then the tests
    nox -s build test           all three backends, then the tests
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from tools.building import build as build_project  # noqa: E402
from tools.building import openmp_switch  # noqa: E402
from tools.render import BACKENDS, render, variant  # noqa: E402

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["build", "test"]

PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")


def group(name: str) -> list[str]:
    return nox.project.dependency_groups(PYPROJECT, name)


def build_variant(session: nox.Session, backend: str) -> None:
    """Render the template into build/<backend>, then sdist -> wheel into dist/<backend>."""
    project, out = ROOT / "build" / backend, ROOT / "dist" / backend
    for old in (project, out):
        shutil.rmtree(old, ignore_errors=True)
    render(backend, project, variant(backend))
    # `python -m build` makes the sdist, then the wheel from that sdist: a
    # file missing from the sdist fails here, not on a user's machine.
    # On failure build_project ends the session with what is missing (a C
    # compiler, Python.h, OpenMP asked for) and what to do.
    build_project(session, backend, variant(backend), project, out, *session.posargs)
    for path in sorted(out.iterdir()):
        session.log(f"built {path.relative_to(ROOT)}")


@nox.session
def build_setuptools(session: nox.Session) -> None:
    """Build mathcore_setuptools (sdist, then wheel from it) into dist/setuptools/."""
    session.install(*group("build"))
    build_variant(session, "setuptools")


@nox.session
def build_meson(session: nox.Session) -> None:
    """Build mathcore_meson (sdist, then wheel from it) into dist/meson/."""
    session.install(*group("build"))
    build_variant(session, "meson")


@nox.session
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


@nox.session
def test(session: nox.Session) -> None:
    """Install every wheel under dist/ and run pytest over each build and the twin."""
    wheels = sorted(ROOT.glob("dist/*/*.whl"))
    if not wheels:
        session.error("no wheel under dist/: run `nox -s build` (or build_setuptools, build_meson, build_cmake) first")
    session.install(*group("test"))
    session.install(*map(str, wheels))
    session.run("pytest", *session.posargs)


# Robustness: a build without OpenMP, build errors that say what to do, and
# reproducible wheels. The no-OpenMP wheels go one level deeper than the
# dist/*/*.whl that `test` installs, so they never meet the OpenMP ones.
NO_OPENMP = ROOT / "dist" / "no-openmp"


@nox.session
@nox.parametrize("backend", BACKENDS, ids=list(BACKENDS))
def build_no_openmp(session: nox.Session, backend: str) -> None:
    """Build mathcore_<backend> with its OpenMP switch off into dist/no-openmp/<backend>/."""
    session.install(*group("build"))
    project, out = ROOT / "build" / "no-openmp" / backend, NO_OPENMP / backend
    for old in (project, out):
        shutil.rmtree(old, ignore_errors=True)
    render(backend, project, variant(backend))
    args, env = openmp_switch(backend, variant(backend), "off")
    session.log(f"OpenMP off: {' '.join([*args, *(f'{k}={v}' for k, v in env.items())])}")
    build_project(session, backend, variant(backend), project, out, *args, *session.posargs, env=env)


@nox.session
def test_no_openmp(session: nox.Session) -> None:
    """Run the whole suite on the wheels in dist/no-openmp/, asserting they lack OpenMP."""
    wheels = sorted(NO_OPENMP.glob("*/*.whl"))
    if not wheels:
        session.error("no wheel under dist/no-openmp/: run `nox -s build_no_openmp` first")
    session.install(*group("test"))
    session.install(*map(str, wheels))
    session.run("pytest", "--openmp=off", *session.posargs)


@nox.session(python=False)
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
