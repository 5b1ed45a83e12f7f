"""Read a template's configuration as a maintainer does: its code lines, without comments and docstrings.

`config_lines` and `dispatch_lines` are compare's configuration size: the
code lines of each configuration file, and those that choose an instruction
set (CPU dispatch done in the build system).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path

# Lines of a build file that choose an instruction set: CPU dispatch done in the build system.
INSTRUCTION_SET = re.compile(r"avx|sse\d|-march|-mcpu|simd|x86-64-v", re.IGNORECASE)


def _docstring_lines(text: str) -> set[int]:
    """0-based numbers of the lines of a Python file's docstrings: documentation, like comments."""
    lines = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and ast.get_docstring(node) is not None:
            doc = node.body[0]
            lines.update(range(doc.lineno - 1, doc.end_lineno))
    return lines


def code_lines(path: Path) -> list[str]:
    """The lines of a build or configuration file that are neither blank, nor comments, nor docstrings."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    docs = _docstring_lines(text) if path.suffix == ".py" else set()
    return [
        line
        for i, line in enumerate(text.splitlines())
        if line.strip() and not line.strip().startswith("#") and i not in docs
    ]


def config_lines(template: Path, files: Iterable[str]) -> dict[str, int]:
    """Code lines of each of a template's configuration `files` (names in the folder `template`)."""
    return {name: len(code_lines(template / name)) for name in files}


def dispatch_lines(template: Path, files: Iterable[str]) -> int:
    """Code lines of the configuration `files` that choose an instruction set (CPU dispatch in the build system)."""
    return sum(1 for name in files for line in code_lines(template / name) if INSTRUCTION_SET.search(line))
