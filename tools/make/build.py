"""Build a rendered project into an sdist and wheels; the one builder every session and instrument calls.

    python -m tools.make.build LABEL [LABEL ...] [--root DIR] [--python PY] [-- FRONTEND ARGS]

renders each variant's template (tools/registry/variants.py) into
<root>/build/<folder>/ as `mathcore_<label>`, builds its sdist, then a wheel
from that sdist, into the variant's dist folder, and lists what it wrote.
Building the wheel from the sdist makes a file missing from the sdist fail
here, not on a user's machine.

A build that fails for want of a C compiler, of Python's headers or of an
OpenMP that was asked for ends in a long backend traceback; `build` then
probes the toolchain the way the backends use it (tools/make/diagnose.py)
and raises BuildFailed with what is missing and what to do (the command
line prints it last).
Before the toolchain it names a full disk (the build's output said ENOSPC,
or a disk it writes to has under 64 MiB free: the mount and its room) and a
missing frontend (`python -m build` without the build package).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import errno
import fcntl
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from tools.make.diagnose import diagnose, disk_full, full_line
from tools.make.render import ROOT, render
from tools.registry.variants import Variant, by_label


class StepFailed(RuntimeError):
    """A command failed; the message holds the command and the tail of its output."""


class BuildFailed(StepFailed):
    """A build failed; the message says what the toolchain lacks, where that can be found out."""


def run(cmd: Sequence[str], cwd: Path | None = None, env: Mapping[str, str] | None = None) -> tuple[float, str]:
    """Run `cmd`; return its wall time and its output (stdout + stderr); raise StepFailed if it fails."""
    t0 = time.perf_counter()
    proc = subprocess.run(list(map(str, cmd)), cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode:
        msg = f"failed ({proc.returncode}): {shlex.join(map(str, cmd))}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
        raise StepFailed(msg)
    return elapsed, proc.stdout + proc.stderr


def uv() -> str:
    """The uv executable, or stop with what to install."""
    found = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if not found:
        sys.exit("uv is not installed in this environment")
    return found


def build(
    project: Path,
    out: Path,
    *,
    python: str = sys.executable,
    frontend: str = "build",
    sdist: bool = True,
    isolated: bool = True,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    echo: bool = False,
) -> float:
    """Build `project` into `out`; return the wall time.

    frontend "build" (`python -m build` with uv installing, what the sessions
    use), "uv" (`uv build`, what users get) or "pip" (`pip wheel`); sdist:
    the sdist first, then the wheel from it (pip builds wheels only); echo:
    the build's output goes to the terminal instead of being kept.
    """
    no_isolation = [] if isolated else ["--no-build-isolation"]
    if frontend == "build":
        kind = [] if sdist else ["--wheel"]
        cmd = [python, "-m", "build", "--installer=uv", *kind, *no_isolation, "--outdir", str(out), str(project)]
    elif frontend == "uv":
        kind = [] if sdist else ["--wheel"]
        cmd = [uv(), "build", *kind, "--python", python, *no_isolation, "-o", str(out), str(project)]
    elif frontend == "pip" and not sdist:
        cmd = [python, "-m", "pip", "wheel", "--no-deps", *no_isolation, "-w", str(out), str(project)]
    else:
        msg = f"unknown frontend {frontend!r} (or pip asked for an sdist)"
        raise ValueError(msg)
    cmd += args
    environ = {**os.environ, **(env or {})}
    t0 = time.perf_counter()
    if echo:
        failed, said = _tee(cmd, environ)
        output = ""
    else:
        done = subprocess.run(cmd, env=environ, capture_output=True, text=True, check=False)
        failed, output = done.returncode != 0, done.stdout[-3000:] + done.stderr[-3000:]
        said = ""
        for line in (done.stdout + done.stderr).splitlines():
            said = full_line(said, line)
    elapsed = time.perf_counter() - t0
    if failed:
        why = disk_full(said, [project, out, Path(environ.get("TMPDIR") or tempfile.gettempdir())]) or diagnose(
            project, args, environ, python, frontend
        )
        msg = f"{output}{why}{_missing_source(project, out)}"
        raise BuildFailed(msg)
    return elapsed


def _tee(cmd: Sequence[str], environ: Mapping[str, str]) -> tuple[bool, str]:
    """Run `cmd`, its output (stderr merged) passed to ours line by line; (failed, its first line naming a full disk)."""
    said = ""
    proc = subprocess.Popen(
        cmd, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    )
    try:
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            said = full_line(said, line)
        return proc.wait() != 0, said
    except BaseException as error:  # Ctrl-C, SIGTERM (_terminated): the frontend goes too
        # As subprocess.run does, a moment for the frontend to remove its temporary folders
        # (Ctrl-C reached it too, one process group; SIGTERM to this process alone is passed on).
        try:
            if not isinstance(error, KeyboardInterrupt):
                proc.terminate()
            proc.wait(timeout=STOP_GRACE)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            pass
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        raise


STOP_GRACE = 5.0  # seconds a stopped build's frontend has to clean up before it is killed


def _missing_source(project: Path, out: Path) -> str:
    """The likely cause when the wheel failed to build from the sdist: a source that git ignores or lacks.

    tools/checks/contents.py reads the one sdist in `out` (the wheel never
    came) against the project; run as a command, as the checks are.
    """
    if len(list(Path(out).glob("*.tar.gz"))) != 1 or list(Path(out).glob("*.whl")):
        return ""
    done = subprocess.run(
        [sys.executable, "-m", "tools.checks.contents", str(out), "--project", str(project)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return "".join(f"\n{line}" for line in done.stdout.splitlines() if line.startswith("likely cause:"))


class Busy(RuntimeError):
    """Another build holds this checkout's lock; the message names it."""


@contextlib.contextmanager
def checkout_lock(root: Path = ROOT) -> Iterator[None]:
    """Hold root/build/.lock for the duration, or raise Busy at once naming the holder.

    Two builds in one checkout would delete and rewrite each other's build/
    and dist/ folders. flock is released by the kernel when its holder dies,
    even by SIGKILL, so a stale lock never needs cleaning up.
    """
    path = root / "build" / ".lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "a process that has not written its name yet"
            msg = f"another build is running in this checkout: {holder} (lock {path}); wait for it or stop it"
            raise Busy(msg) from None
        lock.seek(0)
        lock.truncate()
        since = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        lock.write(f"pid {os.getpid()}, `{shlex.join(sys.argv)}`, since {since}\n")
        lock.flush()
        try:
            yield
        finally:
            lock.truncate(0)


def partial_folders(v: Variant, root: Path = ROOT) -> list[Path]:
    """The temporary folders where builds of v write (one while a build runs; a killed build's until the next)."""
    return sorted((root / "build").glob(f".partial-{v.label}-*"))


def _move_in(done: Path, target: Path) -> None:
    """Move a finished file to `target` so that `target` is never seen half written."""
    try:
        done.replace(target)  # a rename: atomic
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        # dist/ on another file system than build/: copy beside the target, then rename there.
        part = target.with_name(f".{target.name}.part")
        shutil.copyfile(done, part)
        part.replace(target)


def build_variant(v: Variant, root: Path = ROOT, args: Sequence[str] = (), python: str = sys.executable) -> list[Path]:
    """Render v into root/build/<folder>, then its sdist and a wheel from it into its dist folder; the files written.

    The frontend writes into a temporary folder under build/ (the file system
    of dist/ as a rule), and each finished file is moved into the dist folder
    with a rename (os.replace), which is atomic: a build killed at any moment,
    SIGKILL included, leaves no partial sdist or wheel in dist/, only a
    `build/.partial-<label>-*` folder that the next build of the variant removes.
    """
    project, out = root / "build" / v.folder, v.dist(root)
    # The second glob: the temporary folders of builders before this one, beside the dist folder.
    stale = [*partial_folders(v, root), *out.parent.glob(f".{out.name}-partial-*")]
    for old in (project, out, *stale):
        shutil.rmtree(old, ignore_errors=True)
    render(v.backend, project, v.name)
    v_args, v_env = v.settings()
    if v_args or v_env:
        print(f"{v.name}: {v.switches()}", flush=True)
    partial = Path(tempfile.mkdtemp(dir=root / "build", prefix=f".partial-{v.label}-"))
    try:
        build(project, partial, python=python, args=[*v_args, *args], env=v_env, echo=True)
        out.mkdir(parents=True, exist_ok=True)
        # The sdist first: a wheel in dist/ then always has its sdist beside it.
        for done in sorted(partial.iterdir(), key=lambda p: p.suffix == ".whl"):
            _move_in(done, out / done.name)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return sorted(out.iterdir())


def _terminated(signum: int, _frame: object) -> None:
    # SIGTERM (CI cancelling a job, `kill PID`) unwinds like Ctrl-C, so that
    # the build's temporary folder is removed on the way out.
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(
        prog="python -m tools.make.build", description=__doc__.split("\n\n")[0], epilog="after --: frontend arguments"
    )
    parser.add_argument("labels", nargs="+", metavar="LABEL", help="variants to build (tools/registry/variants.py)")
    parser.add_argument("--root", type=Path, default=ROOT, help="where build/ and the dist folders go")
    parser.add_argument("--python", default=sys.executable, help="the Python that builds (default: this one)")
    args = parser.parse_args(argv)
    try:
        variants = [by_label(label) for label in args.labels]
    except KeyError as error:
        parser.error(str(error.args[0]))
    signal.signal(signal.SIGTERM, _terminated)
    try:
        with checkout_lock(args.root):
            for v in variants:
                written = build_variant(v, args.root, extra, args.python)
                for path in written:
                    print(f"built {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}", flush=True)
    except (BuildFailed, Busy) as error:
        print(error, file=sys.stderr)
        return 1
    except OSError as error:  # rendering the project, or moving the files into dist/, on a full disk
        if error.errno not in {errno.ENOSPC, errno.EDQUOT}:
            raise
        print(disk_full(str(error), [args.root / "build", error.filename or args.root]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
