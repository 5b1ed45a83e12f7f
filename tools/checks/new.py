"""What `nox -s test_new` checks: a project from `new` stands on its own, and its README's steps work.

Two projects per backend: the example grown by a module that cimports NumPy,
and a second one where the example is taken out and a package of a real
package's shape moved in, as the README's "Move an existing package here"
says: modules that cimport each other through a .pxd, hand-written C with an
OpenMP loop of its own compiled into one of them, an old sdist's generated
C, a subpackage with data, global Cython directives, a define from an old
setup.py, tests inside the package, an old pytest.ini, a test-only
requirement, and its metadata (version, summary, license, README, oldest
Python).

Each is generated outside this repository under a name other than mathcore,
and must name no other backend. The steps of its README are taken as a user
would; the lines each step adds must appear in the README as they are. The
project is committed and built and tested by its own noxfile (fresh
environments, only its own files); a meson project must refuse to build
from uncommitted changes; the `develop` session's editable install must show
an edit to a .pyx; the `coverage` session must report the lines of every
.pyx; a wheel built from the tree with strays planted beside the sources
(Cython's C, __pycache__/) must hold what the wheel from the sdist holds;
the README's switch for the shared utility module, passed to `nox -s
build` as the README says, must give a wheel with <name>/_cyutility that the
project's tests pass against; its CI configuration is checked as far as it
can be here. The moved project's hand-written C, once ignored by git, must
make `nox -s tests` and `nox -s build` fail, naming it and the line of
.gitignore.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

from tools.make.new import new
from tools.make.render import add_modules, commit
from tools.make.render import rename as _rename
from tools.registry.backends import PLACEHOLDER
from tools.registry.backends import backend as backend_of

NAME = "fastsum"

# --- The README's worked example: a module that cimports NumPy ----------------
# As the templates' READMEs show them (package name: the placeholder), renamed when written.

MODULE = "_arraysum"
MODULE_PYX = '''\
# cython: language_level=3, boundscheck=False, wraparound=False
# cython: freethreading_compatible=True
"""The sum of a float64 array: an OpenMP prange reduction, without the GIL."""

cimport numpy as cnp
from cython.parallel cimport prange

cnp.import_array()  # before any use of NumPy's C API


def array_sum(const cnp.float64_t[::1] values):
    """Sum a contiguous float64 array on all cores."""
    cdef double total = 0.0
    cdef Py_ssize_t i
    for i in prange(values.shape[0], nogil=True):
        total += values[i]
    return total
'''
MODULE_PYI = """\
import numpy as np
from numpy.typing import NDArray

def array_sum(values: NDArray[np.float64]) -> float: ...
"""
# Not in the README: the project's test of the module's answers. That the
# module links the OpenMP runtime that build_info() reports is checked for
# every compiled module by tests/test_core.py (LINKAGE_TEST below).
MODULE_TEST = f'''\
"""The module added by the README's steps: NumPy arrays summed in an OpenMP prange."""

import numpy as np
import pytest

from {PLACEHOLDER}.{MODULE} import array_sum


@pytest.mark.parametrize("n", [0, 1, 2, 1_000_003])
def test_array_sum_is_exact(n):
    # Integers add exactly in float64 while every partial sum stays below
    # 2**53, in any order: the closed form is the answer.
    assert array_sum(np.arange(n, dtype=np.float64)) == n * (n - 1) // 2


def test_array_sum_agrees_with_numpy():
    values = np.random.default_rng(20261126).random(100_003)
    assert array_sum(values) == pytest.approx(values.sum(), rel=1e-12)


def test_array_sum_takes_float64_only():
    with pytest.raises(ValueError, match="dtype"):
        array_sum(np.arange(10))
'''
LINKAGE_TEST = "test_every_module_links_the_openmp_it_reports"
ASKS_TEST = "test_every_module_that_asks_for_openmp_links_it"
# Each backend's names: a generated project names no other backend, comments included.
BACKEND_NAMES = {
    "setuptools": re.compile(r"setuptools", re.IGNORECASE),
    "meson": re.compile(r"\bmeson|mesonpy", re.IGNORECASE),
    "cmake": re.compile(r"cmake|scikit-build|scikit_build", re.IGNORECASE),
}

# The README's NumPy lines, the same for all three backends.
BUILD_NUMPY = '"numpy>=2"'  # appended to [build-system] requires
RUNTIME_NUMPY = 'dependencies = ["numpy>=1.23.5"]'  # added to [project]


def _replace(path: Path, old: str, new: str) -> None:
    """Replace the one occurrence of `old` in `path` by `new`, as a user edits the file."""
    text = path.read_text(encoding="utf-8")
    if text.count(old) != 1:
        msg = f"{path.name}: expected {old!r} once, found it {text.count(old)} times: update tools/checks/new.py"
        raise ValueError(msg)
    path.write_text(text.replace(old, new), encoding="utf-8")


def _line(path: Path, pattern: str) -> str:
    """The one whole line of `path` that matches `pattern`."""
    found = re.findall(rf"^{pattern}$", path.read_text(encoding="utf-8"), re.MULTILINE)
    if len(found) != 1:
        msg = f"{path.name}: expected one line matching {pattern!r}, found {found}: update tools/checks/new.py"
        raise ValueError(msg)
    return found[0]


def numpy_pyproject(project: Path) -> None:
    """Build against NumPy 2 (its wheels run on NumPy 1.23+ too), and depend on NumPy at run time."""
    pyproject = project / "pyproject.toml"
    requires = _line(pyproject, r"requires = \[.*\]")
    _replace(pyproject, requires, f"{requires[:-1]}, {BUILD_NUMPY}]")
    python = _line(pyproject, r"requires-python = .*")
    _replace(pyproject, python, f"{python}\n{RUNTIME_NUMPY}")


def numpy_setuptools(project: Path) -> None:
    """setup.py: NumPy's include directory and the define, in extension(), for every module."""
    setup = project / "setup.py"
    _replace(
        setup, "from setuptools import Extension, setup\n", "import numpy\nfrom setuptools import Extension, setup\n"
    )
    _replace(
        setup,
        _rename('        include_dirs=["src/mathcore"],\n', NAME),
        _rename(
            """\
        # NumPy's headers. The define hides NumPy's deprecated C API, which
        # Cython does not use: NumPy < 2.3 warns without it.
        include_dirs=["src/mathcore", numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
""",
            NAME,
        ),
    )


def numpy_meson(project: Path) -> None:
    """meson.build: dependency('numpy') (meson >= 1.4) with the define, for every module; the stub installed."""
    build = project / "meson.build"
    version = _line(build, r"  meson_version: .*")
    _replace(build, version, "  meson_version: '>= 1.4',  # dependency('numpy') needs 1.4")
    openmp = _line(build, r"openmp = dependency\('openmp'.*")
    _replace(
        build,
        openmp,
        f"""{openmp}

# NumPy's headers, from numpy-config (NumPy >= 2). The define hides NumPy's
# deprecated C API, which Cython does not use: NumPy < 2.3 warns without it.
numpy = declare_dependency(
  dependencies: dependency('numpy'),
  compile_args: '-DNPY_NO_DEPRECATED_API=NPY_1_7_API_VERSION',
)""",
    )
    _replace(build, "    dependencies: openmp,\n", "    dependencies: [openmp, numpy],\n")


def numpy_cmake(project: Path) -> None:
    """CMakeLists.txt: FindPython's NumPy component, its target and the define, for every module."""
    cmake = project / "CMakeLists.txt"
    python = _line(cmake, r"find_package\(Python .*Development\.Module.*\)")
    _replace(cmake, python, f"{python[:-1]} NumPy)")
    options = _line(cmake, r"  target_compile_options\(\$\{name\} PRIVATE .*\)")
    _replace(
        cmake,
        options,
        f"""{options}
  # NumPy's headers. The define hides NumPy's deprecated C API, which Cython
  # does not use: NumPy < 2.3 warns without it.
  target_link_libraries(${{name}} PRIVATE Python::NumPy)
  target_compile_definitions(${{name}} PRIVATE NPY_NO_DEPRECATED_API=NPY_1_7_API_VERSION)""",
    )


BUILD_FILES = {"setuptools": ["setup.py"], "meson": ["meson.build"], "cmake": ["CMakeLists.txt"]}
NUMPY_STEPS = {"setuptools": [numpy_setuptools], "meson": [numpy_meson], "cmake": [numpy_cmake]}


def add_numpy_module(project: Path, backend: str) -> dict[str, list[str]]:
    """Take the README's steps; return, per file, the lines they added or changed."""
    package = project / "src" / NAME
    (package / f"{MODULE}.pyx").write_text(_rename(MODULE_PYX, NAME), encoding="utf-8")
    (package / f"{MODULE}.pyi").write_text(_rename(MODULE_PYI, NAME), encoding="utf-8")
    (project / "tests" / f"test{MODULE}.py").write_text(_rename(MODULE_TEST, NAME), encoding="utf-8")
    files = ["pyproject.toml", *BUILD_FILES[backend]]
    before = {file: (project / file).read_text(encoding="utf-8").splitlines() for file in files}
    add_modules(project, backend, [MODULE])
    numpy_pyproject(project)
    for step in NUMPY_STEPS[backend]:
        step(project)
    return {
        file: [line for line in (project / file).read_text(encoding="utf-8").splitlines() if line not in before[file]]
        for file in files
    }


def readme_gaps(project: Path, added: dict[str, list[str]], *, examples: bool = True) -> list[str]:
    """What the steps wrote that the project's README does not show: it should show every line, and the files."""
    readme = (project / "README.md").read_text(encoding="utf-8")
    shown = {line.strip() for line in readme.splitlines()}
    gaps = [f"{file}: {line.strip()}" for file, lines in added.items() for line in lines if line.strip() not in shown]
    for file, text in [(f"{MODULE}.pyx", MODULE_PYX), (f"{MODULE}.pyi", MODULE_PYI)] if examples else []:
        if _rename(text, NAME) not in readme:
            gaps.append(f"src/{NAME}/{file}, as a whole")
    return gaps


# --- The README's "Move an existing package here": a real package's shape ------
# A package as an old setup.py project would have it: two compiled modules, one
# cimporting the other through its .pxd and compiling a hand-written C file
# with its own OpenMP loop; a pure-Python subpackage with data; a define the
# old setup.py gave every extension; global Cython directives; the C that an
# old sdist shipped, generated by Cython; tests inside the package, an old
# pytest.ini and a test-only requirement. Written with the placeholder name,
# renamed when written.

MOVED = {
    "src/mathcore/__init__.py": '''\
"""A package moved here from a setup.py project."""

from ._ops import scaled_sum, scaled_sum_c
from .io import weights

__all__ = ["scaled_sum", "scaled_sum_c", "weights"]
''',
    "src/mathcore/_base.pxd": "cdef double scale(double x) noexcept nogil\n",
    "src/mathcore/_base.pyx": """\
# cython: language_level=3
cdef extern from *:
    const double MATHCORE_SCALE  # a define from the build, as the old setup.py gave it


cdef double scale(double x) noexcept nogil:
    return x * MATHCORE_SCALE
""",
    # What the old sdist shipped beside the .pyx: the build always writes its own.
    "src/mathcore/_base.c": "/* Generated by Cython 0.29.36 */\n\n/* BEGIN: Cython Metadata\n{}\nEND: Cython Metadata */\n",
    "src/mathcore/_ops.pyx": '''\
# cython: language_level=3, boundscheck=False, wraparound=False
# cython: freethreading_compatible=True
from cython.parallel cimport prange

from mathcore._base cimport scale

# Hand-written C compiled into this module only (scale.c).
cdef extern from "scale.h" nogil:
    double mathcore_scaled_sum(const double *values, long long n)
    long mathcore_scale_openmp()


def scaled_sum(const double[::1] values):
    """The sum of the values, each scaled, on all cores."""
    cdef double total = 0.0
    cdef Py_ssize_t i
    for i in prange(values.shape[0], nogil=True):
        total += scale(values[i])
    return total


def scaled_sum_c(const double[::1] values):
    """The same sum by the C of scale.c, whose own OpenMP loop runs on all cores."""
    if values.shape[0] == 0:
        return 0.0
    return mathcore_scaled_sum(&values[0], values.shape[0])


def c_openmp():
    """The _OPENMP that scale.c was compiled with (0: none)."""
    return mathcore_scale_openmp()
''',
    "src/mathcore/_ops.pyi": (
        "from typing import Any\n\n"
        "def scaled_sum(values: Any) -> float: ...\n"
        "def scaled_sum_c(values: Any) -> float: ...\n"
        "def c_openmp() -> int: ...\n"
    ),
    "src/mathcore/scale.h": """\
/* The hand-written C of _ops (scale.c), declared to Cython by _ops.pyx. */
#ifndef MATHCORE_SCALE_H
#define MATHCORE_SCALE_H

double mathcore_scaled_sum(const double *values, long long n);
long mathcore_scale_openmp(void);

#endif
""",
    "src/mathcore/scale.c": """\
/* A loop in plain C with an OpenMP pragma of its own: the build's OpenMP
   flags reach this file as they reach the C that Cython writes, and so does
   the define every extension gets (MATHCORE_SCALE). */
#include "scale.h"

double mathcore_scaled_sum(const double *values, long long n) {
    double total = 0.0;
#pragma omp parallel for reduction(+ : total)
    for (long long i = 0; i < n; i++)
        total += values[i] * MATHCORE_SCALE;
    return total;
}

long mathcore_scale_openmp(void) {
#ifdef _OPENMP
    return _OPENMP;
#else
    return 0;
#endif
}
""",
    "src/mathcore/py.typed": "",
    "src/mathcore/io/__init__.py": '''\
"""Package data, read through importlib.resources."""

import json
from importlib.resources import files


def weights() -> list[float]:
    return json.loads(files(__package__).joinpath("weights.json").read_text(encoding="utf-8"))
''',
    "src/mathcore/io/weights.json": "[1.0, 2.0, 3.5]\n",
    # Tests kept inside the package, as old packages did: moved to tests/ by the README's steps.
    "src/mathcore/tests/__init__.py": "",
    "src/mathcore/tests/test_weights.py": '''\
"""A test that lived inside the package: in tests/, it runs on the installed package."""

import pytest

from mathcore import weights


@pytest.mark.slow  # registered by the old pytest.ini, now [tool.pytest.ini_options]
@pytest.mark.timeout(60)  # pytest-timeout, a test-only requirement: the test group
def test_weights():
    assert weights() == [1.0, 2.0, 3.5]
''',
    # The old pytest settings, which would win over [tool.pytest.ini_options].
    "pytest.ini": "[pytest]\nmarkers =\n    slow: a test that takes seconds\n",
    "tests/test_moved.py": '''\
"""The moved package, installed: its modules, its C, its subpackage's data, its .pxd, its build settings."""

import array
import inspect
import sys
from importlib.resources import files

import pytest

import mathcore
from mathcore._ops import c_openmp, scaled_sum, scaled_sum_c


def test_the_modules_cimport_each_other_and_see_the_define():
    assert scaled_sum(array.array("d", mathcore.weights())) == 2 * (1.0 + 2.0 + 3.5)


def test_the_hand_written_c_is_compiled_in_and_sees_the_define():
    values = array.array("d", range(100_000))
    assert scaled_sum_c(values) == scaled_sum(values) == 2 * (100_000 * 99_999 // 2)


@pytest.mark.skipif(sys.platform != "linux", reason="OpenMP is found wherever gcc builds")
def test_the_hand_written_c_gets_the_openmp_flags():
    assert c_openmp() >= 201107  # OpenMP 3.1 or later


def test_the_global_directives_apply():
    assert scaled_sum.__doc__.startswith("scaled_sum(")  # embedsignature
    assert list(inspect.signature(scaled_sum).parameters) == ["values"]  # binding


def test_the_pxd_and_the_subpackage_are_installed_and_no_source():
    assert (files("mathcore") / "_base.pxd").is_file()
    assert (files("mathcore") / "io" / "weights.json").is_file()
    assert not [f.name for f in files("mathcore").iterdir() if f.name.endswith((".pyx", ".c", ".h"))]
''',
}
MOVED_TESTS = {"tests/test_moved.py": 5, "tests/test_weights.py": 1}
MOVED_MODULES = {"_base": [], "_ops": ["scale.c", "scale.h"]}
# What the README's steps write into pyproject.toml: metadata, test-only requirements, old pytest settings.
MOVED_METADATA = {
    r"version = .*": 'version = "1.4.0"',
    r"description = .*": 'description = "Scaled sums, moved here from a setup.py project"',
    r"license = .*": 'license = "BSD-3-Clause"',
    r"requires-python = .*": 'requires-python = ">=3.11"',
}
MOVED_TEST_GROUP = """test = ["pytest>=8", "pyelftools>=0.31; sys_platform == 'linux'", "pytest-timeout>=2.3"]"""
MOVED_MARKERS = 'markers = ["slow: a test that takes seconds"]'
MOVED_README = "# fastsum\n\nScaled sums, moved here from a setup.py project.\n"
MOVED_LICENSE = "BSD 3-Clause License\n\nCopyright (c) 2026, the fastsum authors\n"
# The example's names: none may be left in the moved project.
EXAMPLE = re.compile(r"do_math|build_info|_kernels|sum_sqrt|\btwin\b|selftest")

# What each backend's README says to add, and after which line of the template (setuptools: the line it changes).
DIRECTIVES = {
    "setuptools": (
        'DIRECTIVES = {"linetrace": COVERAGE}',
        'DIRECTIVES = {"linetrace": COVERAGE, "embedsignature": True, "binding": True}',
    ),
    "meson": (
        "py = import('python').find_installation(pure: false)",
        "add_project_arguments('-X', 'embedsignature=True', '-X', 'binding=True', language: 'cython')",
    ),
    "cmake": ("include(UseCython)", "list(APPEND CYTHON_ARGS -X embedsignature=True -X binding=True)"),
}
DEFINES = {
    "setuptools": (
        '        include_dirs=["src/mathcore"],',
        """\
        include_dirs=["src/mathcore"],
        define_macros=[("MATHCORE_SCALE", "2")],""",
    ),
    "meson": (
        "py = import('python').find_installation(pure: false)",
        "add_project_arguments('-DMATHCORE_SCALE=2', language: 'c')",
    ),
    "cmake": ("include(UseCython)", "add_compile_definitions(MATHCORE_SCALE=2)"),
}


def list_moved_modules(project: Path, backend: str) -> None:
    """The module list as the README shows it: each module, with the hand-written C compiled into _ops."""
    spec = backend_of(backend)
    listing = project / spec.modules.file
    text = spec.modules.write(listing.read_text(encoding="utf-8"), list(MOVED_MODULES))
    if backend == "cmake":  # a <name>_SOURCES line, in place of the example's
        text = re.sub(
            r"^set\(_kernels_SOURCES .*\)$",
            "set(_ops_SOURCES scale.c scale.h)",
            text,
            flags=re.MULTILINE,
        )
    else:  # the new entry's list of sources
        quote = spec.modules.quote.format
        entry = f"{quote('_ops')}: [],"
        text = text.replace(entry, f"{quote('_ops')}: [{', '.join(quote(s) for s in MOVED_MODULES['_ops'])}],")
    listing.write_text(text, encoding="utf-8")
    if (found := spec.modules.sources(text)) != MOVED_MODULES:
        msg = f"{spec.modules.file} lists {found} after the move, not {MOVED_MODULES}: update tools/checks/new.py"
        raise Failed(msg)


def move_package(project: Path, backend: str) -> dict[str, list[str]]:
    """Take the README's steps to move MOVED in; return, per configuration file, the lines they added or changed."""
    spec = backend_of(backend)
    # Step 1: the example out (its package and its tests; tests/test_openmp.py stays).
    example_tests = [f"tests/{t}" for t in ("conftest.py", "test_core.py", "children.py")]
    subprocess.run(["git", "rm", "-r", "-q", f"src/{NAME}", *example_tests], cwd=project, check=True)
    for relative, text in MOVED.items():
        path = project / _rename(relative, NAME)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_rename(text, NAME), encoding="utf-8")
    # The contents check names the old sdist's generated C before anything is built; the README says to delete it.
    generated = project / "src" / NAME / "_base.c"
    notes = subprocess.run(
        [sys.executable, "tools/check_contents.py", "--tree"], cwd=project, capture_output=True, text=True, check=False
    )
    if f"src/{NAME}/_base.c is C that Cython generated from _base.pyx" not in notes.stderr:
        msg = f"tools/check_contents.py --tree did not name the old sdist's generated C:\n{notes.stdout}{notes.stderr}"
        raise Failed(msg)
    generated.unlink()
    # Tests inside the package move to tests/; the old pytest.ini goes into pyproject.toml.
    inside = project / "src" / NAME / "tests"
    shutil.move(inside / "test_weights.py", project / "tests" / "test_weights.py")
    shutil.rmtree(inside)
    (project / "pytest.ini").unlink()
    files = [*spec.config_files, ".github/workflows/ci.yml"]
    before = {file: (project / file).read_text(encoding="utf-8").splitlines() for file in files}
    list_moved_modules(project, backend)
    for step in (DIRECTIVES[backend], DEFINES[backend]):
        anchor, line = (_rename(text, NAME) for text in step)
        if backend == "setuptools":  # the line changes in place
            _replace(project / spec.build_files[0], f"{anchor}\n", f"{line}\n")
        elif backend == "meson":  # after project(): before the line that follows it
            _replace(project / spec.build_files[0], f"{anchor}\n", f"{line}\n{anchor}\n")
        else:
            _replace(project / spec.build_files[0], f"{anchor}\n", f"{anchor}\n{line}\n")
    pyproject = project / "pyproject.toml"
    for pattern, line in MOVED_METADATA.items():
        _replace(pyproject, _line(pyproject, pattern), line)
    # requires-python >= 3.11: 3.10 leaves the classifiers and CI's test matrix.
    _replace(pyproject, '  "Programming Language :: Python :: 3.10",\n', "")
    workflow = project / ".github" / "workflows" / "ci.yml"
    _replace(workflow, _line(workflow, r"        python: \[.*\]"), '        python: ["3.11", "3.x", "3.14t"]')
    _replace(pyproject, _line(pyproject, r"test = \[.*\]"), MOVED_TEST_GROUP)
    testpaths = _line(pyproject, r"testpaths = .*")
    _replace(pyproject, testpaths, f"{testpaths}\n{MOVED_MARKERS}")
    return {
        file: [line for line in (project / file).read_text(encoding="utf-8").splitlines() if line not in before[file]]
        for file in files
    }


def check_example_gone(project: Path) -> None:
    """No file that git tracks in the moved project names the example any more."""
    listed = subprocess.run(["git", "ls-files"], cwd=project, capture_output=True, text=True, check=True)
    left = [
        f"{file}:{number}: {line.strip()}"
        for file in listed.stdout.splitlines()
        for number, line in enumerate((project / file).read_text(encoding="utf-8").splitlines(), 1)
        if EXAMPLE.search(line)
    ]
    if left:
        msg = "the example is still named in the moved project:\n  " + "\n  ".join(left)
        raise Failed(msg)


def check_ignored_c(project: Path) -> None:
    """A hand-written .c that git ignores: `nox -s tests` and `nox -s build` fail, naming it and the .gitignore line."""
    source = f"src/{NAME}/scale.c"
    gitignore = project / ".gitignore"
    original = gitignore.read_text(encoding="utf-8")
    gitignore.write_text(original + "*.c\n", encoding="utf-8")
    line = len(original.splitlines()) + 1
    subprocess.run(["git", "rm", "-q", "--cached", source], cwd=project, check=True)
    commit(project, "Ignore *.c, as an old .gitignore did", [".gitignore"])
    expected = f"{source} is ignored by git (line {line} of .gitignore: *.c)"
    try:
        for session in ("tests", "build"):
            output = run_nox(project, session, capture=True)
            if "Session " + session + " failed" not in output or expected not in output:
                msg = (
                    f"`nox -s {session}` with {source} ignored did not fail naming it ({expected!r}):\n{output[-4000:]}"
                )
                raise Failed(msg)
            named = [line for line in output.splitlines() if expected in line]
            log(f"ignored {source}: `nox -s {session}` fails with: {named[-1].strip()}")
    finally:
        gitignore.write_text(original, encoding="utf-8")
        commit(project, "Track scale.c again", [".gitignore", source])
        shutil.rmtree(project / "dist", ignore_errors=True)


def check_metadata(wheel: Path) -> None:
    """The wheel's metadata is the moved package's: version, summary, license, Python, classifiers, README."""
    with zipfile.ZipFile(wheel) as whl:
        metadata = whl.read(next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))).decode()
        licenses = [n for n in whl.namelist() if ".dist-info/licenses/" in n]
    expected = [
        "Version: 1.4.0",
        "Summary: Scaled sums, moved here from a setup.py project",
        "License-Expression: BSD-3-Clause",
        "License-File: LICENSE",
        "Requires-Python: >=3.11",
        "Classifier: Typing :: Typed",
        MOVED_README.splitlines()[2],
    ]
    lacking = [line for line in expected if line not in metadata.splitlines()]
    if lacking or "Programming Language :: Python :: 3.10" in metadata or len(licenses) != 1:
        msg = f"{wheel.name}'s metadata is not the moved package's (lacks {lacking}, licenses {licenses}):\n{metadata}"
        raise Failed(msg)
    with zipfile.ZipFile(wheel) as whl:
        carried = whl.read(licenses[0]).decode()
    if carried != MOVED_LICENSE:
        msg = f"{wheel.name} carries the template's LICENSE, not the moved package's:\n{carried}"
        raise Failed(msg)


def check_moved(tmp: Path, backend: str) -> None:
    """A second project: the example taken out and MOVED put in as the README says, then built and tested."""
    project = tmp / "moved" / NAME
    new(backend, project, NAME)
    added = move_package(project, backend)
    if gaps := readme_gaps(project, added, examples=False):
        raise Failed("README.md does not show what its steps to move a package write:\n  " + "\n  ".join(gaps))
    # The README and the LICENSE are the package's own (the README says so; its steps are checked above).
    (project / "README.md").write_text(MOVED_README, encoding="utf-8")
    (project / "LICENSE").write_text(MOVED_LICENSE, encoding="utf-8")
    commit(project, "Move fastsum here, as README.md says")
    check_example_gone(project)
    junit = tmp / "junit-moved.xml"
    # `build` runs the project's tools/check_contents.py: the .pxd and the subpackage must be in the sdist and the wheel.
    run_nox(project, "tests", "build", env={"PYTEST_ADDOPTS": f"--junitxml={junit}"})
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    bad = [c.get("name") for c in cases if any(x.tag in {"failure", "error", "skipped"} for x in c)]
    ran = {f: sum(1 for c in cases if c.get("classname", "").endswith(Path(f).stem)) for f in MOVED_TESTS}
    # The OpenMP check of tests/test_openmp.py outlives the example: _ops asks for OpenMP (prange, and scale.c).
    linkage = sorted(c.get("name") for c in cases if c.get("classname", "").endswith("test_openmp"))
    if ran != MOVED_TESTS or bad or linkage != [f"test_every_module_that_asks_for_openmp_links_it[{NAME}._ops]"]:
        msg = f"the moved package's tests did not all pass: ran {ran} (expected {MOVED_TESTS}), {linkage}, not passed: {bad}"
        raise Failed(msg)
    wheels = sorted((project / "dist").glob(f"{NAME}-1.4.0-*.whl"))
    if len(wheels) != 1:
        msg = f"expected one wheel of version 1.4.0 in {project / 'dist'}"
        raise Failed(msg)
    check_metadata(wheels[0])
    log(f"moved: {sum(ran.values())} tests and {linkage[0]} passed; {wheels[0].name} holds the .pxd, the data, no C")
    check_ignored_c(project)


# --- Running the project's own noxfile ----------------------------------------


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


def check_refuses_uncommitted(project: Path) -> None:
    """A meson project's `build` stops on a changed file and on a new one, and says why and what to do."""
    pyx, new_file = project / "src" / NAME / f"{MODULE}.pyx", project / "src" / NAME / "notes.txt"
    original = pyx.read_text(encoding="utf-8")
    pyx.write_text(original + "# not committed\n", encoding="utf-8")
    new_file.write_text("not committed either\n", encoding="utf-8")
    try:
        output = run_nox(project, "build", capture=True)
    finally:
        pyx.write_text(original, encoding="utf-8")
        new_file.unlink()
    expected = ["uncommitted changes", f"{MODULE}.pyx", "notes.txt", "left out of the sdist", "git stash"]
    if missing := [text for text in expected if text not in output]:
        msg = f"`nox -s build` on uncommitted changes did not refuse as it should (no {missing}):\n{output}"
        raise Failed(msg)
    log("meson: `nox -s build` refuses uncommitted changes, and says why")


def check_results(junit: Path) -> None:
    """The new module's tests ran and passed, and so did the checks that every module links its OpenMP."""
    cases = ET.parse(junit).getroot().iter("testcase")
    # A case that passed has no <failure>, <error> nor <skipped> inside.
    bad = {"failure", "error", "skipped"}
    results = {f"{case.get('classname')}::{case.get('name')}": [c.tag for c in case if c.tag in bad] for case in cases}
    ours = {test: outcome for test, outcome in results.items() if test.startswith(f"tests.test{MODULE}::")}
    linkage = {test: outcome for test, outcome in results.items() if f"::{LINKAGE_TEST}[" in test}
    # tests/test_openmp.py, which stays when the example goes: one case per module that asks for OpenMP.
    asks = {test: outcome for test, outcome in results.items() if f"::{ASKS_TEST}[" in test}
    wanted = {f"{ASKS_TEST}[{NAME}.{module}]" for module in ("_core", "_kernels", MODULE)}
    if not ours or not linkage or {test.partition("::")[2] for test in asks} != wanted:
        msg = (
            f"expected the tests of tests/test{MODULE}.py, tests/test_core.py::{LINKAGE_TEST} and {sorted(wanted)} "
            f"to run (they check that {MODULE} links OpenMP like _core): ran {sorted(results)}"
        )
        raise Failed(msg)
    linkage |= asks
    if failed := {test: outcome for test, outcome in {**ours, **linkage}.items() if outcome}:
        msg = f"not passed: {failed}"
        raise Failed(msg)
    log(f"passed: {len(ours)} tests of {MODULE}, and {', '.join(sorted(linkage))}")


def check_dists(project: Path) -> None:
    """The sdist has the module, its stub and test; the wheel, which was built from it, the module and stub."""
    dist = project / "dist"
    sdists, wheels = sorted(dist.glob("*.tar.gz")), sorted(dist.glob("*.whl"))
    if len(sdists) != 1 or len(wheels) != 1:
        msg = f"expected an sdist and a wheel in {dist}, found {sorted(p.name for p in dist.iterdir())}"
        raise Failed(msg)
    with tarfile.open(sdists[0]) as sdist:
        in_sdist = {name.partition("/")[2] for name in sdist.getnames()}
    with zipfile.ZipFile(wheels[0]) as wheel:
        in_wheel = set(wheel.namelist())
    missing = [
        f
        for f in (f"src/{NAME}/{MODULE}.pyx", f"src/{NAME}/{MODULE}.pyi", f"tests/test{MODULE}.py")
        if f not in in_sdist
    ]
    if f"{NAME}/{MODULE}.pyi" not in in_wheel:
        missing.append(f"{NAME}/{MODULE}.pyi in the wheel")
    if not any(re.fullmatch(rf"{NAME}/{MODULE}\..+\.(so|pyd)", name) for name in in_wheel):
        missing.append(f"the compiled {NAME}/{MODULE} in the wheel")
    if missing:
        msg = f"missing from {sdists[0].name} or {wheels[0].name}: {missing}"
        raise Failed(msg)
    log(f"built {sdists[0].name}, {wheels[0].name}: both have {MODULE} and its stub")


def check_develop(project: Path, backend: str) -> None:
    """`nox -s develop`, then an edit to a .pyx shows on the next import (setuptools: after `develop` again)."""
    run_nox(project, "develop")
    venv = project / ".nox" / "develop"
    # As after `source .nox/develop/bin/activate`, from outside the project.
    env = {**os.environ, "VIRTUAL_ENV": str(venv), "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    probe = f"import {NAME}.{MODULE} as m; print(m.array_sum.__doc__)"
    pyx = project / "src" / NAME / f"{MODULE}.pyx"
    original = pyx.read_text(encoding="utf-8")
    # setuptools compiles at install time only: its README says to run `develop` again.
    again = backend == "setuptools"
    edited = "Edited, then `nox -s develop` again." if again else "Edited, then imported: no reinstall."
    _replace(pyx, "Sum a contiguous float64 array on all cores.", edited)
    try:
        if again:
            run_nox(project, "develop")
        seen = subprocess.run(
            [venv / "bin" / "python", "-c", probe],
            cwd=project.parent,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        pyx.write_text(original, encoding="utf-8")
    if edited not in seen.stdout:
        msg = f"the editable install did not show the edit to {pyx.name}:\n{seen.stdout}{seen.stderr}"
        raise Failed(msg)
    log(f"develop: an edit to {pyx.name} shows on import: {edited!r}")


def check_coverage(project: Path) -> None:
    """`nox -s coverage` reports the lines of every .pyx, the added module's too."""
    output = run_nox(project, "coverage", capture=True)
    measured = dict(re.findall(rf"^src/{NAME}/(\w+)\.pyx\s+\d+\s+\d+\s+(\d+)%", output, re.MULTILINE))
    if "Session coverage was successful" not in output or set(measured) != {"_core", "_kernels", MODULE}:
        msg = f"`nox -s coverage` did not report the lines of every .pyx (found {measured}):\n{output[-3000:]}"
        raise Failed(msg)
    log(f"coverage: {', '.join(f'{module}.pyx {percent} %' for module, percent in measured.items())}")


def check_strays(project: Path) -> None:
    """What Python and Cython leave beside the sources stays out of a wheel built from the tree, as from the sdist.

    A C file that Cython generated beside a .pyx (a coverage run, cython by
    hand) and __pycache__/ folders are planted in src/; a wheel built
    straight from the tree must hold the same files as the one `nox -s build`
    built from the sdist, and the contents check must name the stray C.
    """
    package = project / "src" / NAME
    stray = package / "_core.c"
    stray.write_text("/* Generated by Cython 3.1.4 */\n/* left beside _core.pyx by a coverage run */\n")
    run(sys.executable, "-m", "compileall", "-q", str(package))
    out = project.parent / "wheel-from-tree"
    try:
        run(tool("uv"), "build", "--wheel", "--python", sys.executable, "--out-dir", str(out), str(project))
        (tree_wheel,) = out.glob("*.whl")
        check = [sys.executable, "tools/check_contents.py", "dist", "--all-tracked", "--tree-wheel", str(tree_wheel)]
        done = subprocess.run(check, cwd=project, capture_output=True, text=True, check=False)
    finally:
        stray.unlink()
        shutil.rmtree(out, ignore_errors=True)
    note = f"src/{NAME}/_core.c is C that Cython generated from _core.pyx, left beside it: delete it"
    if done.returncode != 0 or note not in done.stderr:
        msg = f"with strays planted in src/{NAME}/, the wheel from the tree differs or the check is silent:\n"
        raise Failed(msg + done.stdout + done.stderr)
    log(
        f"strays in src/{NAME}/ (_core.c, __pycache__/): the wheel from the tree holds what the one from the sdist holds"
    )
    log(f"tools/check_contents.py: NOTE {note}")


SHARED_ROW = "| Cython's utility code in one module"  # the README's row of "Build options" for the switch


def shared_switch(project: Path) -> tuple[str, list[str], dict[str, str]]:
    """The README's switch for the shared utility module as written; as arguments for the frontend, or environment."""
    readme = (project / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith(SHARED_ROW)]
    switches = re.findall(r"`([^`]+)`", rows[0].split(" | ")[1]) if len(rows) == 1 else []
    if len(switches) != 1:
        msg = f"README.md's Build options show no one switch for the shared utility module: {rows}"
        raise Failed(msg)
    switch = switches[0]
    # setuptools has no build options: its switches are VARIABLE=value, read by setup.py.
    return (switch, [switch], {}) if switch.startswith("-") else (switch, [], dict([switch.split("=", 1)]))


def check_shared(project: Path, backend: str) -> None:
    """The README's switch for the shared utility module, as a user passes it to `nox -s build`: the project's tests pass.

    The switch is taken from the README's row as written (an argument for
    the frontend, or VARIABLE=value for setup.py) and must be the one the
    repository's own builds use (tools/registry/backends.py). The wheel must
    hold <name>/_cyutility; it goes into the `tests` session's environment,
    whose tests then run against it.
    """
    switch, args, env = shared_switch(project)
    expected = backend_of(backend).shared_utility.named(NAME)
    if (args, env) != expected:
        msg = f"README.md's switch {switch!r} is not the one the builds here use, {expected}: update the README"
        raise Failed(msg)
    run_nox(project, "build", "--", *args, env=env)
    (wheel,) = (project / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as whl:
        utility = [n for n in whl.namelist() if re.fullmatch(rf"{NAME}/_cyutility\..+\.(so|pyd)", n)]
    if not utility:
        msg = f"{wheel.name}, built with {switch}, holds no {NAME}/_cyutility"
        raise Failed(msg)
    python = str(project / ".nox" / "tests" / "bin" / "python")
    run(tool("uv"), "pip", "install", "--python", python, "--reinstall", "--no-deps", str(wheel))
    probe = f"import {NAME}; assert {NAME}.build_info()['shared_utility'], {NAME}.build_info()"
    run(python, "-c", probe)
    done = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project, check=False)
    if done.returncode != 0:
        msg = f"the project's tests failed against {wheel.name}, built with {switch}"
        raise Failed(msg)
    log(f"{switch}: {wheel.name} holds {utility[0]}; the project's tests pass against it")


def check_own_backend_only(project: Path, backend: str) -> None:
    """No file of the project names another backend, comments included (the core and its suite are shared)."""
    listed = subprocess.run(["git", "ls-files"], cwd=project, capture_output=True, text=True, check=True)
    others = [pattern for name, pattern in BACKEND_NAMES.items() if name != backend]
    found = [
        f"{file}:{number}: {line.strip()}"
        for file in listed.stdout.splitlines()
        # The core's build_info() and the suite know all three backends; the README is checked by its own steps.
        if not file.startswith(("src/", "tests/")) and file != "README.md"
        for number, line in enumerate((project / file).read_text(encoding="utf-8").splitlines(), 1)
        if any(pattern.search(line) for pattern in others)
    ]
    if found:
        msg = f"the {backend} project names other backends:\n  " + "\n  ".join(found)
        raise Failed(msg)
    log(f"no file of the project names a backend other than {backend}")


def check_new(backend: str) -> None:
    """Generate `backend`'s project as NAME in a temporary folder, take its README's steps, build and test it."""
    tmp = Path(tempfile.mkdtemp(prefix=f"test_new-{backend}-"))
    project = tmp / NAME
    new(backend, project, NAME)
    log(f"generated {NAME} ({backend}) in {project}")
    check_own_backend_only(project, backend)
    added = add_numpy_module(project, backend)
    for file, lines in added.items():
        log(f"{file}: {len(lines)} lines added or changed, as the README says")
    if gaps := readme_gaps(project, added):
        raise Failed("README.md does not show what its steps write:\n  " + "\n  ".join(gaps))
    commit(project, f"Add {MODULE}: a module that cimports NumPy, as README.md says")
    if backend == "meson":
        check_refuses_uncommitted(project)
    # The project's own noxfile: `tests` installs it (a full build) into a
    # fresh venv and runs its tests; `build` makes the sdist, then the wheel
    # from it. pytest's report says which tests ran.
    junit = tmp / "junit.xml"
    run_nox(project, "tests", "build", env={"PYTEST_ADDOPTS": f"--junitxml={junit}"})
    check_results(junit)
    check_dists(project)
    check_develop(project, backend)
    check_coverage(project)
    check_strays(project)
    check_shared(project, backend)
    # Everything `new` wrote and the README's steps added is committed, and
    # .gitignore covers what the builds and the editable install left behind.
    status = subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True, check=True)
    if status.stdout:
        msg = f"files not committed nor ignored in {project}:\n{status.stdout}"
        raise Failed(msg)
    # CI cannot run here: check what can be checked without GitHub.
    run(tool("cibuildwheel"), "--print-build-identifiers", str(project))
    workflow = project / ".github" / "workflows" / "ci.yml"
    run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflow))
    run(tool("check-jsonschema"), "--builtin-schema", "vendor.dependabot", str(project / ".github" / "dependabot.yml"))
    run(tool("zizmor"), "--offline", str(project))
    check_moved(tmp, backend)
    shutil.rmtree(tmp)  # kept when a step fails, to look at


def main(argv: list[str] | None = None) -> int:
    from tools.registry.backends import NAMES

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] not in NAMES:
        sys.exit(f"usage: python -m tools.checks.new BACKEND ({', '.join(NAMES)})")
    try:
        check_new(args[0])
    except Failed as failure:
        print(f"test_new({args[0]}) failed: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
