"""A machine with Python and nothing else: the repaired wheels run there, the wheels as built do not.

    python -m tools.checks.bare [PYTEST ARGS]

In a minimal Debian root (tools/registry/targets.py: Python, no compiler,
no libgomp1, no libomp5), first the negative control: each wheel as built
(gcc's and clang's, under dist/) installs, and its import fails with an
ImportError that names the OpenMP runtime it lacks. Then every repaired
wheel (build/repaired/, from `nox -s repair`) is installed into one
environment and the whole suite runs over them. Writes reports/bare.{json,md}.
Exit status 1 when an unrepaired wheel imports, fails otherwise, or the
suite fails.
"""

from __future__ import annotations

import re
import subprocess
import sys

from tools.inspect.host import machine
from tools.instruments.measure import md_table, write_report
from tools.make import in_root
from tools.make.render import ROOT
from tools.registry.variants import VERSION_SPECIFIC, select

# What the loader says when a library the module needs is not there.
MISSING = re.compile(r"ImportError: (lib\w+\.so[.\d]*): cannot open shared object file")


def main(pytest_args: list[str]) -> int:
    target = in_root.ensure("bare")
    listing = in_root.run(
        target, ["sh", "-c", "ls /usr/lib/*-linux-gnu | grep -E '^lib(g|i)?omp' || true"], capture=True
    )
    problems, rows = [], []
    built = [v for v in select(dist_root="dist", abi=VERSION_SPECIFIC) if v.wheels(ROOT)]
    repaired = [w for v in built for w in sorted((ROOT / "build" / "repaired" / v.folder).glob("*.whl"))]
    if not built or len(repaired) != len(built):
        sys.exit("build the wheels and repair them first: nox -s build build_clang repair")
    for v in built:
        wheel = f"{in_root.REPO}/{v.wheels(ROOT)[-1].relative_to(ROOT).as_posix()}"
        py = in_root.venv(target, "python3", "--no-deps", wheel)
        done = in_root.run(target, [py, "-c", f"import {v.name}"], check=False, capture=True)
        missing = MISSING.search(done.stderr or "")
        rows.append([v.label, "imports" if done.returncode == 0 else f"ImportError: {missing[1] if missing else '?'}"])
        if done.returncode == 0 or not missing:
            problems.append(
                f"{v.label} as built: expected an ImportError naming its OpenMP runtime, got {done.stderr!r}"
            )
    wheels = [f"{in_root.REPO}/{w.relative_to(ROOT).as_posix()}" for w in repaired]
    try:
        py = in_root.venv(target, "python3", *in_root.test_packages(), *wheels)
        in_root.run(target, [py, "-m", "pytest", *in_root.PYTEST, *pytest_args])
        suite = "passed"
    except subprocess.CalledProcessError as error:
        problems.append(f"the suite on the repaired wheels: {in_root.failed(error)}")
        suite = "FAILED"
    markdown = f"""# A bare machine (`nox -s test_bare`)

{target.why}; Debian {target.suite}, {target.arch}. OpenMP runtimes in the root: {", ".join(listing.stdout.split()) or "none"}.

{md_table([["wheel as built", "import there"], *rows])}

The repaired wheels ({len(repaired)}: `auditwheel repair`, the runtime vendored): the whole suite {suite}.
"""
    data = {"command": "nox -s test_bare", "machine": machine(), "as_built": dict(rows), "repaired_suite": suite}
    write_report(ROOT / "reports", "bare", data, markdown)
    print(markdown)
    for problem in problems:
        print(f"FAILED {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
