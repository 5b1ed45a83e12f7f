"""`nox -s lint`'s template check: the three templates hold one naming scheme, and a break of it fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.checks.templates import NAME, naming
from tools.make.render import render
from tools.registry.backends import NAMES


@pytest.fixture
def projects(tmp_path: Path) -> dict[str, Path]:
    return {b: render(b, tmp_path / b, NAME, git=False) for b in NAMES}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} no longer holds {old!r}: update this test"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_templates_hold_the_scheme(projects):
    assert naming(projects) == []


# Each a break of the scheme as it could creep in: (backend, file, old text, new text, what the check must say).
BREAKS = [
    ("cmake", "CMakeLists.txt", f"{NAME.upper()}_OPENMP", "OPENMP", "cmake: cache variables"),
    ("cmake", "CMakeLists.txt", "set(c_args ", "set(c_flags ", "named c_args"),
    ("cmake", "CMakeLists.txt", "${package}/${name}.pyx", f"src/{NAME}/${{name}}.pyx", "package folder"),
    ("meson", "meson.options", "option('openmp'", "option('OpenMP'", "not lower case"),
    ("setuptools", "setup.py", f'"{NAME.upper()}_SHARED_UTILITY"', '"SHARED_UTILITY"', "lack the prefix"),
    ("setuptools", "setup.py", "c_args, link_args = ", "compile_args, link_args = ", "named c_args"),
]


@pytest.mark.parametrize(("backend", "file", "old", "new", "said"), BREAKS)
def test_a_break_of_the_scheme_fails(projects, backend, file, old, new, said):
    edit(projects[backend] / file, old, new)
    problems = naming(projects)
    assert any(said in p for p in problems), problems
