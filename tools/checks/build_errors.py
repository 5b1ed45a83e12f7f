"""Check that a failed build session says what is missing and what to do.

Runs the real `nox -s build_<backend>` sessions on a copy of this repository
(build/ and dist/ here stay as they are) with a toolchain made to fail:

- no C compiler: CC=/nonexistent, which every backend takes before any default;
- OpenMP asked for but missing: CC is a wrapper around the real compiler that
  refuses -fopenmp, as Apple's clang does, and the backend's OpenMP switch is on.

Each session must fail and end with the diagnosis from tools/building.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nox

from tools.building import openmp_switch
from tools.render import BACKENDS, ROOT, variant

COPY = ("noxfile.py", "pyproject.toml", "LICENSE", "tools", "shared", *BACKENDS)
# The diagnosis must be among the last lines, not buried above a traceback.
TAIL = 15

NO_OPENMP_CC = """#!/bin/sh
# A C compiler without OpenMP: it refuses -fopenmp, as Apple's clang does.
for arg do
  case $arg in
    -fopenmp*) echo "cc: error: unsupported option '$arg' (no OpenMP here)" >&2; exit 1 ;;
  esac
done
exec {real} "$@"
"""


def _scenarios(backend: str, wrapper: Path):
    """(label, environment, session arguments, phrases the diagnosis must contain)."""
    yield (
        "no C compiler",
        {"CC": "/nonexistent"},
        [],
        ["for want of", "a C compiler", "/nonexistent", "apt-get install"],
    )
    args, env = openmp_switch(backend, variant(backend), "on")
    off_args, off_env = openmp_switch(backend, variant(backend), "off")
    yield (
        "OpenMP on, compiler without it",
        {"CC": str(wrapper), **env},
        args,
        ["for want of", "OpenMP", *off_args, *(f"{k}={v}" for k, v in off_env.items())],
    )


def check(session: nox.Session, *backends: str) -> None:
    """Run every failing scenario for `backends` (default: all); stop on a missing diagnosis."""
    if sys.platform == "win32":
        session.skip("the scenarios use a POSIX shell wrapper and CC")
    real = shutil.which("cc") or shutil.which("gcc")
    if real is None:
        session.error("no cc or gcc on PATH: the OpenMP scenario wraps the real compiler")
    wrong = []
    with tempfile.TemporaryDirectory(prefix="build-errors-") as tmp:
        repo = Path(tmp, "repo")
        for name in COPY:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                repo.mkdir(exist_ok=True)
                shutil.copy2(source, repo / name)
        wrapper = Path(tmp, "cc-without-openmp")
        wrapper.write_text(NO_OPENMP_CC.format(real=real))
        wrapper.chmod(0o755)
        for backend in backends or BACKENDS:
            for label, env, args, phrases in _scenarios(backend, wrapper):
                command = [sys.executable, "-m", "nox", "-f", str(repo / "noxfile.py"), "-s", f"build_{backend}"]
                command += ["--", *args] if args else []
                session.log(
                    f"{backend}, {label}: {' '.join(f'{k}={v}' for k, v in env.items())} {' '.join(command[1:])}"
                )
                done = subprocess.run(
                    command,
                    check=False,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    env={**os.environ, **env},
                    cwd=repo,
                )
                tail = done.stdout.strip().splitlines()[-TAIL:]
                missing = [p for p in phrases if p not in "\n".join(tail)]
                for line in tail[-8:]:
                    session.log(f"    | {line}")
                if done.returncode == 0 or missing:
                    wrong.append(f"{backend}, {label}: exit status {done.returncode}, missing {missing}")
    if wrong:
        session.error("build errors not explained:\n" + "\n".join(wrong))
    session.log(f"every scenario failed with its diagnosis ({len(backends or BACKENDS) * 2} builds)")
