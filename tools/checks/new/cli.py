"""`python -m tools.checks.new BACKEND`: the whole of test_new for one template, in order."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.checks.new.built import (
    check_coverage,
    check_develop,
    check_dists,
    check_own_backend_only,
    check_refuses_uncommitted,
    check_results,
    check_shared,
    check_strays,
    check_twine,
)
from tools.checks.new.moved import check_moved
from tools.checks.new.numpy_example import MODULE, SHOWN_WHOLE, add_numpy_module
from tools.checks.new.runner import NAME, Failed, docs_gaps, log, run, run_nox, tool
from tools.make.new import new
from tools.make.render import commit


def check_new(backend: str) -> None:
    """Generate `backend`'s project as NAME in a temporary folder, take its docs' steps, build and test it."""
    tmp = Path(tempfile.mkdtemp(prefix=f"test_new-{backend}-"))
    project = tmp / NAME
    new(backend, project, NAME)
    log(f"generated {NAME} ({backend}) in {project}")
    check_own_backend_only(project, backend)
    added = add_numpy_module(project, backend)
    for file, lines in added.items():
        log(f"{file}: {len(lines)} lines added or changed, as DEVELOPING.md says")
    if gaps := docs_gaps(project, added, SHOWN_WHOLE):
        raise Failed("the docs do not show what their steps write:\n  " + "\n  ".join(gaps))
    commit(project, f"Add {MODULE}: a module that cimports NumPy, as DEVELOPING.md says")
    if backend == "meson":
        check_refuses_uncommitted(project)
    # The project's own noxfile: `tests` installs it (a full build) into a
    # fresh venv and runs its tests; `build` makes the sdist, then the wheel
    # from it. pytest's report says which tests ran.
    junit = tmp / "junit.xml"
    run_nox(project, "tests", "build", env={"PYTEST_ADDOPTS": f"--junitxml={junit}"})
    check_results(junit)
    check_dists(project)
    check_twine(project)
    check_develop(project, backend)
    check_coverage(project, required={"_core", "_kernels", MODULE})
    check_strays(project)
    check_shared(project, backend)
    # Everything `new` wrote and the docs' steps added is committed, and
    # .gitignore covers what the builds and the editable install left behind.
    status = subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True, check=True)
    if status.stdout:
        msg = f"files not committed nor ignored in {project}:\n{status.stdout}"
        raise Failed(msg)
    # CI cannot run here: check what can be checked without GitHub.
    run(tool("cibuildwheel"), "--print-build-identifiers", str(project))
    workflow = project / ".github" / "workflows" / "ci.yml"
    run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflow))
    run(tool("check-jsonschema"), "--builtin-schema", "vendor.dependabot", str(project / ".github" / "dependabot.yml"))
    run(tool("zizmor"), "--offline", str(project))
    check_moved(tmp, backend)
    shutil.rmtree(tmp)  # kept when a step fails, to look at


def main(argv: list[str] | None = None) -> int:
    from tools.registry.backends import NAMES

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] not in NAMES:
        sys.exit(f"usage: python -m tools.checks.new BACKEND ({', '.join(NAMES)})")
    try:
        check_new(args[0])
    except Failed as failure:
        print(f"test_new({args[0]}) failed: {failure}", file=sys.stderr)
        return 1
    return 0
