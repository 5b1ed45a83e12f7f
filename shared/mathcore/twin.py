"""Pure-Python twin of the compiled kernels: the reference semantics.

Every function here has the same signature, result and errors as the
compiled function of the same name in ``mathcore``.  The compiled module
imports the argument checks and the thread runner from here, so both raise
the same exceptions with the same messages by construction.

The sum: pos runs over start+1 ... num (nothing when num <= start) and each
term is sqrt((pos - 1_000_000)**2).  For |pos - 1e6| < 2**53 each term is
exactly |pos - 1e6| in double precision, so while the total stays below
2**53 every summation order gives the exact integer that `exact` computes in
closed form.
"""

from __future__ import annotations

import math
import operator
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import pairwise
from typing import SupportsIndex

__all__ = ["do_math", "do_math_parallel", "do_math_threaded", "exact"]

CENTER = 1_000_000
# Bounds for start and num. A double holds every integer up to 2**53, so inside
# them each term is exact (or, within 1e6 of -2**53, rounded once), and no C
# integer can overflow: the lecture's bug.
LIMIT = 2**53
# Terms summed between two looks at the stop flag of a threaded call.
_CHUNK = 1 << 16
# Seconds the caller's thread waits for the workers at a time before it runs
# Python code again, where a pending signal (Ctrl-C) is handled: an untimed
# wait is not always interrupted by SIGINT (on Windows before 3.14,
# python/cpython#125541; a join on 3.14t, python/cpython#150873). Once every
# supported Python has both fixes, _wait can call event.wait() untimed.
_WAKE = 0.1


def _as_bound(name: str, value: SupportsIndex) -> int:
    try:
        value = operator.index(value)
    except TypeError:
        msg = f"{name} must be an integer, not {type(value).__name__}"
        raise TypeError(msg) from None
    if not -LIMIT <= value <= LIMIT:
        msg = f"{name}={value} is outside [-2**53, 2**53]"
        raise OverflowError(msg)
    return value


def _available_cores() -> int:
    if hasattr(os, "process_cpu_count"):  # Python >= 3.13
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):  # respects taskset and cgroups cpusets
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _omp_num_threads() -> int | None:
    """OMP_NUM_THREADS as OpenMP reads it: the first entry of its list, if a positive integer."""
    first = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    return int(first) if first.isdigit() and int(first) > 0 else None


def _default_workers() -> int:
    """What workers=None means without an OpenMP runtime to ask: OMP_NUM_THREADS, else the cores."""
    return _omp_num_threads() or _available_cores()


def _as_workers(workers: SupportsIndex | None, default: Callable[[], int] = _default_workers) -> int:
    """The threads a call runs on: `workers`, or `default()` for None; never more than the cores.

    Threads beyond the cores only wait their turn in these CPU-bound loops, and
    each one costs memory: the cap keeps a huge `workers` harmless.
    """
    if workers is None:
        return max(1, min(default(), _available_cores()))
    try:
        workers = operator.index(workers)
    except TypeError:
        msg = f"workers must be an integer or None, not {type(workers).__name__}"
        raise TypeError(msg) from None
    if workers < 1:
        msg = f"workers must be >= 1, got {workers}"
        raise ValueError(msg)
    return min(workers, _available_cores())


def _pieces(start: int, num: int, workers: int) -> list[tuple[int, int]]:
    """Split (start, num] into at most `workers` contiguous, non-empty pieces."""
    n = max(0, num - start)
    count = max(1, min(workers, n))
    cuts = [start + n * i // count for i in range(count + 1)]
    return list(pairwise(cuts))


def _run_threaded(
    kernel: Callable[[int, int, threading.Event], float],
    start: int,
    num: int,
    workers: int,
) -> float:
    """Sum kernel(lo, hi, stop) over contiguous pieces, one Python thread each.

    On an exception in a worker or in the caller (Ctrl-C included, even while
    the threads start) the stop flag is set and the workers are joined before
    the exception propagates: no thread is left summing.
    """
    pieces = _pieces(start, num, workers)
    stop = threading.Event()
    results = [0.0] * len(pieces)
    errors: list[BaseException] = []
    ended = [threading.Event() for _ in pieces]

    def work(i: int, lo: int, hi: int) -> None:
        try:
            results[i] = kernel(lo, hi, stop)
        except BaseException as exc:  # noqa: BLE001 (raised again in the caller's thread)
            errors.append(exc)
            stop.set()
        finally:
            ended[i].set()

    threads = [threading.Thread(target=work, args=(i, lo, hi)) for i, (lo, hi) in enumerate(pieces)]
    started: list[threading.Thread] = []
    try:
        with _sigint_held():
            for thread in threads:
                thread.start()
                started.append(thread)
        _wait(ended[: len(started)])
    finally:
        stop.set()  # the workers stop within one chunk
        _wait(ended[: len(started)])
        # Each has returned from work(): these joins end at once. No signal
        # interrupts them, which on Python <= 3.12 could mark a running thread
        # dead and leave it behind (python/cpython#90882).
        for thread in started:
            thread.join()
    if errors:
        raise errors[0]
    return sum(results, 0.0)


@contextmanager
def _sigint_held() -> Iterator[None]:
    """SIGINT held back in the block, and handled after it: then no Ctrl-C interrupts Thread.start().

    A start() interrupted while the new thread starts up leaves a thread that
    runs, but that the caller does not yet know of. Threads started here inherit
    the mask, so the caller's thread is the one that takes SIGINT. Windows has
    no pthread_sigmask: there the window stays open (not run here).
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _wait(events: list[threading.Event]) -> None:
    """Wait until every event is set, in slices of _WAKE seconds, so that the waiting thread handles signals."""
    for event in events:
        while not event.wait(_WAKE):
            pass


def _sum(start: int, num: int, stop: threading.Event | None = None) -> float:
    total = 0.0
    for lo in range(start, num, _CHUNK):
        if stop is not None and stop.is_set():
            break
        for pos in range(lo + 1, min(lo + _CHUNK, num) + 1):
            x = float(pos - CENTER)
            total += math.sqrt(x * x)
    return total


def do_math(start: SupportsIndex = 0, num: SupportsIndex = 10) -> float:
    """Sum sqrt((pos - 1e6)**2) for pos in start+1 ... num."""
    return _sum(_as_bound("start", start), _as_bound("num", num))


def do_math_threaded(start: SupportsIndex = 0, num: SupportsIndex = 10, workers: SupportsIndex | None = None) -> float:
    """The same sum, split into pieces run in Python threads.

    The threads: min(workers, cores); for workers=None, OMP_NUM_THREADS if set,
    else the cores (a compiled build asks its OpenMP runtime instead).
    """
    start, num = _as_bound("start", start), _as_bound("num", num)
    return _run_threaded(_sum, start, num, _as_workers(workers))


def do_math_parallel(start: SupportsIndex = 0, num: SupportsIndex = 10, workers: SupportsIndex | None = None) -> float:
    """The same sum; Python has no OpenMP, so `workers` is checked and the loop runs serially."""
    start, num = _as_bound("start", start), _as_bound("num", num)
    _as_workers(workers)
    return _sum(start, num)


def _abs_sum(a: int, b: int) -> int:
    """Sum of |x| for a <= x <= b."""
    if a > b:
        return 0
    if a >= 0:
        return (a + b) * (b - a + 1) // 2
    if b <= 0:
        return _abs_sum(-b, -a)
    return _abs_sum(1, -a) + _abs_sum(0, b)


def exact(start: SupportsIndex = 0, num: SupportsIndex = 10) -> int:
    """The exact total of do_math(start, num), in closed form: the test oracle."""
    start, num = _as_bound("start", start), _as_bound("num", num)
    return _abs_sum(start + 1 - CENTER, num - CENTER)
