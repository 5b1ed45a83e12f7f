"""The run's shared state (Bench), and what every case judges with: the next run, the wheel's selftest, a refusal."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

from tools.checks.faults.core import (
    CLEAR,
    LOST,
    RECOVERED,
    Done,
    artifact_problems,
    checkout,
    compiler_wrapper,
    nox,
    run,
    same_wheel,
    temporary_leftovers,
    variant,
)
from tools.instruments.reproducible import epoch
from tools.make.build import uv
from tools.make.render import ROOT

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


def judge_rerun(bench: Bench, backend: str, repo: Path, again: Done, notes: list[str], tag: str) -> str:
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


def deep(base: Path, length: int = 200) -> Path:
    path, i = base, 0
    while len(str(path)) <= length:
        i += 1
        path = path / f"nested-folder-{i:02d}"
    return path


# A build tool's refusal of files dated ahead of the clock (meson: "Clock skew detected. File ... has a time
# stamp 86393s in the future."): the cause named, so a clear error, when nothing half-made is left.
SKEW = re.compile(r"[Cc]lock skew|in the future")


def dist_problems(dist: Path) -> list[str]:
    return artifact_problems(dist) + [f"{name}: temporary" for name in temporary_leftovers(dist)]


def refused_future(done: Done, what: str, problems: list[str]) -> tuple[str, str]:
    """The outcome of a build that failed on files dated in the future: CLEAR if it said so, LOST if not."""
    said = next((line.strip() for line in done.out.splitlines() if SKEW.search(line)), "")
    if said and not problems:
        return CLEAR, f"{what} refused, naming the cause: {said[:250]}"
    extra = f"; dist/: {'; '.join(problems)}" if problems else ""
    return LOST, f"{what} failed ({done.rc}): {done.tail()}{extra}"


def selftest(bench: Bench, backend: str, wheel: Path, name: str | None = None) -> tuple[str, str]:
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
