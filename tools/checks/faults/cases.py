"""The faults, one function each: play it against one backend, then judge what is left and what the next run does."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tools.checks.faults.core import (
    BUILD_LIMIT,
    CLEAR,
    LOST,
    RECOVERED,
    SKIPPED,
    STOP_LIMIT,
    WHEEL,
    Done,
    Row,
    Started,
    artifact_problems,
    calls,
    checkout,
    compiler_wrapper,
    nox,
    phase_of,
    run,
    same_wheel,
    temporary_leftovers,
    variant,
    wait_for,
)
from tools.instruments.reproducible import epoch
from tools.make.build import partial_folders, uv
from tools.make.render import ROOT

PHASES = ("configure", "compile", "link", "pack")
SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}
# Odd places for a checkout: the folder names, the last one nested until the path passes 200 characters.
ODD = {"space": "with space", "non-ASCII": "ünïcødé-ßø", "over 200 characters": None}


class Bench:
    """The run's shared state: its folder, the compiler wrapper, and per backend a built checkout and its wheel."""

    def __init__(self, work: Path) -> None:
        self.work = work
        # One copy of the sources for the whole run: every checkout and new project is made from it.
        self.source = checkout(work / "source")
        # and the tests `nox -s new` copies into a new project
        shutil.copytree(ROOT / "tests", self.source / "tests", ignore=shutil.ignore_patterns("__pycache__"))
        self.cc, self.cc_log = compiler_wrapper(work / "wrapper")
        self.epoch = epoch()
        self.repos: dict[str, Path] = {}
        self.reference: dict[str, Path] = {}
        self._python: str | None = None

    def env(self, tmp: Path) -> dict[str, str]:
        """The environment of every build: reproducible, the logging CC, and a TMPDIR of the case's own."""
        tmp.mkdir(parents=True, exist_ok=True)
        return {**os.environ, "SOURCE_DATE_EPOCH": self.epoch, "CC": str(self.cc), "TMPDIR": str(tmp)}

    def repo(self, backend: str) -> Path:
        """backend's checkout, built once clean: that build's wheel is the reference every later one must equal."""
        if backend not in self.repos:
            repo = checkout(self.work / f"repo-{backend}", self.source)
            done = run(nox(repo, f"build_{backend}", reuse=False), cwd=repo, env=self.env(self.work / "tmp" / "clean"))
            wheels = variant(backend).wheels(repo)
            if done.rc != 0 or len(wheels) != 1:
                msg = f"the clean build of {backend} failed ({done.rc}): {done.tail()}"
                raise RuntimeError(msg)
            keep = self.work / "reference" / backend
            keep.mkdir(parents=True)
            self.reference[backend] = Path(shutil.copy2(wheels[0], keep))
            self.repos[backend] = repo
        return self.repos[backend]

    def python(self) -> str:
        """A venv that installs the wheels the odd-place cases built, to run their selftest."""
        if self._python is None:
            where = self.work / "venv"
            subprocess.run([uv(), "venv", "--quiet", str(where)], check=True, timeout=300)
            self._python = str(where / "bin" / "python")
        return self._python

    def frontend(self) -> str:
        """self.python() with `build` installed, the frontend build.py runs."""
        py = self.python()
        subprocess.run([uv(), "pip", "install", "--quiet", "--python", py, "build"], check=True, timeout=300)
        return py

    def compare(self, backend: str, wheel: Path, scratch: str) -> list[str]:
        self.repo(backend)  # the reference, when no earlier case built it (--only odd)
        return same_wheel(self.reference[backend], wheel, self.work / "scratch" / scratch)


def _judge_rerun(bench: Bench, backend: str, repo: Path, again: Done, notes: list[str], tag: str) -> str:
    """The outcome once the same command ran again: RECOVERED when it built a wheel equal to the reference."""
    wheels = variant(backend).wheels(repo)
    if again.rc != 0 or len(wheels) != 1:
        notes.append(f"the next run failed ({again.rc}): {again.tail()}")
        return LOST
    if diff := bench.compare(backend, wheels[0], tag):
        notes.append(f"the next wheel differs from a clean one: {'; '.join(diff)}")
        return LOST
    notes.append("next wheel = clean wheel, byte for byte")
    return RECOVERED


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
    row.outcome = _judge_rerun(bench, backend, repo, again, notes, f"{backend}-{phase}-{name}")
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


def _deep(base: Path, length: int = 200) -> Path:
    path, i = base, 0
    while len(str(path)) <= length:
        i += 1
        path = path / f"nested-folder-{i:02d}"
    return path


def odd_place(bench: Bench, backend: str, kind: str) -> Row:
    """A checkout under an odd path (TMPDIR beside it): `nox -s build_<backend>`, then the wheel's selftest."""
    t0 = time.perf_counter()
    base = bench.work / "odd" / backend
    parent = _deep(base) if ODD[kind] is None else base / ODD[kind]
    repo = checkout(parent / "repo", bench.source)
    done = run(nox(repo, f"build_{backend}", reuse=False), cwd=repo, env=bench.env(parent / "tmp"))
    row = Row(f"checkout path: {kind}", backend, WHEEL, "repo", LOST, details={"path": str(repo)})
    wheels = variant(backend).wheels(repo)
    if done.rc != 0 or len(wheels) != 1:
        row.note = f"the build failed ({done.rc}): {done.tail()}"
        row.seconds = time.perf_counter() - t0
        return row
    row.outcome, row.note = _selftest(bench, backend, wheels[0])
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
        row.outcome, row.note = _refused_future(done, "the build", dist_problems(variant(backend).dist(repo)))
    else:
        row.outcome, row.note = _selftest(bench, backend, wheels[0])
        if diff := bench.compare(backend, wheels[0], f"{backend}-future"):
            row.note += f"; the wheel differs from the reference: {'; '.join(diff)}"
        else:
            row.note += "; wheel = clean wheel, byte for byte"
    row.seconds = time.perf_counter() - t0
    return row


# A build tool's refusal of files dated ahead of the clock (meson: "Clock skew detected. File ... has a time
# stamp 86393s in the future."): the cause named, so a clear error, when nothing half-made is left.
SKEW = re.compile(r"[Cc]lock skew|in the future")


def dist_problems(dist: Path) -> list[str]:
    return artifact_problems(dist) + [f"{name}: temporary" for name in temporary_leftovers(dist)]


def _refused_future(done: Done, what: str, problems: list[str]) -> tuple[str, str]:
    """The outcome of a build that failed on files dated in the future: CLEAR if it said so, LOST if not."""
    said = next((line.strip() for line in done.out.splitlines() if SKEW.search(line)), "")
    if said and not problems:
        return CLEAR, f"{what} refused, naming the cause: {said[:250]}"
    extra = f"; dist/: {'; '.join(problems)}" if problems else ""
    return LOST, f"{what} failed ({done.rc}): {done.tail()}{extra}"


def _selftest(bench: Bench, backend: str, wheel: Path, name: str | None = None) -> tuple[str, str]:
    py = bench.python()
    name = name or variant(backend).name
    install = subprocess.run(
        [uv(), "pip", "install", "--quiet", "--reinstall", "--python", py, str(wheel)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if install.returncode:
        return LOST, f"the wheel does not install: {install.stderr.strip()[-300:]}"
    done = run([py, "-m", f"{name}.selftest"], cwd=bench.work, env=os.environ, timeout=300)
    last = done.out.strip().splitlines()[-1:] or ["no output"]
    return (RECOVERED if done.rc == 0 else LOST), f"built; selftest: {last[0]}"


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
        outcome = _judge_rerun(bench, backend, repo, again, notes, f"{backend}-disk")
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
        parent = _deep(base) if ODD[kind] is None else base / ODD[kind]
        fault, ahead = f"project path: {kind}", 0.0
    row = Row(fault, backend, WHEEL, "new project", LOST)
    dest, done = new_project(bench, backend, parent / "fastsum", ahead)
    wheels = sorted((dest / "dist").glob("*.whl"))
    if done.rc != 0 or len(wheels) != 1:
        row.outcome, row.note = _refused_future(done, "nox -s build", dist_problems(dest / "dist"))
    else:
        row.outcome, row.note = _selftest(bench, backend, wheels[0], "fastsum")
    row.seconds = time.perf_counter() - t0
    return row
