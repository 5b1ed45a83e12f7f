/* The hot loop, once per instruction set, and the CPU check that picks one.

   Eight independent partial sums let the compiler keep eight square roots in
   flight (SIMD) without reordering any one floating-point sum. Counting in
   doubles avoids an int64 -> double conversion per term, which x86-64 cannot
   vectorize without AVX-512. The build compiles this file with
   -fno-math-errno, so that sqrt() is one instruction, and with its OpenMP
   flags, as it does the C that Cython writes. */
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "sum_sqrt.h"

#if defined(__GNUC__)
#define MATHCORE_INLINE static inline __attribute__((always_inline))
#else
#define MATHCORE_INLINE static inline
#endif

MATHCORE_INLINE double sum_body(double x, long long n) {
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

double mathcore_sum_baseline(double x, long long n) { return sum_body(x, n); }

/* Runtime dispatch: on x86-64 with gcc or clang the same loop is compiled
   again for x86-64-v3 (AVX2 and FMA: four square roots per instruction
   instead of two) and x86-64-v4 (AVX-512: eight). Only these functions carry
   AVX2 or AVX-512 code, and each runs only after the CPU said yes: gcc's and
   clang's __builtin_cpu_supports report a feature only when the CPU has it
   and the OS saves its registers (XGETBV), so the wheel still imports and
   runs on any x86-64 CPU. MSVC and other architectures get the baseline. The
   compiler picks the vector width for each copy. */
#if defined(__GNUC__) && defined(__x86_64__)
__attribute__((target("avx2,fma")))
double mathcore_sum_avx2(double x, long long n) { return sum_body(x, n); }

__attribute__((target("avx2,fma,avx512f,avx512cd,avx512dq,avx512bw,avx512vl")))
double mathcore_sum_avx512(double x, long long n) { return sum_body(x, n); }

int mathcore_dispatch(void) { return 1; }

int mathcore_cpu_has(int level) {
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
double mathcore_sum_avx2(double x, long long n) { return sum_body(x, n); }
double mathcore_sum_avx512(double x, long long n) { return sum_body(x, n); }
int mathcore_dispatch(void) { return 0; }
int mathcore_cpu_has(int level) { return level < 3; }
#endif

#ifdef _OPENMP
int mathcore_max_threads(void) { return omp_get_max_threads(); }
long mathcore_c_openmp(void) { return _OPENMP; }
#else
int mathcore_max_threads(void) { return 1; }
long mathcore_c_openmp(void) { return 0; }
#endif
