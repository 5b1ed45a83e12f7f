"""Virtual environments of their own for the development-loop tools, and commands bounded in time.

Shared by tools/instruments/coverage.py, tools/instruments/ccache.py and
tools/checks/sanitize.py: a venv made by uv, an editable install the
backend's way, a command killed with its process group at a timeout, and
pytest's outcome read from its output.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from tools.make.build import run, uv
from tools.registry.backends import backend as backend_of


def venv(where: Path, packages: Sequence[str], python: str = sys.executable) -> str:
    """A new virtual environment at `where` (uv, with pip) holding `packages`; its python."""
    run([uv(), "venv", "--quiet", "--seed", "--python", python, str(where)])
    py = str(where / "bin" / "python")
    if packages:
        run([uv(), "pip", "install", "--quiet", "--python", py, *packages])
    return py


def in_venv(py: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """os.environ and `env`, the venv's bin first on PATH: meson runs cython and ninja from PATH, at import too."""
    return {**os.environ, **(env or {}), "PATH": f"{Path(py).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def editable(
    py: str, backend: str, project: Path, args: Sequence[str] = (), env: Mapping[str, str] | None = None
) -> float:
    """steps.editable_install with frontend arguments and environment; return the wall time."""
    cmd = [py, "-m", "pip", "install", "--no-deps", "--no-build-isolation", *backend_of(backend).editable_args]
    return run([*cmd, *args, "-e", str(project)], env=in_venv(py, env))[0]


def run_bounded(
    cmd: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None, timeout: float
) -> tuple[int | None, str]:
    """Run `cmd` in a session of its own; its exit status (None: killed with its group at `timeout`) and output."""
    proc = subprocess.Popen(
        list(map(str, cmd)),
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return None, out
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, out


def pytest_outcome(output: str) -> tuple[str, list[str]]:
    """pytest's last summary line ("3 failed, 300 passed in 50.1s"), or the output's last line; the tests that failed."""
    lines = [line.strip("= ") for line in output.splitlines() if line.strip()]
    found = [line for line in lines if re.search(r"\d+ (passed|failed|error)|no tests ran", line)]
    failed = [line[:300] for line in lines if line.startswith(("FAILED ", "ERROR "))]
    return (found or lines or ["no output"])[-1], failed
