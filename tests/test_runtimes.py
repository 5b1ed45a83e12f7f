"""Builds with different OpenMP runtimes in one process: listed, exact, limited together.

A user's process can load several OpenMP runtimes at once: gcc's libgomp,
LLVM's libomp (clang builds), a copy of either that auditwheel vendored into a
wheel under a new name (libgomp-<8 hex>.so.1.0.0). Each is its own thread
pool. These tests run only where the installed builds load two or more
distinct runtime files; each subject runs in a child process that is killed at
its time limit, so a hang fails the test.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from tests.children import run_child
from tests.conftest import BUILDS

pytestmark = pytest.mark.skipif(
    not Path(f"/proc/self/task/{threading.get_native_id()}/schedstat").exists(),
    reason="reads /proc/self/maps and per-thread schedstat (Linux)",
)

# The OpenMP runtime files this process has mapped, symlinks resolved: gcc's
# libgomp, LLVM's libomp, Intel's libiomp5, and auditwheel's renamed copies.
# Two copies of LLVM's libomp (a system one and a wheel's vendored one) abort
# the process at the second one's first parallel region ("OMP: Error #15")
# unless KMP_DUPLICATE_LIB_OK is set, and importing threadpoolctl sets it
# (os.environ.setdefault): the children clear it, and import threadpoolctl
# only after every runtime has started, so they see what a process gets
# without it.
MAPPED = r"""
import importlib, json, os, re, sys

os.environ.pop("KMP_DUPLICATE_LIB_OK", None)
RUNTIME = re.compile(r"lib(gomp|omp|iomp5)(-[0-9a-f]{8})?\.")


def mapped():
    with open("/proc/self/maps") as maps:
        paths = {line.split(maxsplit=5)[5].strip() for line in maps if len(line.split(maxsplit=5)) == 6}
    return sorted({os.path.realpath(p) for p in paths if RUNTIME.match(os.path.basename(p))})


NAMES = json.loads(sys.argv[1])
builds = [importlib.import_module(name) for name in NAMES]
"""


@pytest.fixture(scope="module")
def runtimes() -> dict[str, list[str]]:
    """Each build's OpenMP runtime files, each build imported alone; a skip unless two or more differ."""
    linked = {name: run_child(MAPPED + "print(json.dumps(mapped()))", json.dumps([name])) for name in _names()}
    found = sorted({path for paths in linked.values() for path in paths})
    if len(_by_name(linked)) < 2:
        users = [f"{path} ({', '.join(n for n, paths in linked.items() if path in paths)})" for path in found]
        pytest.skip(f"needs two or more OpenMP runtimes; the builds load {len(found)}: {'; '.join(users) or '-'}")
    return linked


# The loader keeps one library per file name (its soname): auditwheel names a
# vendored copy by its contents' hash, so wheels repaired against the same
# runtime (libgomp-f9a9ad78.so.1.0.0 in each one's .libs/) share the copy that
# loads first. A process holds one runtime per distinct name.
def _by_name(linked: dict[str, list[str]]) -> dict[str, set[str]]:
    """Each distinct runtime file name the builds load, and the paths it was loaded from, builds alone."""
    names: dict[str, set[str]] = {}
    for paths in linked.values():
        for path in paths:
            names.setdefault(Path(path).name, set()).add(path)
    return names


def _names() -> list[str]:
    return [module.__name__ for module in BUILDS.values()]


LISTED = (
    MAPPED
    + """
for build in builds:
    build.do_math_parallel(0, 10**6)
from threadpoolctl import threadpool_info

listed = {os.path.realpath(i["filepath"]) for i in threadpool_info() if i["user_api"] == "openmp"}
print(json.dumps({"mapped": mapped(), "threadpoolctl": sorted(listed)}))
"""
)


def test_threadpoolctl_lists_every_runtime(runtimes):
    """With every build imported, threadpoolctl lists each distinct runtime the builds load, one per file name."""
    report = run_child(LISTED, json.dumps(list(runtimes)))
    names = _by_name(runtimes)
    # Together, the builds load one of the paths each name was loaded from alone.
    assert sorted(Path(path).name for path in report["mapped"]) == sorted(names), report["mapped"]
    assert all(path in names[Path(path).name] for path in report["mapped"]), report["mapped"]
    assert report["threadpoolctl"] == report["mapped"]


# Every function of every build, in turn, then from 4 Python threads at once.
# Ranges of up to 2**22 terms within 10**8 of the centre total far below 2**53:
# every summation order gives twin.exact's integer.
MIXED_CALLS = (
    MAPPED
    + """
import random, threading

exact = builds[0].twin.exact
FUNCTIONS = ("do_math", "do_math_threaded", "do_math_parallel")
wrong, errors = [], []


def call(build, name, rng):
    start = rng.randrange(-10**8, 10**8)
    num = start + rng.randrange(2**14, 2**22)
    args = (start, num) if name == "do_math" else (start, num, rng.choice([None, 1, 2, 3]))
    try:
        if getattr(build, name)(*args) != exact(start, num):
            wrong.append(f"{build.__name__}.{name}{args}")
    except Exception as exc:
        errors.append(f"{build.__name__}.{name}{args}: {exc!r}")


rng = random.Random(1)
for _ in range(20):
    for build in builds:
        for name in FUNCTIONS:
            call(build, name, rng)


def calls(seed):
    rng = random.Random(seed)
    for _ in range(30):
        call(rng.choice(builds), rng.choice(FUNCTIONS), rng)


threads = [threading.Thread(target=calls, args=(seed,)) for seed in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"wrong": wrong, "errors": errors}))
"""
)


def test_mixed_calls_are_exact(runtimes):
    """Every build's answers are exact when the builds are called alternately, and from 4 threads at once."""
    report = run_child(MIXED_CALLS, json.dumps(_names()), timeout=180)
    assert report == {"wrong": [], "errors": []}, runtimes


# The threads busy during each build's do_math_parallel(workers=None), first
# without a limit (the window sees a whole team), then inside one
# threadpool_limits(limits=1), which covers every runtime loaded. Measured as
# test_processes.py's BUSY does: a thread is busy if it wanted a CPU (on one,
# or waiting on a run queue: schedstat) for more than half of 0.6 s, well into
# the call; then Ctrl-C, simulated, ends the call.
LIMITED = (
    MAPPED
    + """
import _thread, signal, threading, time

for build in builds:
    build.do_math_parallel(0, 10**7)  # every runtime's pool started: idle threads that could spin
from threadpoolctl import threadpool_info, threadpool_limits

signal.signal(signal.SIGINT, signal.default_int_handler)  # even if the parent ignores SIGINT


def wanted():
    times = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as stat:
                on_cpu, waiting = stat.read().split()[:2]
        except FileNotFoundError:
            continue
        times[tid] = (int(on_cpu) + int(waiting)) / 1e9
    return times


def busy(build):
    # A runtime's idle threads keep spinning after its last parallel region:
    # LLVM's libomp for KMP_BLOCKTIME (200 ms by default), libgomp a few ms.
    # Those of the build called before must not be counted in this window:
    # wait 0.3 s for them to sleep (the watcher waits 0.3 s more).
    time.sleep(0.3)
    seen = {}

    def watch():
        me = str(threading.get_native_id())
        time.sleep(0.3)
        before, t0 = wanted(), time.monotonic()
        time.sleep(0.6)
        after, wall = wanted(), time.monotonic() - t0
        seen["busy"] = sum(1 for t in after if t != me and after[t] - before.get(t, 0.0) > 0.5 * wall)
        _thread.interrupt_main()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        build.do_math_parallel(0, 2**53)
    except KeyboardInterrupt:
        pass
    watcher.join()
    return seen["busy"]


report = {"no_limit": {}, "limit_1": {}}
for build in builds:
    report["no_limit"][build.__name__] = [busy(build), build.build_info()["default_workers"]]
with threadpool_limits(limits=1):
    report["num_threads"] = {i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp"}
    for build in builds:
        report["limit_1"][build.__name__] = [busy(build), build.build_info()["openmp_threads"]]
print(json.dumps(report))
"""
)


def test_one_limit_limits_every_runtime(runtimes):
    """threadpool_limits(limits=1) limits every runtime: each build's do_math_parallel runs on 1 busy thread."""
    names = [name for name, paths in runtimes.items() if paths]  # a build without OpenMP has nothing to limit
    report = run_child(LIMITED, json.dumps(names), timeout=120)
    # Without a limit: as many busy threads as workers=None means (the cores), so the window sees a team.
    assert all(busy == workers for busy, workers in report["no_limit"].values()), report["no_limit"]
    assert len(report["num_threads"]) == len(_by_name(runtimes)), report["num_threads"]
    assert set(report["num_threads"].values()) == {1}, report["num_threads"]
    assert report["limit_1"] == {name: [1, 1] for name in names}, report["limit_1"]
