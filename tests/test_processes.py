"""Processes and thread pools: fork after OpenMP, how many threads `workers` means, memory.

Every subject runs in a child process of its own session, killed with its
whole process group when it outlives its time limit: a regression here is a
hang (GNU libgomp's pool after fork) or a machine brought down (one thread per
`workers`), and either must fail the test, not the CI run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.children import run_child

POSIX = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork() (POSIX)")
LINUX_PROC = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads per-thread CPU time in /proc")
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# --- fork after OpenMP ---------------------------------------------------

# The parent starts an OpenMP team (two threads, as the reproducer),
# then a child made by os.fork() and a multiprocessing pool with the fork
# context each call every function; answers come back as JSON.
FORK = """
import importlib, json, multiprocessing, os, sys

build = importlib.import_module(sys.argv[1])
N = 10**7
FUNCTIONS = ("do_math", "do_math_threaded", "do_math_parallel")


def work(name):
    return getattr(build, name)(0, N), build.build_info()["parallel_runner"]


if __name__ == "__main__":
    build.do_math_parallel(0, N, workers=2)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        with os.fdopen(write, "w") as pipe:
            json.dump([work(name) for name in FUNCTIONS], pipe)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        forked = json.load(pipe)
    os.waitpid(pid, 0)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pooled = pool.map(work, FUNCTIONS)
    print(json.dumps({
        "want": build.twin.exact(0, N), "os.fork": forked, "fork pool": pooled,
        "parent runner": build.build_info()["parallel_runner"],
    }))
"""


@POSIX
def test_forked_child_after_openmp_answers(build):
    """After the parent ran an OpenMP team, forked children get exact answers from every function, no hang."""
    report = run_child(FORK, build.__name__, timeout=60)
    openmp = build.build_info()["openmp"]
    assert report["parent runner"] == ("openmp" if openmp else "serial")
    for how in ("os.fork", "fork pool"):
        results = dict(zip(("do_math", "do_math_threaded", "do_math_parallel"), report[how], strict=True))
        for name, (value, runner) in results.items():
            assert value == report["want"], f"{how}: {name} = {value}"
            assert runner == ("threads" if openmp else "serial"), f"{how}: {name} ran on {runner}"


# The Ctrl-C check of test_robust.py, in a child forked after OpenMP use: the
# forked child announces its pid, the test interrupts it there.
FORK_CTRL_C = """
import importlib, json, os, signal, sys, time

build = importlib.import_module(sys.argv[1])
build.do_math_parallel(0, 10**7, workers=2)
pid = os.fork()
if pid == 0:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print("ready", os.getpid(), flush=True)
    try:
        build.do_math_parallel(0, 10**12)
    except KeyboardInterrupt:
        print(json.dumps({"caught": time.monotonic()}), flush=True)
        os._exit(3)
    os._exit(0)
_, status = os.waitpid(pid, 0)
print(json.dumps({"child_exit": os.waitstatus_to_exitcode(status)}), flush=True)
"""


@POSIX
def test_ctrl_c_in_forked_child(build):
    """SIGINT to a child forked after OpenMP use stops its long do_math_parallel call."""
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(FORK_CTRL_C), build.__name__],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        word, pid = child.stdout.readline().split()
        assert word == "ready"
        time.sleep(0.3)  # into the call
        sent = time.monotonic()
        os.kill(int(pid), signal.SIGINT)
        out, err = child.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("the forked child did not stop within 20 s of SIGINT")
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[-1] == {"child_exit": 3}, f"{out}\n{err}"
    assert lines[0]["caught"] - sent < 5.0


# --- how many threads `workers` means -------------------------------------

# The call runs in the main thread (threadpoolctl limits the thread that asks);
# a watcher thread reads every thread's scheduler times over 0.6 s of it, prints
# how many threads were busy, and ends the process. Busy means wanting a CPU for
# more than half that time: on one (schedstat's first field) or waiting on a run
# queue for one (its second). A thread's CPU time alone depends on the machine's
# load: with other work on both cores each of two busy threads was seen to get
# only a fifth of the time. Without schedstat, CPU time over a fifth of the time.
# The twin's threads hold the GIL in turn, so each of its n busy threads wants a
# CPU for about 1/n of the time (waiting for the GIL is sleeping, not queueing):
# its share is divided by the most threads it may run here, the cores (argv[5]),
# which still tells two threads that share the GIL from one alone. The caller's
# thread counts only for do_math_parallel, where OpenMP makes it one of the
# team; in do_math_threaded it only waits, waking every 0.1 s to handle
# signals, which on a busy machine can queue it for a CPU longer than the
# twin's share.
BUSY = """
import importlib, json, os, sys, threading, time

build = importlib.import_module(sys.argv[1])
function = getattr(build, sys.argv[2]) if sys.argv[2] != "twin" else build.twin.do_math_threaded
workers = None if sys.argv[3] == "None" else int(sys.argv[3])
limit = sys.argv[4] == "threadpoolctl"
sharers = int(sys.argv[5])
TICK = os.sysconf("SC_CLK_TCK")


SCHEDSTAT = os.path.exists(f"/proc/self/task/{threading.get_native_id()}/schedstat")


def wanted_seconds():
    # Per thread: seconds on a CPU plus waiting for one (schedstat), else CPU seconds (stat).
    times = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            if SCHEDSTAT:
                with open(f"/proc/self/task/{tid}/schedstat") as stat:
                    on_cpu, waiting = stat.read().split()[:2]
                times[tid] = (int(on_cpu) + int(waiting)) / 1e9
            else:
                with open(f"/proc/self/task/{tid}/stat") as stat:
                    fields = stat.read().rpartition(")")[2].split()
                times[tid] = (int(fields[11]) + int(fields[12])) / TICK
        except FileNotFoundError:
            continue
    return times


def watch():
    me = str(threading.get_native_id())
    time.sleep(0.3)
    before, t0 = wanted_seconds(), time.monotonic()
    time.sleep(0.6)
    after, wall = wanted_seconds(), time.monotonic() - t0
    share = (0.5 if SCHEDSTAT else 0.2) / sharers
    waits = {me} if sys.argv[2] == "do_math_parallel" else {me, str(threading.main_thread().native_id)}
    busy = [t for t in after if t not in waits and after[t] - before.get(t, 0.0) > share * wall]
    print(json.dumps({"busy": len(busy), "default_workers": default_workers}), flush=True)
    os._exit(0)


def call():
    global default_workers
    default_workers = build.build_info()["default_workers"]  # as this thread sees it
    threading.Thread(target=watch, daemon=True).start()
    function(0, 2**53, workers=workers)


if limit:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        call()
else:
    call()
"""

# id: (workers, limit, environment, busy threads wanted)
CASES = {
    "no-limit": (None, "none", {}, CORES),
    "OMP_NUM_THREADS=1": (None, "none", {"OMP_NUM_THREADS": "1"}, 1),
    "threadpoolctl-1": (None, "threadpoolctl", {}, 1),
    "workers=2": (2, "none", {}, min(2, CORES)),
    "workers=2-beats-OMP_NUM_THREADS=1": (2, "none", {"OMP_NUM_THREADS": "1"}, min(2, CORES)),
    "workers=10**6": (10**6, "none", {}, CORES),
}


def _busy(module: str, name: str, workers, limit: str, env: dict[str, str], sharers: int = 1) -> dict:
    return run_child(BUSY, module, name, str(workers), limit, str(sharers), env=env, timeout=60)


@LINUX_PROC
@pytest.mark.parametrize("name", ["do_math_parallel", "do_math_threaded"])
@pytest.mark.parametrize(("workers", "limit", "env", "busy"), CASES.values(), ids=CASES.keys())
def test_busy_threads(build, name, workers, limit, env, busy):
    """workers=None is OpenMP's default team size (OMP_NUM_THREADS, threadpoolctl), at most the cores."""
    info = build.build_info()
    if limit == "threadpoolctl" and not info["openmp"]:
        pytest.skip("threadpoolctl limits OpenMP runtimes; this build has none")
    if name == "do_math_parallel" and not info["openmp"]:
        busy = 1  # a prange without OpenMP is a serial loop
    report = _busy(build.__name__, name, workers, limit, env)
    assert report["busy"] == busy
    if workers is None and info["openmp"]:
        assert report["default_workers"] == busy


@LINUX_PROC
@pytest.mark.parametrize(
    ("workers", "env", "busy"), [(None, {}, CORES), (None, {"OMP_NUM_THREADS": "1"}, 1), (2, {}, min(2, CORES))]
)
def test_busy_threads_twin(twin, workers, env, busy):
    """The twin has no OpenMP runtime to ask: workers=None reads OMP_NUM_THREADS as OpenMP does."""
    package = twin.__name__.rpartition(".")[0]
    assert _busy(package, "twin", workers, "none", env, sharers=CORES)["busy"] == busy


# --- memory does not grow with `workers` -----------------------------------

MEMORY = """
import importlib, json, resource, sys, time

# A regression must fail here, not take the machine down: at most 4 GiB.
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
build = importlib.import_module(sys.argv[1])
function = build.twin.do_math_threaded if sys.argv[2] == "twin" else build.do_math_threaded
num = int(sys.argv[3])
t0 = time.perf_counter()
try:
    result = function(0, num, workers=10**7)
except MemoryError:
    result = None
print(json.dumps({
    "exact": result == build.twin.exact(0, num), "seconds": time.perf_counter() - t0,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


NO_RESOURCE = pytest.mark.skipif(sys.platform == "win32", reason="uses the resource module (POSIX)")


def _memory(package: str, which: str, num: int, record_property) -> None:
    report = run_child(MEMORY, package, which, str(num), timeout=120)
    record_property("peak_mb", round(report["peak_mb"]))
    record_property("seconds", round(report["seconds"], 2))
    assert report["exact"]
    assert report["peak_mb"] < 200


@NO_RESOURCE
def test_huge_workers_costs_no_memory(build, record_property):
    """do_math_threaded(workers=10**7) over 10**9 terms: exact, in normal time, peak RSS under 200 MB."""
    _memory(build.__name__, "compiled", 10**9, record_property)


@NO_RESOURCE
def test_huge_workers_costs_no_memory_twin(twin, record_property):
    """The twin's do_math_threaded(workers=10**7) over 2 * 10**7 terms: the same."""
    _memory(twin.__name__.rpartition(".")[0], "twin", 2 * 10**7, record_property)
