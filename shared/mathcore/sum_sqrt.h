/* The hot loop of _kernels, in plain C (sum_sqrt.c): compiled into that one
   module beside the C that Cython writes, and declared to Cython by the
   `cdef extern from "sum_sqrt.h"` block of _kernels.pyx. */
#ifndef MATHCORE_SUM_SQRT_H
#define MATHCORE_SUM_SQRT_H

/* The sum of sqrt(t * t) for t = x, x + 1, ..., n terms. */
typedef double (*mathcore_kernel)(double x, long long n);

/* The loop compiled for the platform's baseline, for x86-64-v3 (AVX2, FMA)
   and x86-64-v4 (AVX-512); where the compiler cannot dispatch (not x86-64,
   or not gcc or clang), all three are the baseline. */
double mathcore_sum_baseline(double x, long long n);
double mathcore_sum_avx2(double x, long long n);
double mathcore_sum_avx512(double x, long long n);

/* 1 when the compiler built the AVX2 and AVX-512 copies, else 0. */
int mathcore_dispatch(void);
/* Whether this CPU, with its OS, runs x86-64 level `level` (1, 3 or 4). */
int mathcore_cpu_has(int level);

/* OpenMP's default team size, 1 without OpenMP; and the _OPENMP this file
   was compiled with (0: none), which shows that the build's OpenMP flags
   reach hand-written C too, not only Cython's. */
int mathcore_max_threads(void);
long mathcore_c_openmp(void);

#endif
