# The loop each CPU runs, chosen at import ("baseline", "avx2"), and those this module holds.
KERNEL: str
KERNELS: tuple[str, ...]
