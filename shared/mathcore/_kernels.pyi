# The loop this CPU runs, chosen at import ("baseline", "avx2" or "avx512"), and those this module holds.
KERNEL: str
KERNELS: tuple[str, ...]
