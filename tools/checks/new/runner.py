"""What every part of test_new shares: the project's name, its docs, edits as a user makes them, commands run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tools.make.render import rename as _rename

NAME = "fastsum"
# A generated project's docs: its README (the PyPI page), the developer's manual, the guide to moving a package in.
DOCS = ("README.md", "DEVELOPING.md", "MOVING.md")


def rename(text: str) -> str:
    """`text`, written with the placeholder package name, for the project named NAME."""
    return _rename(text, NAME)


def replace(path: Path, old: str, new: str) -> None:
    """Replace the one occurrence of `old` in `path` by `new`, as a user edits the file."""
    text = path.read_text(encoding="utf-8")
    if text.count(old) != 1:
        msg = f"{path.name}: expected {old!r} once, found it {text.count(old)} times: update tools/checks/new/"
        raise ValueError(msg)
    path.write_text(text.replace(old, new), encoding="utf-8")


def line(path: Path, pattern: str) -> str:
    """The one whole line of `path` that matches `pattern`."""
    found = re.findall(rf"^{pattern}$", path.read_text(encoding="utf-8"), re.MULTILINE)
    if len(found) != 1:
        msg = f"{path.name}: expected one line matching {pattern!r}, found {found}: update tools/checks/new/"
        raise ValueError(msg)
    return found[0]


class Failed(Exception):
    """A step of the README did not work as it says; the message says how."""


def log(message: str) -> None:
    print(f"test_new: {message}", flush=True)


def tool(name: str) -> str:
    """An executable installed beside this Python (the session's environment)."""
    return shutil.which(name, path=str(Path(sys.executable).parent)) or name


def run(*cmd: str, env: dict[str, str] | None = None) -> None:
    """Run a command with its output shown; a failure stops the check."""
    print(f"$ {' '.join(cmd)}", flush=True)
    if subprocess.run(cmd, env={**os.environ, **(env or {})}, check=False).returncode != 0:
        msg = f"failed: {' '.join(cmd)}"
        raise Failed(msg)


def run_nox(project: Path, *sessions: str, env: dict[str, str] | None = None, capture: bool = False) -> str:
    """The project's own noxfile; with `capture`, its output is returned (and a failure is not an error)."""
    cmd = [sys.executable, "-m", "nox", "--noxfile", str(project / "noxfile.py"), "--sessions", *sessions]
    if not capture:
        run(*cmd, env=env)
        return ""
    done = subprocess.run(cmd, env={**os.environ, **(env or {})}, capture_output=True, text=True, check=False)
    return done.stdout + done.stderr


def docs(project: Path) -> str:
    """The project's docs, one after the other."""
    return "\n".join((project / doc).read_text(encoding="utf-8") for doc in DOCS if (project / doc).is_file())


def changed_lines(project: Path, before: dict[str, list[str]]) -> dict[str, list[str]]:
    """Per file of `before` (its lines then), the lines of it now that were not there."""
    now = {file: (project / file).read_text(encoding="utf-8").splitlines() for file in before}
    return {file: [text for text in lines if text not in before[file]] for file, lines in now.items()}


def snapshot(project: Path, files: list[str]) -> dict[str, list[str]]:
    return {file: (project / file).read_text(encoding="utf-8").splitlines() for file in files}


def docs_gaps(project: Path, added: dict[str, list[str]], whole: dict[str, str] | None = None) -> list[str]:
    """What the steps wrote that the project's docs do not show: every line, and `whole` files as they are."""
    text = docs(project)
    shown = {line.strip() for line in text.splitlines()}
    # A line shown with "..." between words stands for the lines that hold them in order: `set(MODULES ... _arraysum)`.
    parts = [line.split("...") for line in shown if "..." in line]
    elided = [re.compile(".*".join(map(re.escape, p))) for p in parts if all(part.strip() for part in p)]

    def is_shown(line: str) -> bool:
        return line.strip() in shown or any(pattern.fullmatch(line.strip()) for pattern in elided)

    gaps = [f"{file}: {line.strip()}" for file, lines in added.items() for line in lines if not is_shown(line)]
    gaps += [f"{file}, as a whole" for file, content in (whole or {}).items() if rename(content) not in text]
    return gaps
