import threading
from typing import Any, SupportsIndex

def _sum(start: int, num: int, stop: threading.Event | None = None) -> float: ...

# Sum sqrt((pos - 1e6)**2) for pos in start+1 ... num, without the GIL.
def do_math(start: SupportsIndex = 0, num: SupportsIndex = 10) -> float: ...

# The same sum on min(workers, cores) Python threads. workers=None: OpenMP's
# default team size (OMP_NUM_THREADS, threadpoolctl's limit, else the cores),
# at most the cores.
def do_math_threaded(
    start: SupportsIndex = 0, num: SupportsIndex = 10, workers: SupportsIndex | None = None
) -> float: ...

# The same sum as an OpenMP prange reduction, threads as for do_math_threaded.
# In a process made by fork() it runs on Python threads instead: GNU libgomp's
# thread pool does not survive fork().
def do_math_parallel(
    start: SupportsIndex = 0, num: SupportsIndex = 10, workers: SupportsIndex | None = None
) -> float: ...

# How this module was built (backend, OpenMP, Limited API, Cython, compiler, kernels) and
# what it uses in this process (default workers, parallel runner, kernel).
def build_info() -> dict[str, Any]: ...
