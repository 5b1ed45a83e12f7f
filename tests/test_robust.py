"""Ctrl-C and many threads at once."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

LIMIT = 2**53
POSIX = pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT with os.kill; Windows has no such signal")
PROC = Path("/proc/self/status")
LINUX_PROC = pytest.mark.skipif(not PROC.exists(), reason="counts threads through Linux's /proc")

# --- Ctrl-C --------------------------------------------------------------

# The child calls one function over 10**12 terms (minutes even for the fastest
# build), is interrupted, and reports what it saw before dying of the
# KeyboardInterrupt it re-raises.
CHILD = r"""
import importlib, json, os, signal, sys, threading, time, traceback

module, name = sys.argv[1], sys.argv[2]
function = getattr(importlib.import_module(module), name)


def busy_threads():
    # Threads of this process, other than this one, that are running or
    # runnable ("R"). OpenMP keeps its idle pool threads, asleep ("S").
    me = str(threading.get_native_id())
    tasks = f"/proc/{os.getpid()}/task"
    if not os.path.isdir(tasks):
        return None
    busy = []
    for tid in os.listdir(tasks):
        try:
            with open(f"{tasks}/{tid}/stat") as stat:
                state = stat.read().rpartition(")")[2].split()[0]
        except FileNotFoundError:  # the thread ended meanwhile
            continue
        if tid != me and state == "R":
            busy.append(tid)
    return len(busy)


# A shell that starts a job in the background may hand it SIGINT ignored, and
# Python keeps an ignored SIGINT ignored: install the handler a terminal gives.
signal.signal(signal.SIGINT, signal.default_int_handler)
print("ready", flush=True)
try:
    function(0, 10**12)
except KeyboardInterrupt as exc:
    caught = time.monotonic()
    # Cython names its frames module.function, Python function.
    frames = [frame.name.rpartition(".")[2] for frame in traceback.extract_tb(exc.__traceback__)]
    in_call = name in frames
    python_threads = threading.active_count()
    # Give a worker that missed the stop flag every chance to show itself:
    # look until no other thread runs, for at most 5 s.
    while (busy := busy_threads()) and time.monotonic() < caught + 5:
        time.sleep(0.05)
    report = {
        "caught": caught, "in_call": in_call, "raised_in": frames[-1],
        "python_threads": python_threads, "busy_threads": busy,
    }
    print(json.dumps(report), flush=True)
    raise
print("the call returned", flush=True)
"""

# Behaviour bounds, not performance figures: did it stop at all?
STOP_WITHIN = 5.0
EXIT_WITHIN = 20.0


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    # An OpenMP told to spin forever would look busy to busy_threads().
    for key in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT"):
        env.pop(key, None)
    return env


@POSIX
def test_ctrl_c_stops_the_call(impl, record_property):
    """SIGINT during a 10**12-term call: KeyboardInterrupt, and no thread left working."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, impl.__module__, impl.__name__],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_child_env(),
    )
    try:
        assert child.stdout.readline() == "ready\n", child.stderr.read()
        time.sleep(0.3)  # from print("ready") into the call: a few bytecodes
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        try:
            out, err = child.communicate(timeout=EXIT_WITHIN)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {EXIT_WITHIN} s after SIGINT")
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGINT, f"exit status {child.returncode}\n{out}\n{err}"
    assert "KeyboardInterrupt" in err
    report = json.loads(out.strip().splitlines()[-1])
    latency = report["caught"] - sent  # time.monotonic() is one clock for all processes
    record_property("ctrl_c_latency_s", round(latency, 4))
    assert report["in_call"], "the signal arrived before the call started"
    assert latency < STOP_WITHIN
    assert report["python_threads"] == 1
    if report["busy_threads"] is not None:
        assert report["busy_threads"] == 0


# --- Many threads at once ----------------------------------------------

THREADS, CALLS = 16, 50


def _calls(build, twin, rng: random.Random):
    """CALLS mixed calls of every function of `build` and the twin, all exact."""
    functions = [getattr(build, name) for name in ("do_math", "do_math_threaded", "do_math_parallel")]
    twins = [twin.do_math, twin.do_math_threaded, twin.do_math_parallel]
    calls = []
    for _ in range(CALLS):
        size = rng.choices(["small", "blocks", "chunks"], weights=[8, 6, 1])[0]
        if size == "small":  # also what the twin can sum quickly
            start, n = rng.randrange(-(2**40), 2**40), rng.randrange(-5, 3_000)
            function = rng.choice(functions + twins)
        elif size == "blocks":  # across 2**14-term blocks
            start, n = rng.randrange(-(2**30), 2**30), rng.randrange(2**14, 2**18)
            function = rng.choice(functions)
        else:  # across a 2**24-term chunk, where the GIL is taken back
            start, n = rng.randrange(-(10**8), 10**8), rng.randrange(2**24, 2**24 + 2**20)
            function = rng.choice(functions)
        kwargs = {} if function.__name__ == "do_math" else {"workers": rng.choice([None, 1, 2, 3, 7])}
        want = twin.exact(start, start + n)
        assert want < LIMIT  # so every summation order gives it exactly
        calls.append((function, start, start + n, kwargs, want))
    return calls


def test_many_threads_at_once(build, twin):
    """16 Python threads x 50 calls of every function at once: every result exact."""
    rng = random.Random(7)
    plans = [_calls(build, twin, rng) for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    wrong, errors = [], []

    def run(plan):
        barrier.wait()
        for function, start, num, kwargs, want in plan:
            try:
                got = function(start, num, **kwargs)
            except Exception as exc:  # noqa: BLE001 (reported below)
                errors.append(f"{function.__module__}.{function.__name__}({start}, {num}, {kwargs}): {exc!r}")
                continue
            if got != want:
                wrong.append(
                    f"{function.__module__}.{function.__name__}({start}, {num}, {kwargs}) = {got!r}, not {want}"
                )

    threads = [threading.Thread(target=run, args=(plan,)) for plan in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:5]
    assert not wrong, wrong[:5]


def _os_threads() -> int:
    for line in PROC.read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    msg = "no Threads: line in /proc/self/status"
    raise AssertionError(msg)


@LINUX_PROC
def test_parallel_from_many_threads_stays_bounded(build, twin):
    """Several threads ask do_math_parallel for a million workers each.

    Each call runs on at most min(workers, cores, blocks) OpenMP threads, so
    K callers add at most K * cores threads to the process, whatever
    `workers` says. Without that cap each call would start one thread per
    block here (128).
    """
    callers, rounds = 6, 4
    cores = len(os.sched_getaffinity(0))
    start, num = -(2**19), 2**20 + 2**19  # 2**21 terms: 128 blocks of 2**14
    want = twin.exact(start, num)
    results, peak, done = [], [0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _os_threads())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    baseline = _os_threads()  # pytest, the sampler and any OpenMP pool of this thread
    barrier = threading.Barrier(callers)

    def call():
        barrier.wait()
        for _ in range(rounds):
            results.append(build.do_math_parallel(start, num, workers=10**6))

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    sampler.join()
    assert results == [want] * (callers * rounds)
    assert peak[0] <= baseline + callers * cores
