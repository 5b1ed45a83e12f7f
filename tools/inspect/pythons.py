"""The Pythons this host has: a free-threaded CPython (3.14t and later), and a venv's interpreter.

`find` looks on PATH (python3.14t ... and a `python3`/`python` that is
free-threaded, as actions/setup-python's "3.14t" provides), among pyenv's
installed versions (3.14.0t ...) and in uv's (`uv python find`, which only
looks and never downloads). Every candidate is asked whether it was built
with Py_GIL_DISABLED: a name proves nothing. tools/checks/freethreaded.py
tests on what it finds, tools/instruments/freethreading.py times it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

# Free-threading is supported (no longer experimental) from 3.14 on (PEP 779).
MINORS = range(14, 20)

# Is the interpreter free-threaded, and new enough? Prints "yes" or "no".
_ASK = (
    "import sys, sysconfig; "
    "print('yes' if sysconfig.get_config_var('Py_GIL_DISABLED') and sys.version_info >= (3, 14) else 'no')"
)


def _is_freethreaded(python: str) -> bool:
    try:
        done = subprocess.run([python, "-c", _ASK], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.stdout.strip() == "yes"


def _output(*cmd: str) -> str:
    """A command's standard output, or "" when it fails or is missing."""
    try:
        done = subprocess.run(list(cmd), capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout if done.returncode == 0 else ""


def candidates() -> Iterator[str]:
    """Interpreters that may be free-threaded, most specific first (unchecked)."""
    for minor in MINORS:
        if found := shutil.which(f"python3.{minor}t"):
            yield found
    for name in ("python3", "python"):
        if found := shutil.which(name):
            yield found
    if shutil.which("pyenv"):
        root = Path(_output("pyenv", "root").strip())
        for version in _output("pyenv", "versions", "--bare", "--skip-aliases").split():
            if match := re.fullmatch(r"3\.(\d+)\.\d+t", version):
                yield str(root / "versions" / version / "bin" / f"python3.{match[1]}t")
    if shutil.which("uv"):
        for minor in MINORS:
            if found := _output("uv", "python", "find", "--no-project", f"3.{minor}t").strip():
                yield found


def find() -> str | None:
    """The first free-threaded CPython >= 3.14 found, or None."""
    seen = set()
    for python in candidates():
        if python in seen or not Path(python).exists():
            continue
        seen.add(python)
        if _is_freethreaded(python):
            return python
    return None


def venv_python(venv: Path) -> str:
    """The interpreter of a virtual environment made by `python -m venv`."""
    return str(venv / ("Scripts" if os.name == "nt" else "bin") / ("python.exe" if os.name == "nt" else "python"))
