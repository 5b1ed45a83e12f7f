"""The aarch64 wheels are aarch64 wheels, and pass the suite on aarch64 (an arm64 root under qemu-user).

    python -m tools.checks.aarch64 [PYTEST ARGS]

For every aarch64 variant built (build/aarch64/dist/, by tools/make/cross.py,
either way), without running it: every extension module is an ELF for
AArch64, named *.cpython-3XY-aarch64-linux-gnu.so, linking libgomp; the
wheel is tagged linux_aarch64 in its name and in its WHEEL file. A wrong
machine, suffix or tag fails here, as a backend that ignored the cross file
would produce. Then, in the arm64 root, all of them in one environment: the
selftest of each and the whole suite. Exit status 1 when anything fails.
"""

from __future__ import annotations

import subprocess
import sys

from tools.inspect.dists import aarch64_problems as problems
from tools.make import in_root
from tools.make.render import ROOT
from tools.registry.variants import select


def main(pytest_args: list[str]) -> int:
    variants = [v for v in select(target="aarch64") if v.wheels(ROOT)]
    if not variants:
        sys.exit("no aarch64 wheel: nox -s build_aarch64 first")
    wrong = []
    for v in variants:
        found = problems(v.wheels(ROOT)[-1])
        wrong += found
        print(f"{v.wheels(ROOT)[-1].name}: {'; '.join(found) or 'AArch64 modules, aarch64 suffix and tag, libgomp'}")
    target = in_root.ensure("aarch64")
    wheels = [f"{in_root.REPO}/{v.wheels(ROOT)[-1].relative_to(ROOT).as_posix()}" for v in variants]
    try:
        py = in_root.venv(target, "python3", *in_root.test_packages(), *wheels)
        for v in variants:
            in_root.run(target, [py, "-m", f"{v.name}.selftest"])
        in_root.run(target, [py, "-m", "pytest", *in_root.PYTEST, *pytest_args])
    except subprocess.CalledProcessError as error:
        wrong.append(in_root.failed(error))
    for problem in wrong:
        print(f"FAILED {problem}", file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
