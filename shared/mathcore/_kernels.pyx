# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: freethreading_compatible=True
"""The hot loop (hand-written C: sum_sqrt.c), compiled once per instruction set, and the copy this CPU runs.

Other modules cimport `block_sum` and `max_threads` (see _kernels.pxd).
Which copy runs is chosen once, at import: the fastest this CPU runs.
`KERNEL` names it, `KERNELS` lists those this module holds, and
MATHCORE_KERNEL=baseline|avx2|avx512 forces one (an error where the CPU
cannot run it).
"""

import os

# The loop itself is hand-written C, compiled into this module only
# (sum_sqrt.c; each template lists it beside this module's name).
cdef extern from "sum_sqrt.h" nogil:
    ctypedef double (*mathcore_kernel)(double, long long) noexcept nogil
    double mathcore_sum_baseline(double, long long)
    double mathcore_sum_avx2(double, long long)
    double mathcore_sum_avx512(double, long long)
    int mathcore_dispatch()
    int mathcore_cpu_has(int level)
    int mathcore_max_threads()
    long mathcore_c_openmp()

cdef enum:
    CENTER = 1_000_000

cdef mathcore_kernel _kernel = mathcore_sum_baseline

# Each copy of the loop, the x86-64 level it needs, and its function.
_LEVEL = {"baseline": 1, "avx2": 3, "avx512": 4}
KERNELS = ("baseline", "avx2", "avx512") if mathcore_dispatch() else ("baseline",)


cdef mathcore_kernel _function(str name) noexcept:
    if name == "avx512":
        return mathcore_sum_avx512
    if name == "avx2":
        return mathcore_sum_avx2
    return mathcore_sum_baseline


def _choose():
    """The fastest kernel this CPU runs, or the one MATHCORE_KERNEL names (baseline, avx2, avx512)."""
    global _kernel
    asked = os.environ.get("MATHCORE_KERNEL", "auto")
    if asked not in ("auto", *_LEVEL):
        raise ValueError(f"MATHCORE_KERNEL must be auto, baseline, avx2 or avx512, not {asked!r}")
    if asked == "auto":
        name = next(k for k in reversed(KERNELS) if mathcore_cpu_has(_LEVEL[k]))
    elif asked in KERNELS and mathcore_cpu_has(_LEVEL[asked]):
        name = asked
    else:  # never run an instruction the CPU lacks: it would die of SIGILL
        raise ValueError(
            f"MATHCORE_KERNEL={asked}, but this module or CPU cannot run it: it holds {', '.join(KERNELS)}, "
            f"and the CPU (with its OS) supports {', '.join(k for k in KERNELS if mathcore_cpu_has(_LEVEL[k]))}"
        )
    _kernel = _function(name)
    return name


KERNEL = _choose()
# The _OPENMP that sum_sqrt.c was compiled with (0: none): build_info() reports it.
C_OPENMP = mathcore_c_openmp()


cdef double block_sum(long long start, long long num) noexcept nogil:
    # The counter is exact while |pos - 1e6| <= 2**53; only a range within 1e6
    # of the -2**53 bound goes past it, where terms are rounded as the
    # n * 2**-53 bound allows.
    return _kernel(<double>(start + 1 - CENTER), num - start)


cdef int max_threads() noexcept nogil:
    return mathcore_max_threads()
