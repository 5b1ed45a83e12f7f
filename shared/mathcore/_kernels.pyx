# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: freethreading_compatible=True
"""The hot loop in C, compiled once per instruction set, and the copy this CPU runs.

Other modules cimport `block_sum` and `max_threads` (see _kernels.pxd).
Which copy runs is chosen once, at import: the fastest this CPU runs.
`KERNEL` names it, `KERNELS` lists those this module holds, and
MATHCORE_KERNEL=baseline|avx2|avx512 forces one (an error where the CPU
cannot run it).
"""

import os

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #else
    static int omp_get_max_threads(void) { return 1; }
    #endif

    /* The hot loop: the sum of sqrt(t * t) for t = x, x + 1, ..., n terms.
       Eight independent partial sums let the compiler keep eight square
       roots in flight (SIMD) without reordering any one floating-point sum.
       Counting in doubles avoids an int64 -> double conversion per term,
       which x86-64 cannot vectorize without AVX-512. */
    #include <math.h>
    #if defined(__GNUC__)
    #define MATHCORE_INLINE static inline __attribute__((always_inline))
    #else
    #define MATHCORE_INLINE static inline
    #endif
    MATHCORE_INLINE double mathcore_sum_body(double x, long long n) {
        double acc[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0}, total = 0.0;
        for (long long i = 0; i < n / 8; i++, x += 8.0)
            for (int k = 0; k < 8; k++)
                acc[k] += sqrt((x + k) * (x + k));
        for (long long i = 0; i < n % 8; i++, x += 1.0)
            total += sqrt(x * x);
        for (int k = 0; k < 8; k++)
            total += acc[k];
        return total;
    }

    /* Runtime dispatch: the same loop compiled three times, for the baseline
       of the wheel's platform and, on x86-64 with gcc or clang, for
       x86-64-v3 (AVX2 and FMA: four square roots per instruction instead of
       two) and x86-64-v4 (AVX-512: eight). Only these functions carry AVX2 or
       AVX-512 code, and each runs only after the CPU said yes: gcc's and
       clang's __builtin_cpu_supports report a feature only when the CPU has
       it and the OS saves its registers (XGETBV), so the wheel still imports
       and runs on any x86-64 CPU. MSVC and other architectures get the
       baseline. The compiler picks the vector width for each copy. */
    typedef double (*mathcore_kernel)(double, long long);
    static double mathcore_sum_baseline(double x, long long n) { return mathcore_sum_body(x, n); }
    #if defined(__GNUC__) && defined(__x86_64__)
    #define MATHCORE_DISPATCH 1
    __attribute__((target("avx2,fma")))
    static double mathcore_sum_avx2(double x, long long n) { return mathcore_sum_body(x, n); }
    __attribute__((target("avx2,fma,avx512f,avx512cd,avx512dq,avx512bw,avx512vl")))
    static double mathcore_sum_avx512(double x, long long n) { return mathcore_sum_body(x, n); }
    static int mathcore_cpu_has(int level) {
        __builtin_cpu_init();
        if (level >= 3 && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")))
            return 0;
        if (level >= 4 && !(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd")
                            && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw")
                            && __builtin_cpu_supports("avx512vl")))
            return 0;
        return 1;
    }
    #else
    #define MATHCORE_DISPATCH 0
    #define mathcore_sum_avx2 mathcore_sum_baseline
    #define mathcore_sum_avx512 mathcore_sum_baseline
    static int mathcore_cpu_has(int level) { return level < 3; }
    #endif
    """
    int omp_get_max_threads() noexcept nogil
    ctypedef double (*mathcore_kernel)(double, long long) noexcept nogil
    double mathcore_sum_baseline(double, long long) noexcept nogil
    double mathcore_sum_avx2(double, long long) noexcept nogil
    double mathcore_sum_avx512(double, long long) noexcept nogil
    int mathcore_cpu_has(int level) noexcept nogil
    const int MATHCORE_DISPATCH

cdef enum:
    CENTER = 1_000_000

cdef mathcore_kernel _kernel = mathcore_sum_baseline

# Each copy of the loop, the x86-64 level it needs, and its function.
_LEVEL = {"baseline": 1, "avx2": 3, "avx512": 4}
KERNELS = ("baseline", "avx2", "avx512") if MATHCORE_DISPATCH else ("baseline",)


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


cdef double block_sum(long long start, long long num) noexcept nogil:
    # The counter is exact while |pos - 1e6| <= 2**53; only a range within 1e6
    # of the -2**53 bound goes past it, where terms are rounded as the
    # n * 2**-53 bound allows.
    return _kernel(<double>(start + 1 - CENTER), num - start)


cdef int max_threads() noexcept nogil:
    return omp_get_max_threads()
