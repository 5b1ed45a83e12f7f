"""Rendering a template, a new project's files for its one backend, and what a failed build is told."""

from __future__ import annotations

import ast

import pytest

from tools.make.diagnose import _openmp_requested, diagnose
from tools.make.new import EXTRAS, for_backend
from tools.make.render import add_modules, check_name, modules, render
from tools.registry.backends import NAMES

OTHERS = {
    "setuptools": ["mesonpy", "refuse_uncommitted", "EDITABLE_SETTINGS", "editable.rebuild"],
    "meson": ["EDITABLE_SETTINGS", "editable.rebuild"],
    "cmake": ["refuse_uncommitted", "import subprocess"],
}


@pytest.mark.parametrize("backend", NAMES)
def test_add_modules_appends_to_the_one_list(tmp_path, backend):
    project = render(backend, tmp_path / backend, "pkg", git=False)
    before = modules(project, backend)
    assert before == ["_core", "_kernels"]
    add_modules(project, backend, ["_extra", "_more"])
    assert modules(project, backend) == [*before, "_extra", "_more"]


@pytest.mark.parametrize("backend", NAMES)
def test_new_noxfile_holds_only_its_backend(backend):
    text = for_backend((EXTRAS / "noxfile.py").read_text(), backend)
    ast.parse(text)
    assert "# only:" not in text
    assert ">>>" not in text
    assert "<<<" not in text
    for word in OTHERS[backend]:
        assert word not in text, f"{backend}'s noxfile holds {word!r}"


def test_for_backend_keeps_marked_lines_without_markers():
    text = "a\nb  # only: meson, cmake\n# >>> setuptools\nc\n# <<< setuptools\nd\n"
    assert for_backend(text, "meson") == "a\nb\nd\n"
    assert for_backend(text, "setuptools") == "a\nc\nd\n"


@pytest.mark.parametrize("name", ["Fast", "fast-sum", "1fast", "class", "fäst", ""])
def test_unusable_names_are_refused(name):
    with pytest.raises(ValueError, match="not a usable package name"):
        check_name(name)


def test_openmp_request_is_read_from_the_registry():
    assert _openmp_requested("meson", "pkg", ["-Csetup-args=-Dopenmp=enabled"], {}) == "-Csetup-args=-Dopenmp=enabled"
    assert _openmp_requested("setuptools", "pkg", [], {"PKG_OPENMP": "on"}) == "PKG_OPENMP=on"
    assert _openmp_requested("cmake", "pkg", ["-Ccmake.define.PKG_OPENMP=ON"], {}) == "-Ccmake.define.PKG_OPENMP=ON"
    assert _openmp_requested("cmake", "pkg", [], {"CMAKE_ARGS": "-DPKG_OPENMP:STRING=ON"}) == "-DPKG_OPENMP:STRING=ON"
    assert _openmp_requested("cmake", "pkg", [], {"CMAKE_ARGS": "-DPKG_OPENMP=on"}) == "-DPKG_OPENMP=on"
    assert _openmp_requested("cmake", "pkg", [], {"CMAKE_ARGS": "-DOTHER_OPENMP=ON"}) is None
    assert _openmp_requested("cmake", "pkg", ["-Ccmake.define.PKG_OPENMP=OFF"], {}) is None


def test_a_missing_compiler_is_named(tmp_path):
    project = render("cmake", tmp_path / "p", "pkg", git=False)
    text = diagnose(project, [], {"CC": "/nonexistent", "PATH": ""})
    assert "for want of" in text
    assert "/nonexistent" in text
