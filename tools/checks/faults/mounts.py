"""Faults that need root on Linux, to mount: a read-only source tree, and out of disk."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tools.checks.faults.bench import Bench, judge_rerun
from tools.checks.faults.core import (
    CLEAR,
    LOST,
    RECOVERED,
    SKIPPED,
    WHEEL,
    Row,
    artifact_problems,
    checkout,
    nox,
    run,
    variant,
)

RENDER = "import sys; from pathlib import Path; from tools.make.render import render; render(sys.argv[1], Path(sys.argv[2]), sys.argv[3])"
READ_ONLY = "Read-only file system"
# The option that puts a backend's build folder outside the source tree.
OUT_OF_TREE = {"meson": "-Cbuild-dir={dir}", "cmake": "-Cbuild-dir={dir}"}


@contextlib.contextmanager
def _mounted_read_only(folder: Path) -> Iterator[str]:
    """`folder` bind-mounted read-only onto itself for the duration (root ignores file modes); yields why not, or ""."""
    for cmd in (["mount", "--bind", str(folder), str(folder)], ["mount", "-o", "remount,bind,ro", str(folder)]):
        if (done := subprocess.run(cmd, capture_output=True, text=True, check=False)).returncode:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)
            yield f"{shlex.join(cmd)} failed: {done.stderr.strip()}"
            return
    try:
        yield ""
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def read_only(bench: Bench, backend: str) -> Row:
    """The rendered project on a read-only mount: `python -m build` writes its sdist and wheel elsewhere.

    As build.py runs it (the sdist, then the wheel from it), but from a
    project folder no one may write to, as a source tree on a read-only
    share or in a container image is; the wheel must equal the reference.
    Where the backend fails naming the read-only folder, its option for a
    build folder elsewhere (OUT_OF_TREE) is tried, the wheel alone.
    """
    if skipped := skip_not_root("read-only source tree", backend):
        return skipped
    bench.repo(backend)  # the reference wheel
    t0 = time.perf_counter()
    base = bench.work / "readonly" / backend
    project, out = base / "project", base / "out"
    made = run(
        [sys.executable, "-c", RENDER, backend, str(project), variant(backend).name], cwd=bench.source, env=os.environ
    )
    row = Row("read-only source tree", backend, WHEEL, "rendered project", LOST)
    if made.rc != 0:
        row.outcome = SKIPPED
        return row.finish([f"could not render the project: {made.tail(3)}"], t0)
    frontend = [bench.frontend(), "-m", "build", "--installer=uv"]
    with _mounted_read_only(project) as why_not:
        if why_not:
            row.outcome = SKIPPED
            return row.finish([why_not], t0)
        done = run([*frontend, "--outdir", str(out), str(project)], cwd=base, env=bench.env(base / "tmp"))
    wheels = sorted(out.glob("*.whl")) if out.exists() else []
    said = next((line.strip() for line in done.out.splitlines() if READ_ONLY in line), "")
    notes: list[str] = []
    if done.rc == 0 and len(wheels) == 1:
        if diff := bench.compare(backend, wheels[0], f"{backend}-readonly"):
            notes.append(f"built; the wheel differs from the reference: {'; '.join(diff)}")
        else:
            row.outcome = RECOVERED
            notes.append("built from the read-only tree; wheel = clean wheel, byte for byte")
    elif said and backend == "setuptools":
        row.outcome = SKIPPED
        notes.append(
            "setuptools has no out-of-tree build: it writes build/ and *.egg-info into the source tree, "
            f"and says so: {said[:200]}"
        )
    elif said:
        row.outcome = CLEAR
        notes.append(f"failed naming the read-only folder: {said[:200]}")
        if backend in OUT_OF_TREE:  # the README's remedy, tried: a build folder elsewhere
            option, again = OUT_OF_TREE[backend].format(dir=base / "builddir"), base / "out-again"
            with _mounted_read_only(project):
                retry = run(
                    [*frontend, "--wheel", option, "--outdir", str(again), str(project)],
                    cwd=base,
                    env=bench.env(base / "tmp2"),
                )
            built = sorted(again.glob("*.whl")) if retry.rc == 0 else []
            diff = bench.compare(backend, built[0], f"{backend}-readonly-again") if built else []
            if not built:
                notes.append(
                    f"with {OUT_OF_TREE[backend].format(dir='DIR')} it fails too ({retry.rc}): {retry.tail(2)}"
                )
            elif diff:
                notes.append(
                    f"with {OUT_OF_TREE[backend].format(dir='DIR')} (the wheel alone) it builds; differs: {'; '.join(diff)}"
                )
            else:
                notes.append(
                    f"with {OUT_OF_TREE[backend].format(dir='DIR')} (the wheel alone) it builds; wheel = clean wheel"
                )
    else:
        notes.append(f"failed ({done.rc}): {done.tail(3)}")
    if problems := artifact_problems(out):
        row.outcome = LOST
        notes.append(f"out/: {'; '.join(problems)}")
    return row.finish(notes, t0)


def skip_not_root(fault: str, backend: str) -> Row | None:
    if sys.platform != "linux" or os.geteuid() != 0:
        return Row(fault, backend, WHEEL, "repo", SKIPPED, "needs root on Linux to mount a tmpfs")
    return None


# The tmpfs of the out-of-disk case, and the room left on it when the build starts.
TMPFS_SIZE = "256m"
ROOM = 4 * 1024 * 1024
FULL = re.compile(r"No space left on device|ENOSPC|Errno 28|Disk quota exceeded")


def out_of_disk(bench: Bench, backend: str) -> Row:
    """build/, dist/ and TMPDIR on a tmpfs with 4 MiB free: the error, what is left, then a build after room is made."""
    if skipped := skip_not_root("out of disk", backend):
        return skipped
    bench.repo(backend)  # the reference wheel
    t0 = time.perf_counter()
    base = bench.work / "disk" / backend
    repo = checkout(base / "repo", bench.source)
    small = base / "small"
    small.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(small)], capture_output=True, check=False
    )
    row = Row("out of disk", backend, WHEEL, "repo", SKIPPED)
    if mounted.returncode:
        row.note = f"mount -t tmpfs failed: {mounted.stderr.decode(errors='replace').strip()}"
        return row
    try:
        for name in ("build", "dist", "tmp"):
            (small / name).mkdir()
        (repo / "build").symlink_to(small / "build")
        (repo / "dist").symlink_to(small / "dist")
        filler = small / "filler"
        stat = os.statvfs(small)
        with filler.open("wb") as f:
            f.truncate(0)
            left = stat.f_bavail * stat.f_frsize - ROOM
            chunk = b"\0" * (1 << 20)
            while left > 0:  # written, not sparse: a tmpfs counts only the pages it holds
                left -= f.write(chunk[: min(len(chunk), left)])
        env = {**bench.env(small / "tmp")}
        full = run(nox(repo, f"build_{backend}", reuse=False), cwd=repo, env=env)
        dist = variant(backend).dist(repo)
        notes = []
        said = [line.strip() for line in full.out.splitlines() if FULL.search(line)]
        # Clear only when a line names the disk (its mount) beside the cause, as build.py's last word does.
        named = [line for line in said if str(small) in line]
        problems = artifact_problems(small / "dist")
        if full.rc == 0:
            notes.append("the build succeeded with 4 MiB free")
        elif named:
            notes.append(f"the error: {named[-1][:300]}")
        elif said:
            notes.append(f"failed ({full.rc}) saying the disk is full without naming it: {said[-1][:200]}")
        else:
            notes.append(f"failed ({full.rc}) without naming the disk: {full.tail(3)}")
        if problems:
            notes.append(f"dist/: {'; '.join(problems)}")
        filler.unlink()
        again = run(nox(repo, f"build_{backend}", reuse=True), cwd=repo, env=env)
        outcome = judge_rerun(bench, backend, repo, again, notes, f"{backend}-disk")
        stray = sorted(p.name for p in (small / "tmp").iterdir())
        if stray:
            notes.append(f"{len(stray)} temporary folder(s) of the failed build left in TMPDIR")
        row.outcome = CLEAR if outcome == RECOVERED and full.rc != 0 and named and not problems else LOST
        if full.rc == 0 and outcome == RECOVERED:
            row.outcome = RECOVERED
        row.note, row.seconds = "; ".join(notes), time.perf_counter() - t0
        row.details = {"dist": str(dist)}
    finally:
        subprocess.run(["umount", "-l", str(small)], capture_output=True, check=False)
    return row
