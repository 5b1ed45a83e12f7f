"""The newest CPythons: every backend built and the whole suite run on each Python of the `newest` root.

    python -m tools.checks.newest [PYTEST ARGS]

In a Debian unstable root (tools/registry/targets.py: CPython 3.14 and 3.15,
gcc 16): for each Python, a fresh virtual environment; each backend's sdist,
then a wheel from it, built there; those wheels installed with the abi3
wheels this machine built (dist/<backend>-abi3/, when `nox -s build_abi3`
made them: one cp312-abi3 wheel must install on every later CPython); the
whole suite run over them. Exit status 1 when a build or the suite fails.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

from tools.make import in_root
from tools.make.render import ROOT, render
from tools.registry.variants import ABI3, default_builds, select


def main(pytest_args: list[str]) -> int:
    target = in_root.ensure("newest")
    work = in_root.work(target.name)
    variants = default_builds()
    for v in variants:
        shutil.rmtree(work / "src" / v.folder, ignore_errors=True)
        render(v.backend, work / "src" / v.folder, v.name)  # a git repository: meson-python's sdist needs one
    abi3 = [f"{in_root.REPO}/{w.relative_to(ROOT).as_posix()}" for v in select(abi=ABI3) for w in v.wheels(ROOT)]
    try:
        in_root.run(target, ["sh", "-c", "gcc --version | head -1"])
        for python in target.pythons:
            build_py = in_root.venv(target, python, "build")
            dist = work / "dist" / python
            shutil.rmtree(dist, ignore_errors=True)
            for v in variants:
                src, out = in_root.in_work(work / "src" / v.folder), f"{in_root.WORK}/dist/{python}"
                in_root.run(target, [build_py, "-m", "build", "--outdir", out, src])
            wheels = [in_root.in_work(w) for w in sorted(dist.glob("*.whl"))]
            py = in_root.venv(target, python, *in_root.test_packages(), *wheels, *abi3)
            in_root.run(target, [py, "-m", "pytest", *in_root.PYTEST, *pytest_args])
    except subprocess.CalledProcessError as error:
        print(in_root.failed(error), file=sys.stderr)
        return 1
    print(f"newest: every backend built and the suite passed on {', '.join(target.pythons)} (abi3 wheels: {len(abi3)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
