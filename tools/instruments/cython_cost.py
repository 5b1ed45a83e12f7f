"""What one more `.pyx` costs Cython: in a process of its own (ninja's way) or in a running one (cythonize's).

meson-python and scikit-build-core run one `cython` process per module; the
setuptools template's `cythonize` translates every module in a worker that
stays up. scale's phases show the difference (about a second per module
against a tenth); this times its parts on one rendered template, each the
median of --reps runs, one after the other:

- start: a fresh interpreter importing Cython's compiler, translating nothing;
- one process: `cython` on one module (_core.pyx: it cimports _kernels.pxd),
  what every ninja job pays;
- in one process: N copies of that module translated by one `cythonize`
  call with one worker, per module.

    python -m tools.instruments.cython_cost [--modules 16] [--reps 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from tools.instruments import steps
from tools.make.build import run
from tools.registry.backends import PLACEHOLDER

CYTHONIZE = """
import sys, time
from Cython.Build import cythonize
start = time.perf_counter()
cythonize(sys.argv[1:], nthreads=0, quiet=True, force=True, compiler_directives={"language_level": 3})
print(time.perf_counter() - start)
"""


def measure(modules: int, reps: int) -> dict[str, float]:
    """Median seconds of each part; 'in one process' is per module."""
    with tempfile.TemporaryDirectory(prefix="cython-cost-") as work:
        name = f"{PLACEHOLDER}_meson"
        project = steps.fresh("meson", Path(work), name, modules=modules)
        package = project / "src" / name
        pyx = sorted(str(p) for p in package.glob("_core*.pyx"))
        py = sys.executable
        start = [run([py, "-c", "import Cython.Compiler.Main"])[0] for _ in range(reps)]
        one = [run([py, "-m", "cython", "-3", "--force", pyx[0]], cwd=project / "src")[0] for _ in range(reps)]
        batch = [float(run([py, "-c", CYTHONIZE, *pyx], cwd=project / "src")[1].split()[-1]) for _ in range(reps)]
    return {
        "start_s": statistics.median(start),
        "one_process_s": statistics.median(one),
        "in_one_process_per_module_s": statistics.median(batch) / len(pyx),
        "modules": len(pyx),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tools.instruments.cython_cost", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--modules", type=int, default=16, help="copies of _core.pyx for the cythonize batch")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    found = measure(args.modules, args.reps)
    print(
        f"median of {args.reps}: interpreter + import of Cython's compiler {found['start_s']:.2f} s; "
        f"`cython` on one module, its own process {found['one_process_s']:.2f} s; "
        f"{found['modules']} modules in one cythonize worker: {found['in_one_process_per_module_s']:.3f} s each"
    )


if __name__ == "__main__":
    main()
