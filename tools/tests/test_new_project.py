"""What `nox -s new` writes, per backend, without building it: only its backend, a whole sdist, a lasting OpenMP check."""

from __future__ import annotations

import ast
import fnmatch
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tools.checks.new import BACKEND_NAMES, shared_switch
from tools.checks.new.runner import DOCS
from tools.make.new import EXTRAS, new
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
        # The core's build_info() and the suite know all three; the docs are the template's own.
        if not path.is_file() or relative.startswith(("src/", "tests/")) or relative in DOCS:
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
        assert not [top for top in tops - {"MANIFEST.in"} if not any(fnmatch.fnmatch(top, p) for p in taken)]


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


def leftovers(text: str, *, python: bool) -> list[str]:
    """What cutting other backends' lines out of a file may leave: an empty constant, a comment without its code."""
    found = []
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        after = lines[number] if number < len(lines) else ""
        if line.lstrip().startswith("#") and not line.startswith("#!") and not after.strip():
            found.append(f"line {number}: a comment followed by no code: {line.strip()}")
        if (
            python
            and not line.strip()
            and number >= 3
            and not lines[number - 2].strip()
            and not lines[number - 3].strip()
        ):
            found.append(f"line {number}: a third blank line in a row")
    if python:
        for node in ast.parse(text).body:
            value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
            empty = isinstance(value, (ast.List, ast.Tuple, ast.Set)) and not value.elts
            empty |= isinstance(value, ast.Dict) and not value.keys
            empty |= isinstance(value, ast.Constant) and value.value in ("", None)
            if empty:
                found.append(f"line {node.lineno}: an empty constant: {ast.unparse(node)}")
    return found


def test_leftovers_are_found():
    assert leftovers("A: list[str] = []\nB = {}\nC = 1\n", python=True) == [
        "line 1: an empty constant: A: list[str] = []",
        "line 2: an empty constant: B = {}",
    ]
    assert leftovers("# why the next line\n\nx = 1\n", python=True) == [
        "line 1: a comment followed by no code: # why the next line"
    ]
    assert leftovers("x = 1\n\n\n\ny = 2\n", python=True) == ["line 4: a third blank line in a row"]
    assert leftovers("# build trees\n/build/\n", python=False) == []


def test_no_file_for_one_backend_keeps_a_leftover_of_the_others(project):
    """Every file written with only its backend's lines (tools/make/new_project/, the contents check) reads whole."""
    _, root = project
    written = [p.relative_to(EXTRAS) for p in EXTRAS.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    files = [Path(".gitignore") if p.name == "gitignore" else p for p in written if p.name != "pyproject-tail.toml"]
    for relative in [*files, Path("tools/check_contents.py")]:
        text = (root / relative).read_text(encoding="utf-8")
        assert not leftovers(text, python=relative.suffix == ".py"), relative


def test_a_backend_marker_sits_on_a_code_line_only():
    """`# only:` marks a line of code; a comment for one backend goes in a block (# >>> ... # <<<) with its code."""
    for source in [*EXTRAS.rglob("*"), ROOT / "tools" / "checks" / "contents.py"]:
        if source.is_file() and "__pycache__" not in source.parts:
            for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
                code = line.partition("# only:")[0]
                assert "# only:" not in line or (code.strip() and not code.lstrip().startswith("#")), (source, number)


# What only this repository has: its sessions and instruments, which a generated project must not send its owner to.
THIS_REPOSITORY = re.compile(r"test_new|nox -s new\b|compare_\w+|template's repository|nox -s (bench|scale|faults)\b")


def test_its_readme_is_a_short_page_and_nothing_sends_the_owner_here(project):
    _, root = project
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 80
    for doc in DOCS:
        assert (root / doc).is_file(), doc
    for path in sorted(root.rglob("*")):
        if path.is_file() and ".git" not in path.relative_to(root).parts:
            text = path.read_text(encoding="utf-8")
            assert not THIS_REPOSITORY.search(text), (path.relative_to(root), THIS_REPOSITORY.search(text))
