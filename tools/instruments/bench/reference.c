/* The C reference for `nox -s bench`: the loop of shared/mathcore/sum_sqrt.c,
   compiled with this file, driven here by a plain OpenMP loop and compiled for
   each instruction-set level (portable, x86-64-v3, x86-64-v4, -march=native):
   the builds' speed has a yardstick measured in the same run, with the very
   same C. */
#include "sum_sqrt.h"

#define CENTER 1000000LL
#define BLOCK (1LL << 14)

/* The baseline copy, compiled with this build's -march: another file, so it
   is not inlined into the OpenMP-outlined loop body, where gcc was seen to
   lose the SIMD square root. */
static double block(double x, long long n) { return mathcore_sum_baseline(x, n); }

double reference_sum(long long start, long long num, int threads) {
    long long nblocks = num > start ? (num - start + BLOCK - 1) / BLOCK : 0;
    double total = 0.0;
#pragma omp parallel for reduction(+ : total) num_threads(threads) schedule(static)
    for (long long b = 0; b < nblocks; b++) {
        long long lo = start + b * BLOCK, hi = lo + BLOCK < num ? lo + BLOCK : num;
        total += block((double)(lo + 1 - CENTER), hi - lo);
    }
    return total;
}
