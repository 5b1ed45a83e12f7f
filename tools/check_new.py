"""What `nox -s test_new` checks: a project from `new` stands on its own.

It is generated outside this repository under a name other than mathcore,
then built and tested by its own noxfile (fresh environments, only its own
files), and its CI configuration is checked as far as it can be here.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import nox

from tools.new import new

NAME = "fastsum"


def check_new(session: nox.Session, backend: str) -> None:
    """Generate `backend`'s project as NAME in a temporary folder, build and test it there."""
    tmp = Path(tempfile.mkdtemp(prefix=f"test_new-{backend}-"))
    project = tmp / NAME
    new(backend, project, NAME)
    session.log(f"generated {NAME} ({backend}) in {project}")
    # The project's own noxfile: `tests` installs it (a full build) into a
    # fresh venv and runs its tests; `build` makes the sdist, then the wheel from it.
    session.run("nox", "--noxfile", str(project / "noxfile.py"), "--sessions", "tests", "build")
    built = sorted(path.name for path in (project / "dist").iterdir())
    session.log(f"built {', '.join(built)}")
    if not any(name.endswith(".tar.gz") for name in built) or not any(name.endswith(".whl") for name in built):
        session.error(f"expected an sdist and a wheel in {project / 'dist'}, found {built}")
    # Everything `new` wrote is in the first commit, and .gitignore covers
    # what the builds left behind.
    status = subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True, check=True)
    if status.stdout:
        session.error(f"files not committed nor ignored in {project}:\n{status.stdout}")
    # CI cannot run here: check what can be checked without GitHub.
    session.run("cibuildwheel", "--print-build-identifiers", str(project))
    workflow = project / ".github" / "workflows" / "ci.yml"
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", str(workflow))
    session.run(
        "check-jsonschema", "--builtin-schema", "vendor.dependabot", str(project / ".github" / "dependabot.yml")
    )
    session.run("zizmor", "--offline", str(project))
    shutil.rmtree(tmp)  # kept when a step fails, to look at
