# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: freethreading_compatible=True
"""GIL-free sums of sqrt((pos - 1e6)**2) for pos in start+1 ... num: the public functions.

Semantics, argument checks and error messages are those of `mathcore.twin`;
the loop itself, compiled for this CPU, comes from `_kernels` (a cimport).
Every loop runs in chunks with the GIL released; between chunks it takes
the GIL back for a moment to let Ctrl-C and a stop flag through.
"""

import os
import sys

from cpython.exc cimport PyErr_CheckSignals
from cython.parallel cimport prange

from ._kernels cimport block_sum, max_threads

from .twin import _as_bound, _as_workers, _default_workers, _run_threaded

cdef extern from *:
    """
    #ifdef _OPENMP
    #define MATHCORE_OPENMP _OPENMP
    #else
    #define MATHCORE_OPENMP 0
    #endif
    #ifdef Py_LIMITED_API
    #define MATHCORE_LIMITED_API Py_LIMITED_API
    #else
    #define MATHCORE_LIMITED_API 0
    #endif
    #ifdef __VERSION__
    #define MATHCORE_COMPILER __VERSION__
    #else
    #define MATHCORE_COMPILER "unknown"
    #endif
    #ifdef __OPTIMIZE__
    #define MATHCORE_OPTIMIZE 1
    #else
    #define MATHCORE_OPTIMIZE 0
    #endif
    #ifdef __NO_MATH_ERRNO__
    #define MATHCORE_NO_MATH_ERRNO 1
    #else
    #define MATHCORE_NO_MATH_ERRNO 0
    #endif
    #ifdef __FAST_MATH__
    #define MATHCORE_FAST_MATH 1
    #else
    #define MATHCORE_FAST_MATH 0
    #endif
    #ifdef __AVX2__
    #define MATHCORE_AVX2 1
    #else
    #define MATHCORE_AVX2 0
    #endif
    """
    const int MATHCORE_OPENMP
    const char *MATHCORE_COMPILER
    const long MATHCORE_LIMITED_API
    const int MATHCORE_OPTIMIZE, MATHCORE_NO_MATH_ERRNO, MATHCORE_FAST_MATH, MATHCORE_AVX2
    const long CYTHON_HEX_VERSION

cdef enum:
    # Terms per block: the unit of work one OpenMP thread takes at a time.
    BLOCK = 1 << 14
    # Terms per GIL-free stretch (5-25 ms): long enough that taking the GIL
    # back costs little even when a busy Python thread holds it for its 5 ms
    # switch interval, short enough that Ctrl-C lands well within a second.
    CHUNK = 1 << 24


cdef double _serial(long long start, long long num) noexcept nogil:
    cdef double total = 0.0
    while start < num:
        total += block_sum(start, min(start + BLOCK, num))
        start += BLOCK
    return total


cdef double _parallel(long long start, long long num, int workers) noexcept nogil:
    cdef long long b, lo, nblocks = (num - start + BLOCK - 1) // BLOCK
    cdef double total = 0.0
    for b in prange(nblocks, num_threads=workers, schedule="static"):
        lo = start + b * BLOCK
        # block_sum comes through _kernels' table of function pointers, so it
        # is never inlined into prange's outlined body, where gcc was seen to
        # lose the SIMD square root.
        total += block_sum(lo, min(lo + BLOCK, num))
    return total


def _sum(long long start, long long num, stop=None):
    """do_math without argument checks; stops early once `stop` is set."""
    cdef double total = 0.0
    cdef long long hi
    while start < num:
        hi = start + min(num - start, <long long>CHUNK)
        with nogil:
            total += _serial(start, hi)
        start = hi
        PyErr_CheckSignals()
        if stop is not None and stop.is_set():
            break
    return total


def do_math(start=0, num=10):
    """Sum sqrt((pos - 1e6)**2) for pos in start+1 ... num, without the GIL."""
    return _sum(_as_bound("start", start), _as_bound("num", num))


def _openmp_default():
    """OpenMP's default team size: OMP_NUM_THREADS, threadpoolctl's limit, else the cores."""
    return max_threads() if MATHCORE_OPENMP else _default_workers()


# GNU libgomp's thread pool does not survive fork(): in the child, the next
# OpenMP team started by the thread that forked waits forever for pool threads
# that no longer exist. Any library of the parent may have started that pool,
# so a forked process runs do_math_parallel on Python threads instead, with
# do_math_threaded's runner: the same answer, Ctrl-C still works, no hang.
cdef bint _forked = False


def _after_fork_in_child():
    global _forked
    _forked = True


if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork
    os.register_at_fork(after_in_child=_after_fork_in_child)


def do_math_threaded(start=0, num=10, workers=None):
    """The same sum, split into pieces run in Python threads.

    The threads: min(workers, cores); for workers=None, OpenMP's default
    team size (OMP_NUM_THREADS, threadpoolctl's limit), at most the cores.
    """
    start, num = _as_bound("start", start), _as_bound("num", num)
    return _run_threaded(_sum, start, num, _as_workers(workers, _openmp_default))


def do_math_parallel(start=0, num=10, workers=None):
    """The same sum with an OpenMP prange reduction.

    The threads: as for do_math_threaded, and at most one per 2**14 terms.
    In a process made by fork() the loop runs on Python threads instead.
    """
    cdef long long lo = _as_bound("start", start)
    cdef long long num_ = _as_bound("num", num)
    cdef long long hi, step
    # A thread per block at most: more would only wait for work.
    cdef int threads = min(_as_workers(workers, _openmp_default), max(1, (num_ - lo) // BLOCK))
    cdef double total = 0.0
    if _forked and MATHCORE_OPENMP:
        return _run_threaded(_sum, lo, num_, threads)
    step = <long long>CHUNK * threads
    while lo < num_:
        hi = lo + min(num_ - lo, step)
        with nogil:
            total += _parallel(lo, hi, threads)
        lo = hi
        PyErr_CheckSignals()
    return total


def build_info():
    """How this module was built: backend, OpenMP, Cython, compiler facts.

    "openmp_threads" is OpenMP's default team size (OMP_NUM_THREADS,
    threadpoolctl's limit, else the cores); "default_workers" is what
    workers=None means here and now (that, at most the cores);
    "parallel_runner" is what do_math_parallel runs on in this process:
    "openmp", "threads" (in a process made by fork) or "serial" (no OpenMP);
    "kernel" is the loop chosen for this CPU at import, one of "kernels",
    those the module holds: "baseline" and, on x86-64 with gcc or clang, "avx2" and "avx512";
    "openmp_version_c" is the _OPENMP that the hand-written C (sum_sqrt.c) was
    compiled with: the build's OpenMP flags must reach it as they reach Cython's C;
    "shared_utility" is whether Cython's utility code lives in a module of its
    own, <package>._cyutility, which this module imported (else every module
    has its own copy);
    "limited_api" is the oldest CPython an abi3 build runs on ("3.12"), or
    None for a build for one Python version.
    """
    from importlib.metadata import PackageNotFoundError, distribution, packages_distributions

    from ._kernels import C_OPENMP, KERNEL, KERNELS

    backend = "unknown"
    package = __name__.rpartition(".")[0]
    # Python 3.10's packages_distributions() reads only top_level.txt, which
    # meson-python and scikit-build-core do not write, and an editable install
    # records its loader, not the package: then look for the distribution of
    # the same name, as every build of this core has.
    for dist in packages_distributions().get(package) or [package]:
        try:
            wheel = distribution(dist).read_text("WHEEL") or ""
        except PackageNotFoundError:  # not installed from a wheel
            continue
        for line in wheel.splitlines():
            if line.startswith("Generator:"):
                backend = line.partition(":")[2].split()[0]
    v = CYTHON_HEX_VERSION
    limited = MATHCORE_LIMITED_API
    return {
        "backend": backend,
        "openmp": MATHCORE_OPENMP != 0,
        "openmp_version": MATHCORE_OPENMP,
        "openmp_version_c": C_OPENMP,
        "openmp_threads": max_threads(),
        "default_workers": _as_workers(None, _openmp_default),
        "parallel_runner": ("threads" if _forked else "openmp") if MATHCORE_OPENMP else "serial",
        "kernel": KERNEL,
        "kernels": list(KERNELS),
        "shared_utility": f"{package}._cyutility" in sys.modules,
        "limited_api": f"{limited >> 24}.{(limited >> 16) & 0xFF}" if limited else None,
        "cython": f"{v >> 24}.{(v >> 16) & 0xFF}.{(v >> 8) & 0xFF}",
        "compiler": MATHCORE_COMPILER.decode(),
        "flags": {
            "optimize": bool(MATHCORE_OPTIMIZE),
            "no_math_errno": bool(MATHCORE_NO_MATH_ERRNO),
            "fast_math": bool(MATHCORE_FAST_MATH),
            "avx2": bool(MATHCORE_AVX2),
        },
    }
