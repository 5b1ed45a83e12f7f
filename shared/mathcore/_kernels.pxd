# The GIL-free building blocks that the other compiled modules cimport
# (`from ._kernels cimport block_sum`): Cython calls them through a table of
# C function pointers that _kernels exports, so they compile once, here.

# Sum of sqrt((pos - 1e6)**2) for pos in start+1 ... num, for one block of
# work (num - start <= 2**14), with the loop compiled for this CPU.
cdef double block_sum(long long start, long long num) noexcept nogil

# OpenMP's default team size: OMP_NUM_THREADS, threadpoolctl's limit, else
# the cores; 1 in a build without OpenMP.
cdef int max_threads() noexcept nogil
