"""Build and test mathcore.

nox -s tests            build and install the package, run the tests
nox -s build            sdist, then a wheel from that sdist, into dist/
"""

from __future__ import annotations

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
    """Build the sdist, then a wheel from that sdist, into dist/."""
    session.install("build[uv]>=1.2")
    session.run("python", "-m", "build", "--installer=uv", *session.posargs)
