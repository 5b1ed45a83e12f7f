"""Read a template's configuration as a maintainer does: its code lines, without comments and docstrings."""

from __future__ import annotations

import ast
from pathlib import Path


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
