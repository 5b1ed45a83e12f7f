/* The C reference for `nox -s bench`: the kernel of shared/mathcore/_core.pyx
   as plain C with OpenMP, compiled by tools/bench.py once with portable flags
   and once for x86-64-v3, so the builds' speed has a yardstick measured in
   the same run. */
#include <math.h>

#define CENTER 1000000LL
#define BLOCK (1LL << 14)

/* Not inlined into the OpenMP-outlined loop body, where gcc was seen to
   lose the SIMD square root. */
__attribute__((noinline)) static double block(double x, long long n) {
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
