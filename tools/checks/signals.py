"""Ctrl-C on a busy machine: the signal tests, run again and again while other processes keep every core busy.

A wait that a signal cannot interrupt shows up only when a thread misses
its turn: on a quiet machine the suite passed on free-threaded CPython 3.14
while Ctrl-C during do_math_threaded hung 10 runs of 10 with two CPU-bound
processes beside it (python/cpython#150873). So these tests run here with
one burner process per core beside them (a burner spins in pure Python, in a
session of its own, killed with its group at the end).

    python -m tools.checks.signals [--runs N] [--burners K] [--python PY] [PYTEST ARGS]

Each run is one pytest process over TESTS (and PYTEST ARGS), bounded by
--timeout; the check passes when every run passes.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

# Every test that sends SIGINT, and the one that counts the twin's busy threads
# (it failed with the same waits on 3.14t).
TESTS = (
    "tests/test_robust.py::test_ctrl_c_stops_the_call",
    "tests/test_processes.py::test_ctrl_c_in_forked_child",
    "tests/test_processes.py::test_busy_threads_twin",
)


@contextmanager
def burning(count: int) -> Iterator[None]:
    """`count` processes spinning on a core each, for as long as the block runs."""
    spin = [sys.executable, "-c", "while True: pass"]
    burners = [subprocess.Popen(spin, start_new_session=True) for _ in range(count)]
    try:
        yield
    finally:
        for burner in burners:
            os.killpg(burner.pid, signal.SIGKILL)
            burner.wait()


def run_once(python: str, pytest_args: list[str], timeout: float) -> bool:
    """One pytest run over TESTS; a run past `timeout` is killed with its group and fails."""
    cmd = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS, *pytest_args]
    child = subprocess.Popen(cmd, start_new_session=True)
    try:
        return child.wait(timeout=timeout) == 0
    except subprocess.TimeoutExpired:
        print(f"killed after {timeout:.0f} s: {' '.join(cmd)}", flush=True)
        return False
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="pytest runs in a row (default 20)")
    parser.add_argument("--burners", type=int, default=os.cpu_count() or 1, help="busy processes (default: the cores)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter that runs pytest (a venv's)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds one run may take (default 900)")
    options, pytest_args = parser.parse_known_args(argv)
    failed = []
    t0 = time.monotonic()
    with burning(options.burners):
        for run in range(1, options.runs + 1):
            print(f"--- run {run} of {options.runs}, {options.burners} busy processes beside it", flush=True)
            if not run_once(options.python, pytest_args, options.timeout):
                failed.append(run)
    minutes = (time.monotonic() - t0) / 60
    print(f"signals on a busy machine: {options.runs - len(failed)} of {options.runs} runs passed ({minutes:.1f} min)")
    if failed:
        print(f"failed runs: {', '.join(map(str, failed))}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
