"""What `nox -s new` writes, per backend, without building it: only its backend, a whole sdist, a lasting OpenMP check."""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tools.checks.new import BACKEND_NAMES, shared_switch
from tools.make.new import new
from tools.make.render import ROOT
from tools.registry.backends import NAMES, backend


@pytest.fixture(scope="module", params=NAMES)
def project(request, tmp_path_factory) -> tuple[str, Path]:
    """A project of each backend, committed as `nox -s new` leaves it."""
    root = tmp_path_factory.mktemp(request.param) / "fastsum"
    new(request.param, root, "fastsum")
    return request.param, root


def test_the_project_names_no_other_backend(project):
    backend, root = project
    others = [pattern for name, pattern in BACKEND_NAMES.items() if name != backend]
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith(".git/"):
            continue
        # The core's build_info() and the suite know all three; the README is the template's own.
        if not path.is_file() or relative.startswith(("src/", "tests/")) or relative == "README.md":
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        found = [line for line in lines if any(p.search(line) for p in others)]
        assert not found, f"{relative} names another backend: {found}"


def test_its_readme_shows_the_switch_the_builds_here_use(project):
    # test_new builds with the README's switch, on CI for meson only: this keeps the other two honest without a build.
    name, root = project
    _, args, env = shared_switch(root)
    assert (args, env) == backend(name).shared_utility.named("fastsum")


def test_its_python_files_are_python_and_carry_no_markers(project):
    _, root = project
    for relative in ("noxfile.py", "tools/check_contents.py", "tests/test_openmp.py", "tests/children.py"):
        text = (root / relative).read_text(encoding="utf-8")
        ast.parse(text)
        assert "# only:" not in text, relative
        assert ">>>" not in text, relative


def test_a_setuptools_sdist_takes_what_the_others_take_from_git(project):
    backend, root = project
    manifest = root / "MANIFEST.in"
    assert manifest.exists() is (backend == "setuptools")
    if backend == "setuptools":
        text = manifest.read_text(encoding="utf-8")
        tops = {p.name for p in root.iterdir()} - {".git", "src", "setup.py", "pyproject.toml", "README.md", "LICENSE"}
        taken = set(re.findall(r"^(?:graft|include) (.+)$", text, re.MULTILINE))
        taken = {name for line in taken for name in line.split()}
        assert tops - {"MANIFEST.in"} <= taken


def test_the_openmp_check_reads_which_modules_ask_for_it(project):
    _, root = project
    spec = importlib.util.spec_from_file_location("test_openmp", root / "tests" / "test_openmp.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # _core has a prange; _kernels calls omp_get_max_threads() in sum_sqrt.c, behind sum_sqrt.h.
    assert module.modules_asking() == ["fastsum._core", "fastsum._kernels"]


def test_git_ignores_no_source_of_a_new_project(project):
    _, root = project
    done = subprocess.run(
        [sys.executable, "tools/check_contents.py", "--tree"], cwd=root, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def strays_script() -> str:
    """The Python that meson.build runs to list what install_subdir() leaves out."""
    text = (ROOT / "meson" / "meson.build").read_text(encoding="utf-8")
    (script,) = re.findall(r"not_shipped = run_command\(\n  py,\n  '-c',\n  '''(.*?)''',", text, re.DOTALL)
    return script


def test_meson_leaves_out_what_is_compiled_and_what_python_and_cython_leave(tmp_path):
    package = tmp_path / "pkg"
    for name in [
        "__init__.py", "_core.pyx", "_core.pxd", "_core.pyi", "_core.c", "sum_sqrt.c", "sum_sqrt.h", "x.cpp",
        "x.hpp", "py.typed", "__pycache__/twin.cpython-311.pyc", "sub/__pycache__/a.pyc", "sub/data.json",
    ]:  # fmt: skip
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text("")
    done = subprocess.run(
        [sys.executable, "-c", strays_script(), str(package)], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == [
        "__pycache__/twin.cpython-311.pyc",
        "_core.c",
        "_core.pyx",
        "sub/__pycache__/a.pyc",
        "sum_sqrt.c",
        "sum_sqrt.h",
        "x.cpp",
        "x.hpp",
    ]
