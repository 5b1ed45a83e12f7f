# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: freethreading_compatible=True
"""The hot loop in C, compiled once per instruction set, and the copy this CPU runs.

Other modules cimport `block_sum` and `max_threads` (see _kernels.pxd).
Which copy runs is chosen once, at import: `KERNEL` names it, `KERNELS`
lists those this module holds, and MATHCORE_KERNEL=baseline forces the
portable one.
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

    /* Runtime dispatch: the same loop compiled twice, for the baseline of the
       wheel's platform and, on x86-64 with gcc or clang, for AVX2 and FMA
       (x86-64-v3: four square roots per instruction instead of two). Only
       this one function carries AVX2 code, and it runs only after the CPU
       said yes (mathcore_cpu_has_avx2), so the wheel still imports and runs
       on a CPU without AVX2. MSVC and other architectures get the baseline. */
    typedef double (*mathcore_kernel)(double, long long);
    static double mathcore_sum_baseline(double x, long long n) { return mathcore_sum_body(x, n); }
    #if defined(__GNUC__) && defined(__x86_64__)
    #define MATHCORE_DISPATCH 1
    __attribute__((target("avx2,fma")))
    static double mathcore_sum_avx2(double x, long long n) { return mathcore_sum_body(x, n); }
    static int mathcore_cpu_has_avx2(void) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    #else
    #define MATHCORE_DISPATCH 0
    #define mathcore_sum_avx2 mathcore_sum_baseline
    static int mathcore_cpu_has_avx2(void) { return 0; }
    #endif
    """
    int omp_get_max_threads() noexcept nogil
    ctypedef double (*mathcore_kernel)(double, long long) noexcept nogil
    double mathcore_sum_baseline(double, long long) noexcept nogil
    double mathcore_sum_avx2(double, long long) noexcept nogil
    int mathcore_cpu_has_avx2() noexcept nogil
    const int MATHCORE_DISPATCH

cdef enum:
    CENTER = 1_000_000

cdef mathcore_kernel _kernel = mathcore_sum_baseline

KERNELS = ("baseline", "avx2") if MATHCORE_DISPATCH else ("baseline",)


def _choose():
    """The kernel for this CPU, unless MATHCORE_KERNEL=baseline asks for the portable one."""
    global _kernel
    asked = os.environ.get("MATHCORE_KERNEL", "auto")
    if asked not in ("auto", "baseline"):
        raise ValueError(f"MATHCORE_KERNEL must be auto or baseline, not {asked!r}")
    if asked == "auto" and MATHCORE_DISPATCH and mathcore_cpu_has_avx2():
        _kernel = mathcore_sum_avx2
        return "avx2"
    _kernel = mathcore_sum_baseline
    return "baseline"


KERNEL = _choose()


cdef double block_sum(long long start, long long num) noexcept nogil:
    # The counter is exact while |pos - 1e6| <= 2**53; only a range within 1e6
    # of the -2**53 bound goes past it, where terms are rounded as the
    # n * 2**-53 bound allows.
    return _kernel(<double>(start + 1 - CENTER), num - start)


cdef int max_threads() noexcept nogil:
    return omp_get_max_threads()
