"""What bench times: every installed build, the twin, the C reference (reference.c), NumPy and Numba."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tools.inspect.elf import count_square_roots, square_roots
from tools.inspect.host import best_level, has_level
from tools.make.render import ROOT
from tools.registry.backends import PLACEHOLDER
from tools.registry.variants import VARIANTS

HERE = Path(__file__).resolve().parent
CENTER = 1_000_000


@dataclass
class Impl:
    name: str  # e.g. "meson do_math_parallel x2"
    family: str  # a variant's label ("meson", "meson_clang"), "twin", "C portable", "numpy", "numba"
    kernel: str  # "serial", "threads", "parallel", "vectorized"
    workers: int
    func: Callable[[int, int], float] = field(repr=False)
    size: int = 0
    answer: str = ""  # "exact", "bounded" or "WRONG: ..."
    # The square-root instructions in its machine code, as read there (objdump,
    # Numba's inspect_asm), or why not read; "none" marks a loop that skipped the work.
    square_roots: str = "not read"
    times: list[float] = field(default_factory=list)


def numpy_impls() -> list[Impl]:
    """NumPy as a user writes it (np.sqrt of the square), and with the shortcut written out (np.abs)."""
    import numpy as np

    def chunked(term):
        def numpy_sum(start: int, num: int) -> float:
            # Chunked so memory stays bounded; np.sum's pairwise summation is
            # exact here for the same reason the loops are (integer terms).
            total, chunk = 0.0, 1 << 20
            for lo in range(start, num, chunk):
                x = np.arange(lo + 1 - CENTER, min(lo + chunk, num) + 1 - CENTER, dtype=np.float64)
                total += float(term(x).sum())
            return total

        return numpy_sum

    return [
        Impl("numpy chunked", "numpy", "vectorized", 1, chunked(lambda x: np.sqrt(x * x)), square_roots="np.sqrt"),
        # sqrt(x * x) is |x| for these terms: the shortcut a compiler may take, in plain sight.
        Impl("numpy np.abs", "numpy abs", "vectorized", 1, chunked(np.abs), square_roots="none (np.abs)"),
    ]


def numba_impls() -> list[Impl]:
    """Numba as written for the lecture's loop, and with fastmath=True, serial and parallel."""
    import math

    import numba

    def serial(start, num):
        total = 0.0
        for pos in range(start + 1, num + 1):
            x = float(pos - CENTER)
            total += math.sqrt(x * x)
        return total

    def parallel(start, num):
        total = 0.0
        for pos in numba.prange(start + 1, num + 1):
            x = float(pos - CENTER)
            total += math.sqrt(x * x)
        return total

    threads = numba.get_num_threads()
    impls = []
    for fastmath in (False, True):
        family = "numba fastmath" if fastmath else "numba"
        one = numba.njit(cache=False, fastmath=fastmath)(serial)
        many = numba.njit(parallel=True, cache=False, fastmath=fastmath)(parallel)
        impls.append(Impl(f"{family} njit", family, "serial", 1, one))
        impls.append(Impl(f"{family} parallel x{threads}", family, "parallel", threads, many))
    return impls


def numba_square_roots(impl: Impl) -> str:
    """The square-root instructions in a compiled Numba function's machine code (after its first call)."""
    return square_roots_text(count_square_roots("\n".join(impl.func.inspect_asm().values())))


def square_roots_text(counts: dict[str, int] | None) -> str:
    """ "none" when the code takes no square root (the work was skipped), else each instruction and its count."""
    if counts is None:
        return "not read (not ELF, or no objdump)"
    return ", ".join(f"{k} x{n}" for k, n in counts.items()) or "none"


# The C reference (reference.c): the loop of the core's hand-written C,
# shared/mathcore/sum_sqrt.c, the very file the builds compile into _kernels,
# driven by a plain OpenMP loop and compiled portable, for x86-64-v3, for
# x86-64-v4 and for this CPU (-march=native): what each build's kernel is
# measured against. The level each needs of the CPU.
REFERENCE_FLAGS = {
    "portable": ([], None),
    "x86-64-v3": (["-march=x86-64-v3"], "x86-64-v3"),
    "x86-64-v4": (["-march=x86-64-v4"], "x86-64-v4"),
    "native": (["-march=native"], None),
}
KERNEL_C = ROOT / "shared" / PLACEHOLDER / "sum_sqrt.c"


def reference_impls(cores: int, work: Path) -> list[Impl]:
    """The C reference, compiled with $CC (default cc) for each level the compiler and this CPU accept."""
    import ctypes
    import shlex
    import subprocess

    cc = shlex.split(os.environ.get("CC", "cc"))
    impls = []
    for label, (flags, level) in REFERENCE_FLAGS.items():
        # A CPU without the instructions would die of SIGILL: ask it first.
        if level and not has_level(level):
            print(f"C reference {label}: this CPU lacks it, not run")
            continue
        lib = work / f"reference-{label}.so"
        cmd = [*cc, "-shared", "-fPIC", "-O3", "-fno-math-errno", "-fopenmp", *flags, f"-I{KERNEL_C.parent}"]
        cmd += ["-o", str(lib), str(HERE / "reference.c"), str(KERNEL_C)]
        try:
            subprocess.run(cmd, check=True, capture_output=True, text=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"C reference {label}: not built ({' '.join(cmd)}: {getattr(exc, 'stderr', exc) or exc})")
            continue
        function = ctypes.CDLL(str(lib)).reference_sum
        function.restype, function.argtypes = ctypes.c_double, [ctypes.c_longlong, ctypes.c_longlong, ctypes.c_int]
        roots = square_roots_text(square_roots(lib))
        name = f"C {label}" if label != "native" else f"C native ({best_level()})"
        for w in sorted({1, cores}):
            impls.append(
                Impl(
                    f"{name} x{w}",
                    f"C {label}",
                    "parallel",
                    w,
                    lambda a, b, f=function, w=w: f(a, b, w),
                    square_roots=roots,
                )
            )
    return impls


def quiet_idle_libomp() -> str | None:
    """With gcc's and clang's builds in one process, make LLVM's idle OpenMP workers sleep at once.

    gcc's builds run on libgomp, clang's on libomp: two thread pools. After a
    parallel region libomp's workers spin for 200 ms (KMP_BLOCKTIME), and the
    next libgomp team then shares the cores with them: in quick bench runs on
    2 cores here, gcc's do_math_parallel x2 measured 0.57-0.61 ns/element (and
    once 39) against 0.31 alone, and 0.31 again with KMP_BLOCKTIME=0
    (OMP_WAIT_POLICY=passive did not help). Set before the runtimes load; one
    already set is kept. Returns the setting used, for the report.
    """
    compilers = {v.compiler for v in VARIANTS if importlib.util.find_spec(v.name) is not None}
    if len(compilers) < 2:
        return None
    os.environ.setdefault("KMP_BLOCKTIME", "0")
    return f"KMP_BLOCKTIME={os.environ['KMP_BLOCKTIME']}"


def collect(peers: bool, work: Path) -> tuple[list[Impl], dict, object, int]:
    """Every implementation to time, the build_info of each build, the twin, and the cores used."""
    modules = {}
    for v in VARIANTS:  # every variant installed here, gcc's and clang's
        try:
            modules[v.label] = importlib.import_module(v.name)
        except ImportError:
            continue
    if not modules:
        sys.exit("no build is installed: run `nox -s build` (or build_<backend>, build_clang) first")
    twin = next(iter(modules.values())).twin
    cores = twin._available_cores()  # "all cores" exactly as workers=None means it
    impls, builds = [], {}
    for backend, mod in modules.items():
        builds[backend] = mod.build_info()
        # The loop is in _kernels: every function of the build runs its machine code.
        roots = square_roots_text(square_roots(Path(importlib.import_module(f"{mod.__name__}._kernels").__file__)))
        builds[backend]["square_roots"] = roots
        impls.append(Impl(f"{backend} do_math", backend, "serial", 1, mod.do_math, square_roots=roots))
        for w in sorted({1, cores}):
            for fname, kernel in (("do_math_threaded", "threads"), ("do_math_parallel", "parallel")):
                f = getattr(mod, fname)
                impls.append(
                    Impl(
                        f"{backend} {fname} x{w}",
                        backend,
                        kernel,
                        w,
                        lambda a, b, f=f, w=w: f(a, b, w),
                        square_roots=roots,
                    )
                )
    impls.append(Impl("twin do_math", "twin", "serial", 1, twin.do_math, square_roots="math.sqrt"))
    impls.append(
        Impl(
            f"twin do_math_threaded x{cores}",
            "twin",
            "threads",
            cores,
            lambda a, b: twin.do_math_threaded(a, b, cores),
            square_roots="math.sqrt",
        )
    )
    impls += reference_impls(cores, work)
    if peers:
        impls += numpy_impls()
        impls += numba_impls()
    return impls, builds, twin, cores
