"""Where a build's time goes: configure, Cython, C compile, link, pack; the same way for all three backends.

`instrument` returns the arguments and environment that put two tiny wrapper
scripts in front of the build's tools: one for the C compiler (CC, which
setuptools also uses to link, and which meson and CMake detect through it),
one for Cython (meson reads CYTHON, cython-cmake CYTHON_EXECUTABLE). Each
call appends one line to events.log: the tool, its start and end (epoch
seconds) and its arguments. `read` turns those lines into phases:

- compile: a `-c` of a module's C (Cython's or hand-written); link: the
  output of a module's `.so`; cython: the translation of a `.pyx`;
  configure: every other call, whatever the tool (meson's sanity checks, its
  Cython one included, CMake's compiler identification and try_compile,
  `cython --version`, setup.py's OpenMP probe), known by the scratch paths
  and file names these tools use. setuptools (cythonize) and meson and
  CMake (tools/cythonize.py) run Cython in worker processes of their own,
  out of a wrapper's reach: its
  Cython phase is the span from the end of the last configure call (the
  OpenMP probe) to the first compile; with OpenMP off there is no probe, and
  that span starts at `start`, the setup included;
- "wall" splits [start, end] of the whole command into phases: each instant
  goes to the latest phase running then (Cython and C compiles overlap under
  ninja), an instant with nothing running to the phase of the call that ended
  last (meson's and CMake's own configure work, ninja's scheduling), the time
  before the first call to "setup" (the isolated environment, the backend's
  start) and the time after the last link to "pack" (the wheel);
- "work" adds up each call's duration: the seconds of tool time a phase
  costs, what grows with every module whatever the cores;
- "jobs_max": the most Cython, compile and link calls running at once;
- "flags": the distinct -O, -g, -f, -m, -std and -DNDEBUG flags of the
  compiles, of -O and -g only the last given, the one the compiler obeys.

`PeakMemory` samples the summed resident memory of this process's children,
all of them, while a build runs; `disk_usage` is the size of a build folder.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shlex
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PHASES = ("setup", "configure", "cython", "compile", "link", "pack")
LOG = "events.log"
# Compiler and Cython calls that belong to configuring, by the paths and names they work with:
# meson's scratch folder, probes and sanity checks, CMake's compiler id and try_compile, setup.py's OpenMP probe.
_CONFIGURE = re.compile(
    r"meson-private|sanity_?check|CMakeScratch|CMakeTmp|CompilerId|CMakeC\w*ABI|cmTC_|(^|/)(omp|testfile)\.c$"
)
_FLAG = re.compile(r"^-(O\S*|g\S*|f\S+|m\S+|DNDEBUG|std=\S+)$")
# Of these the compiler obeys the last one given (setuptools: Python's -g, then the template's -g0).
_LAST_WINS = re.compile(r"^-(O|g)")
# One line per call, with one printf to an O_APPEND file so that parallel jobs do not interleave:
# dash writes it in one write(2) up to its 8 KiB buffer (seen with strace); a longer line goes in
# pieces that another job could split, which read() then skips. The lines here are under 1 KiB.
_WRAPPER = """#!/bin/sh
s=$(date +%s.%N)
{tool} "$@"
rc=$?
printf '%s\\t%s\\t%s\\t%s\\n' {kind} "$s" "$(date +%s.%N)" "$*" >> {log}
exit $rc
"""


def _wrapper(logdir: Path, kind: str, tool: str) -> Path:
    path = logdir / kind
    text = _WRAPPER.format(tool=tool, kind=kind, log=shlex.quote(str(logdir / LOG)))
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    return path


def instrument(backend: str, logdir: Path, cc: str = "gcc") -> tuple[list[str], dict[str, str]]:
    """Build-frontend arguments and environment that make a build of `backend` log its tool calls into logdir."""
    logdir.mkdir(parents=True, exist_ok=True)
    words = shlex.split(cc)  # "ccache gcc" too
    found = shutil.which(words[0]) if words else None
    if found is None:
        msg = f"no C compiler {cc!r} on PATH"
        raise FileNotFoundError(msg)
    env = {"CC": str(_wrapper(logdir, "cc", shlex.join([found, *words[1:]])))}
    # The build environment's cython, found on PATH when the wrapper runs (never the wrapper: it is not on PATH).
    cython = str(_wrapper(logdir, "cython", shlex.quote("cython")))
    if backend == "meson":
        env["CYTHON"] = cython
        return [], env
    if backend == "cmake":
        return [f"-Ccmake.define.CYTHON_EXECUTABLE={cython}"], env
    return [], env


def _events(logdir: Path) -> list[dict[str, Any]]:
    path = logdir / LOG
    events = []
    if not path.exists():
        return events
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t", 3)
        try:  # a line cut by a kill, or split by another job's (see _WRAPPER), is left out
            tool, start, end, args = parts
            events.append({"tool": tool, "start": float(start), "end": float(end), "args": args.split()})
        except ValueError:
            continue
    return events


def _phase(event: dict[str, Any], modules: set[str]) -> str:
    args = event["args"]
    out = args[args.index("-o") + 1] if "-o" in args[:-1] else ""
    if event["tool"] == "cython":
        if any(a.startswith("--generate-shared") for a in args):  # the shared utility module's C
            return "cython"
        pyx = [a for a in args if a.endswith((".pyx", ".py"))]
        return "cython" if pyx and not any(_CONFIGURE.search(a) for a in pyx) else "configure"
    sources = [a for a in args if a.endswith((".c", ".cpp", ".cc"))]
    # A module's own name wins over the patterns, in case the project itself lives under such a path.
    ours = any(modules & set(Path(a).name.split(".")) for a in [out, *sources])
    if not ours and any(_CONFIGURE.search(a) for a in [out, *sources]):
        return "configure"
    if "-c" in args and sources:
        return "compile"
    if "-c" not in args and re.search(r"\.(so|pyd)$", out):
        return "link"
    return "configure"


def read(logdir: Path, modules: Sequence[str], start: float, end: float) -> dict[str, Any]:
    """The phases of the build whose calls `instrument` logged into logdir, between `start` and `end` (time.time())."""
    names = {m.rsplit(".", 1)[-1] for m in modules}
    events = sorted(_events(logdir), key=lambda e: e["start"])
    for e in events:
        e["phase"] = _phase(e, names)
    calls = len(events)
    compiles = [e for e in events if e["phase"] == "compile"]
    # setuptools (cythonize) and meson and CMake (tools/cythonize.py) translate in one process of their own.
    translated = [e for e in events if e["phase"] == "cython" and not any("--generate-shared" in a for a in e["args"])]
    if compiles and not translated:
        first = min(e["start"] for e in compiles)
        before = [e["end"] for e in events if e["phase"] in ("configure", "cython") and e["end"] <= first]
        events.append({"phase": "cython", "start": max(before, default=start), "end": first, "args": []})
    work = dict.fromkeys(PHASES, 0.0)
    for e in events:
        work[e["phase"]] += max(0.0, e["end"] - e["start"])
    return {
        "wall": _wall(events, start, end),
        "work": work,
        "jobs_max": _jobs_max([e for e in events if e["phase"] != "configure"]),
        "events": calls,
        "flags": {"compile": _flags(compiles)},
    }


def _wall(events: list[dict[str, Any]], start: float, end: float) -> dict[str, float]:
    wall = dict.fromkeys(PHASES, 0.0)
    if not events:
        wall["setup"] = end - start
        return wall
    order = {p: i for i, p in enumerate(PHASES)}
    first = min(e["start"] for e in events)
    links = [e["end"] for e in events if e["phase"] == "link"]
    last = max(links) if links else max(e["end"] for e in events)
    wall["setup"] = max(0.0, first - start)
    wall["pack"] = max(0.0, end - last)
    cuts = sorted({first, last, *(t for e in events for t in (e["start"], e["end"]) if first <= t <= last)})
    for a, b in itertools.pairwise(cuts):
        running = [e["phase"] for e in events if e["start"] < b and e["end"] > a]
        if running:
            phase = max(running, key=order.__getitem__)
        else:
            ended = [e for e in events if e["end"] <= a]
            phase = max(ended, key=lambda e: e["end"])["phase"] if ended else "setup"
        wall[phase] += b - a
    return wall


def _jobs_max(events: list[dict[str, Any]]) -> int:
    edges = sorted([(e["start"], 1) for e in events] + [(e["end"], -1) for e in events])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def _flags(compiles: list[dict[str, Any]]) -> list[str]:
    seen: list[str] = []
    for e in compiles:
        flags = [a for a in e["args"] if _FLAG.match(a)]
        last = {a[:2]: a for a in flags if _LAST_WINS.match(a)}
        for a in flags:
            if (not _LAST_WINS.match(a) or last[a[:2]] == a) and a not in seen:
                seen.append(a)
    return seen


class PeakMemory:
    """The largest summed resident memory of this process's children (all generations), sampled every 0.1 s."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval, self.peak_bytes = interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):  # ended between the listing and the reading
                    total += child.memory_info().rss
            self.peak_bytes = max(self.peak_bytes, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:  # noqa: PYI034 (Self needs 3.11)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def disk_usage(path: Path) -> int:
    """Bytes of the files under `path` (symbolic links not followed)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):  # removed while walking
                total += os.lstat(os.path.join(root, name)).st_size  # noqa: PTH118 (os.walk's strings)
    return total
