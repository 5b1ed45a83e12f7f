"""What every fault case needs: a checkout to break, bounded commands, a moment to strike, a verdict on dist/.

Every command runs in a session of its own and is killed with its whole
process group at its time limit, so that a fault that hangs a build fails
its row instead of the run. A signal goes to the build's whole process
group, as a terminal's Ctrl-C does and as a CI runner stops a job.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tools.checks.build_errors import COPY
from tools.instruments.reproducible import compare
from tools.make.render import ROOT
from tools.registry.variants import default_builds

RECOVERED, CLEAR, LOST, SKIPPED = "recovered", "clear error", "lost or wrong", "skipped"
OUTCOMES = (RECOVERED, CLEAR, LOST, SKIPPED)
WHEEL, EDITABLE = "wheel build", "editable install"
BUILD_LIMIT = 600.0  # seconds; a clean build here takes 10-20
STOP_LIMIT = 60.0  # after a signal: longer is a hang


# Rows "lost or wrong" through the backend itself: the row stays, with the backend's own issue beside it.
# (backend, the fault's name as it starts): what the backend does, the link, the remedy a README gives.
KNOWN = {
    ("meson", "4 imports at once"): (
        "meson-python's editable loader runs ninja in the one build folder without a lock, so processes that "
        "import at once rebuild over each other (mesonbuild/meson-python#380, closed as addressed by #387, which "
        "put the ABI tag in the build path, so one interpreter's processes still share one build folder: "
        "https://github.com/mesonbuild/meson-python/issues/380); remedy: "
        'one `python -c "import <pkg>"` rebuilds before the workers start'
    ),
    ("meson", "Cython changed"): (
        "meson does not rebuild when a compiler's version changes, and Cython is one of its compilers "
        "(mesonbuild/meson#10706, open, about rustc, any compiler agreed: "
        "https://github.com/mesonbuild/meson/issues/10706); remedy: remove build/ and reinstall"
    ),
}


def known(row: Row) -> str | None:
    """The backend issue behind a "lost or wrong" row, if it is one the report links (KNOWN)."""
    return next((why for (b, f), why in KNOWN.items() if row.backend == b and row.fault.startswith(f)), None)


@dataclass
class Row:
    fault: str
    backend: str
    mode: str  # WHEEL or EDITABLE
    where: str  # "repo" (nox -s build_<backend>) or "new project" (nox -s new, then its own build)
    outcome: str
    note: str = ""
    seconds: float = 0.0
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)

    def finish(self, notes: Sequence[str], t0: float) -> Row:
        """The row with its notes joined and the time since t0 (time.perf_counter()): every case's last line."""
        self.note, self.seconds = "; ".join(notes), time.perf_counter() - t0
        return self


@dataclass
class Done:
    rc: int | None  # None: killed at its time limit
    out: str
    seconds: float

    def tail(self, lines: int = 6) -> str:
        return " / ".join(line.strip() for line in self.out.strip().splitlines()[-lines:])


def run(cmd: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float = BUILD_LIMIT) -> Done:
    """Run `cmd` to its end or its time limit (then its group is killed)."""
    proc = Started(cmd, cwd=cwd, env=env)
    return proc.wait(timeout)


class Started:
    """A command running in a session of its own, its output kept in a file (readable while it runs)."""

    def __init__(self, cmd: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> None:
        # Not in cwd: a stray file there would be a new file to git and to an sdist.
        handle, name = tempfile.mkstemp(prefix="faults-", suffix=".log")
        os.close(handle)
        self.log = Path(name)
        self.t0 = time.perf_counter()
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                list(map(str, cmd)),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def running(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def wait(self, timeout: float) -> Done:
        try:
            rc: int | None = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
        finally:
            # Children of a finished command may linger (a build's compilers after its
            # frontend died), and a Ctrl-C of this tool must not leave a build running.
            self.signal(signal.SIGKILL)
            kill_session(self.proc.pid)
        if rc is None:
            self.proc.wait()
        done = Done(rc, self.output(), time.perf_counter() - self.t0)
        self.log.unlink(missing_ok=True)
        return done


def kill_session(sid: int) -> None:
    """SIGKILL every process of session `sid`: ninja starts each job in a process group of its own."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(stat.parent.name), signal.SIGKILL)


def wait_for(predicate: Callable[[], bool], proc: Started, timeout: float = BUILD_LIMIT, step: float = 0.005) -> bool:
    """Poll `predicate` until it holds (True) or `proc` ends or time runs out (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if not proc.running():
            return predicate()
        time.sleep(step)
    return False


def checkout(dest: Path, source: Path = ROOT) -> Path:
    """A copy of `source`'s sources at `dest` (what `nox -s build_<backend>` needs), no build/ or dist/.

    The run copies this repository once (Bench.source) and every checkout from
    that copy: the working tree is shared, and a template edited during a run
    (a README is the wheel's METADATA) must not read as a fault.
    """
    dest.mkdir(parents=True)
    for name in COPY:
        if (source / name).is_dir():
            shutil.copytree(source / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source / name, dest / name)
    return dest


def nox(repo: Path, session: str, *, reuse: bool) -> list[str]:
    """nox running `session` of repo's noxfile; reuse: the venv as it is, nothing installed (-R)."""
    return [sys.executable, "-m", "nox", "-f", str(repo / "noxfile.py"), *(["-R"] if reuse else []), "-s", session]


def variant(backend: str):
    return default_builds(backend=backend)[0]


def artifact_problems(dist: Path) -> list[str]:
    """What in dist/ (recursively) is not a complete sdist or wheel; temporary folders (a dot first) are named apart."""
    problems = []
    if not dist.exists():
        return problems
    for path in sorted(dist.rglob("*")):
        rel = path.relative_to(dist)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_dir():
            continue
        try:
            if path.name.endswith(".whl"):
                with zipfile.ZipFile(path) as z:
                    bad = z.testzip()
                if bad:
                    problems.append(f"{rel}: member {bad} corrupt")
            elif path.name.endswith(".tar.gz"):
                with tarfile.open(path) as t:
                    for member in t:
                        if member.isfile():
                            t.extractfile(member).read()
            else:
                problems.append(f"{rel}: not an sdist or wheel")
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as error:
            problems.append(f"{rel}: incomplete ({type(error).__name__}: {error})")
    return problems


def temporary_leftovers(dist: Path) -> list[str]:
    """The temporary (dot-named) folders and files a build left in dist/."""
    return sorted(str(p.relative_to(dist)) for p in dist.rglob(".*")) if dist.exists() else []


def same_wheel(one: Path, two: Path, scratch: Path) -> list[str]:
    """[] when the two wheels are equal byte for byte, else every difference reproducible.compare names."""
    scratch.mkdir(parents=True, exist_ok=True)
    result = compare(one, two, scratch)
    return [] if result["identical"] else result["differences"]


def wheel_in(dist: Path) -> Path | None:
    found = sorted(dist.glob("*.whl"))
    return found[0] if len(found) == 1 else None


# The C compiler wrapper that says when a call starts: the moment for a
# signal is read from what the build does, never from a guess of how long
# it takes. One line per call before the compiler runs.
WRAPPER = """#!/bin/sh
printf '%s\\n' "$*" >> {log}
exec {real} "$@"
"""
# Calls that configure (meson's sanity check, CMake's compiler id and
# try_compile, setup.py's OpenMP probe), link a module, compile a module's C.
CONFIGURE = re.compile(
    r"meson-private|sanity_?check|CMakeScratch|CMakeTmp|CompilerId|CMakeC\w*ABI|cmTC_|/omp(\.[co])?(\s|$)"
)
LINK = re.compile(r"(^|\s)-shared(\s|$)|\.so(\s|$)")
COMPILE = re.compile(r"(^|\s)-c(\s|$)")


def compiler_wrapper(where: Path) -> tuple[Path, Path]:
    """A CC that logs each call before it runs: (the wrapper, its log)."""
    real = shutil.which("cc") or shutil.which("gcc")
    if real is None:
        sys.exit("no cc or gcc on PATH")
    where.mkdir(parents=True, exist_ok=True)
    log, cc = where / "cc-calls.log", where / "cc"
    cc.write_text(WRAPPER.format(log=log, real=real), encoding="utf-8")
    cc.chmod(0o755)
    return cc, log


def calls(log: Path) -> list[str]:
    try:
        return log.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []


def phase_of(call: str) -> str:
    if CONFIGURE.search(call):
        return "configure"
    if LINK.search(call) and not COMPILE.search(call):
        return "link"
    if COMPILE.search(call):
        return "compile"
    return "other"
