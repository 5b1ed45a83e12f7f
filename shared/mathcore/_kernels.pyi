# The loop this CPU runs, chosen at import ("baseline", "avx2" or "avx512"), and those this module holds.
KERNEL: str
KERNELS: tuple[str, ...]
# The _OPENMP that the hand-written C (sum_sqrt.c) was compiled with; 0 without OpenMP.
C_OPENMP: int
