"""Probes of a built wheel, each in a child process with a timeout: speed, and any code of a caller's.

- `unpack`: a wheel's files in a folder of their own, to put first on a
  child's sys.path (no environment to install into);
- `child`: run code there, killed with its whole process group at a
  timeout; its last printed line is JSON;
- `SPEED`: each kernel as a quick look (median of 5 calls over 10**8 terms),
  and the cost of one call that does almost no work.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path

from tools.make.build import StepFailed

# The median wall time per element of 5 calls over n terms: the timing both
# SPEED and other probes (the free-threaded twin's) run in their child.
NS_PER_ELEMENT = """
import statistics, time


def ns(function, n):
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        function(0, n)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) / n * 1e9
"""

# Speed, as a quick look: each kernel over 10**8 terms, median of 5 calls;
# and a call of do_math over 10 terms, where the Python-level work dominates.
SPEED = (
    NS_PER_ELEMENT
    + """
import importlib, json, sys

build = importlib.import_module(sys.argv[1])
cores = build.twin._available_cores()
N = 10**8


def warm_ns(function):
    function(0, 10**6)
    return ns(function, N)


def call_us(function, calls=20_000):
    # Microseconds per call that sums 10 terms: argument checks and the call itself.
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(calls):
            function(0, 10)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) / calls * 1e6


info = build.build_info()
print(json.dumps({
    "compiler": info["compiler"], "openmp": info["openmp"], "limited_api": info.get("limited_api"), "cores": cores,
    "do_math": warm_ns(build.do_math),
    "do_math_threaded": warm_ns(lambda start, num: build.do_math_threaded(start, num, cores)),
    "do_math_parallel": warm_ns(lambda start, num: build.do_math_parallel(start, num, cores)),
    "call_us": call_us(build.do_math),
}))
"""
)


def unpack(wheel: Path, work: Path) -> Path:
    """The wheel's files in a new folder under `work`."""
    site = Path(tempfile.mkdtemp(dir=work, prefix=f"site-{wheel.name.split('-')[0]}-"))
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    return site


def child(code: str, path: Path, *args: str, timeout: float, python: str = sys.executable) -> dict | None:
    """Run `code` by `python` with `path` first on sys.path; the JSON it prints last, or None if killed at `timeout`."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(path), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen(
        [python, "-c", textwrap.dedent(code), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # a group of its own: a hung grandchild dies with it
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # Windows: no process groups to kill, and no fork() to hang either
            proc.kill()
        proc.communicate()
        return None
    if proc.returncode != 0 or not out.strip():
        msg = f"{' '.join(args)}: exit status {proc.returncode}\n{out[-2000:]}{err[-2000:]}"
        raise StepFailed(msg)
    return json.loads(out.strip().splitlines()[-1])
