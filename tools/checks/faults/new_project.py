"""Faults on a project made by `nox -s new`: a signal when its wheel appears, odd places, future dates."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from tools.checks.faults.bench import ODD, SIGNALS, Bench, deep, dist_problems, refused_future, selftest
from tools.checks.faults.core import (
    BUILD_LIMIT,
    LOST,
    RECOVERED,
    SKIPPED,
    STOP_LIMIT,
    WHEEL,
    Done,
    Row,
    Started,
    artifact_problems,
    run,
    same_wheel,
    wait_for,
)


def new_project(bench: Bench, backend: str, dest: Path | None = None, ahead: float = 0.0) -> tuple[Path, Done]:
    """A project made by `nox -s new` (its own noxfile, git, tools/) and its first `nox -s build`, which must succeed.

    ahead: every file of the project dated that many seconds in the future before the build.
    """
    dest = dest or bench.work / "new" / backend / "fastsum"
    made = run(
        [sys.executable, "-m", "tools.make.new", backend, str(dest)], cwd=bench.source, env=os.environ, timeout=300
    )
    if made.rc != 0:
        msg = f"nox -s new failed ({made.rc}): {made.tail()}"
        raise RuntimeError(msg)
    if ahead:
        when = time.time() + ahead
        for path in [dest, *dest.rglob("*")]:
            os.utime(path, (when, when), follow_symlinks=False)
    done = run([sys.executable, "-m", "nox", "-s", "build"], cwd=dest, env=bench.env(dest.parent / "tmp"))
    return dest, done


def new_project_reference(bench: Bench, backend: str) -> Path:
    """The `nox -s new` project the pack faults play on, built once clean: its wheel is kept."""
    dest = bench.work / "new" / backend / "fastsum"
    if not dest.exists():
        dest, done = new_project(bench, backend, dest)
        wheels = sorted((dest / "dist").glob("*.whl"))
        if done.rc != 0 or len(wheels) != 1:
            msg = f"the new project's clean build failed ({done.rc}): {done.tail()}"
            raise RuntimeError(msg)
        keep = bench.work / "reference" / f"new-{backend}"
        keep.mkdir(parents=True)
        shutil.copy2(wheels[0], keep)
    return dest


def new_project_pack(bench: Bench, backend: str, name: str) -> Row:
    """`nox -s build` of a `nox -s new` project, signalled when its wheel appears in dist/; then run again."""
    t0 = time.perf_counter()
    dest = new_project_reference(bench, backend)
    dist, tmp = dest / "dist", dest.parent / "tmp"
    cmd = [sys.executable, "-m", "nox", "-R", "-s", "build"]
    proc = Started(cmd, cwd=dest, env=bench.env(tmp))
    hit = wait_for(lambda: any(dist.glob("*.whl")), proc, step=0.001) and proc.running()
    if hit:
        proc.signal(SIGNALS[name])
    first = proc.wait(STOP_LIMIT if hit else BUILD_LIMIT)
    row = Row(f"{name} during pack", backend, WHEEL, "new project", SKIPPED)
    if not hit:
        row.note = f"the moment was missed: the build ended ({first.rc}) before its wheel was seen"
        return row
    notes = []
    if problems := artifact_problems(dist):
        notes.append(f"dist/ after the fault: {'; '.join(problems)}")
    if first.rc == 0:
        notes.append("the signal came after the wheel was complete: the build succeeded")
    again = run(cmd, cwd=dest, env=bench.env(tmp))
    wheels = sorted(dist.glob("*.whl"))
    reference = next((bench.work / "reference" / f"new-{backend}").glob("*.whl"))
    if again.rc != 0 or len(wheels) != 1:
        row.outcome = LOST
        notes.append(f"the next run failed ({again.rc}): {again.tail()}")
    elif diff := same_wheel(reference, wheels[0], bench.work / "scratch" / f"new-{backend}-{name}"):
        row.outcome = LOST
        notes.append(f"the next wheel differs from a clean one: {'; '.join(diff)}")
    else:
        row.outcome = LOST if problems else RECOVERED
        notes.append("next wheel = clean wheel, byte for byte")
    return row.finish(notes, t0)


def new_project_odd(bench: Bench, backend: str, kind: str) -> Row:
    """`nox -s new` into an odd place (or with every file dated a day ahead), its `nox -s build`, the selftest."""
    t0 = time.perf_counter()
    base = bench.work / "new-odd" / backend
    if kind == "future":
        parent, fault, ahead = base / "future", "sources dated in the future", 86400.0
    else:
        parent = deep(base) if ODD[kind] is None else base / ODD[kind]
        fault, ahead = f"project path: {kind}", 0.0
    row = Row(fault, backend, WHEEL, "new project", LOST)
    dest, done = new_project(bench, backend, parent / "fastsum", ahead)
    wheels = sorted((dest / "dist").glob("*.whl"))
    if done.rc != 0 or len(wheels) != 1:
        row.outcome, row.note = refused_future(done, "nox -s build", dist_problems(dest / "dist"))
    else:
        row.outcome, row.note = selftest(bench, backend, wheels[0], "fastsum")
    row.seconds = time.perf_counter() - t0
    return row
