"""Faults on a checkout of this repository: a signal at each phase, two builds at once, odd places, future dates."""

from __future__ import annotations

import os
import re
import time

from tools.checks.faults.bench import ODD, SIGNALS, Bench, deep, dist_problems, judge_rerun, refused_future, selftest
from tools.checks.faults.core import (
    BUILD_LIMIT,
    CLEAR,
    LOST,
    RECOVERED,
    SKIPPED,
    STOP_LIMIT,
    WHEEL,
    Row,
    Started,
    artifact_problems,
    calls,
    checkout,
    nox,
    phase_of,
    run,
    temporary_leftovers,
    variant,
    wait_for,
)
from tools.make.build import partial_folders

PHASES = ("configure", "compile", "link", "pack")


def interrupted(bench: Bench, backend: str, phase: str, name: str) -> Row:
    """Signal `nox -s build_<backend>` when `phase` starts, then run it again."""
    repo, t0 = bench.repo(backend), time.perf_counter()
    dist = variant(backend).dist(repo)
    tmp = bench.work / "tmp" / f"{backend}-{phase}-{name}"
    bench.cc_log.write_text("")
    proc = Started(nox(repo, f"build_{backend}", reuse=True), cwd=repo, env=bench.env(tmp))
    if phase == "pack":  # the wheel's file appears where the frontend writes it
        moment = lambda: any(any(f.glob("*.whl")) for f in partial_folders(variant(backend), repo))
    else:
        moment = lambda: any(phase_of(call) == phase for call in calls(bench.cc_log))
    hit = wait_for(moment, proc) and proc.running()
    if hit:
        proc.signal(SIGNALS[name])
    first = proc.wait(STOP_LIMIT if hit else BUILD_LIMIT)
    notes: list[str] = []
    row = Row(f"{name} during {phase}", backend, WHEEL, "repo", SKIPPED)
    if not hit:
        row.note = f"the moment was missed: the build ended ({first.rc}) before its {phase} was seen"
        return row
    if first.rc is None:
        notes.append(f"did not stop within {STOP_LIMIT:.0f} s of {name}")
    elif first.rc == 0:
        notes.append(f"{name} arrived during {phase} and the build still succeeded")
    if problems := artifact_problems(dist.parent):
        notes.append(f"dist/ after the fault: {'; '.join(problems)}")
    if left := temporary_leftovers(dist.parent):
        notes.append(f"temporary names left in dist/: {', '.join(left)}")
    if partial_folders(variant(backend), repo):
        notes.append("its build/.partial-* folder stayed until the next build")
    again = run(nox(repo, f"build_{backend}", reuse=True), cwd=repo, env=bench.env(tmp))
    row.outcome = judge_rerun(bench, backend, repo, again, notes, f"{backend}-{phase}-{name}")
    if problems or first.rc is None:
        row.outcome = LOST
    if stray := sorted(p.name for p in tmp.iterdir()):
        notes.append(f"{len(stray)} temporary folder(s) of the killed build left in TMPDIR ({', '.join(stray[:3])})")
    return row.finish(notes, t0)


def concurrent(bench: Bench, backend: str) -> Row:
    """A second `nox -s build_<backend>` in the same checkout while the first builds."""
    repo, t0 = bench.repo(backend), time.perf_counter()
    dist = variant(backend).dist(repo)
    tmp = bench.work / "tmp" / f"{backend}-concurrent"
    bench.cc_log.write_text("")
    lock = repo / "build" / ".lock"
    first = Started(nox(repo, f"build_{backend}", reuse=True), cwd=repo, env=bench.env(tmp / "1"))
    holds = lambda: lock.exists() and "pid" in lock.read_text(encoding="utf-8", errors="replace")
    row = Row("two builds at once", backend, WHEEL, "repo", SKIPPED)
    if not wait_for(holds, first):
        first.wait(BUILD_LIMIT)
        row.note = "the first build ended before it held the lock"
        return row
    # The second as a user types it: nox makes its venv anew, beside the first build.
    second = run(nox(repo, f"build_{backend}", reuse=False), cwd=repo, env=bench.env(tmp / "2"), timeout=BUILD_LIMIT)
    done = first.wait(BUILD_LIMIT)
    notes = []
    said = next((line for line in second.out.splitlines() if "another build is running" in line), "")
    if done.rc != 0:
        notes.append(f"the first build failed ({done.rc}): {done.tail()}")
    problems = artifact_problems(dist.parent)
    if problems:
        notes.append(f"dist/: {'; '.join(problems)}")
    wheels = variant(backend).wheels(repo)
    diff = bench.compare(backend, wheels[0], f"{backend}-concurrent") if len(wheels) == 1 else ["no single wheel"]
    if diff:
        notes.append(f"dist/ wheel differs from a clean one: {'; '.join(diff)}")
    if done.rc == 0 and not problems and not diff and second.rc != 0 and re.search(r"pid \d+", said):
        row.outcome = CLEAR
        notes.append(f"the second refused after {second.seconds:.1f} s (nox's venv set-up included): {said.strip()}")
    elif done.rc == 0 and second.rc == 0 and not problems and not diff:
        row.outcome = RECOVERED
        notes.append("both succeeded; dist/ holds one consistent wheel")
    else:
        row.outcome = LOST
        notes.append(f"the second: exit {second.rc}: {second.tail(3)}")
    return row.finish(notes, t0)


def odd_place(bench: Bench, backend: str, kind: str) -> Row:
    """A checkout under an odd path (TMPDIR beside it): `nox -s build_<backend>`, then the wheel's selftest."""
    t0 = time.perf_counter()
    base = bench.work / "odd" / backend
    parent = deep(base) if ODD[kind] is None else base / ODD[kind]
    repo = checkout(parent / "repo", bench.source)
    done = run(nox(repo, f"build_{backend}", reuse=False), cwd=repo, env=bench.env(parent / "tmp"))
    row = Row(f"checkout path: {kind}", backend, WHEEL, "repo", LOST, details={"path": str(repo)})
    wheels = variant(backend).wheels(repo)
    if done.rc != 0 or len(wheels) != 1:
        row.note = f"the build failed ({done.rc}): {done.tail()}"
        row.seconds = time.perf_counter() - t0
        return row
    row.outcome, row.note = selftest(bench, backend, wheels[0])
    if diff := bench.compare(backend, wheels[0], f"{backend}-odd-{kind}"):
        row.note += f"; the wheel differs from the reference: {'; '.join(diff)}"
    row.seconds = time.perf_counter() - t0
    return row


def future_mtimes(bench: Bench, backend: str) -> Row:
    """Every file of the checkout dated a day ahead: `nox -s build_<backend>`, the selftest, the wheel's bytes."""
    t0 = time.perf_counter()
    repo = checkout(bench.work / "future" / backend / "repo", bench.source)
    ahead = time.time() + 86400
    for path in [repo, *repo.rglob("*")]:
        os.utime(path, (ahead, ahead), follow_symlinks=False)
    done = run(nox(repo, f"build_{backend}", reuse=False), cwd=repo, env=bench.env(repo.parent / "tmp"))
    row = Row("sources dated in the future", backend, WHEEL, "repo", LOST)
    wheels = variant(backend).wheels(repo)
    if done.rc != 0 or len(wheels) != 1:
        row.outcome, row.note = refused_future(done, "the build", dist_problems(variant(backend).dist(repo)))
    else:
        row.outcome, row.note = selftest(bench, backend, wheels[0])
        if diff := bench.compare(backend, wheels[0], f"{backend}-future"):
            row.note += f"; the wheel differs from the reference: {'; '.join(diff)}"
        else:
            row.note += "; wheel = clean wheel, byte for byte"
    row.seconds = time.perf_counter() - t0
    return row
