"""The docs' worked example, as DEVELOPING.md shows it: a module that cimports NumPy, added to the example."""

from __future__ import annotations

from pathlib import Path

from tools.checks.new.runner import NAME, changed_lines, line, rename, replace, snapshot
from tools.make.render import add_modules
from tools.registry.backends import PLACEHOLDER

# As the templates' docs show them (package name: the placeholder), renamed when written.

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
# every compiled module by tests/test_core.py (built.LINKAGE_TEST).
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
# The docs' NumPy lines, the same for all three backends.
BUILD_NUMPY = '"numpy>=2"'  # appended to [build-system] requires
RUNTIME_NUMPY = 'dependencies = ["numpy>=1.23.5"]'  # added to [project]


def numpy_pyproject(project: Path) -> None:
    """Build against NumPy 2 (its wheels run on NumPy 1.23+ too), and depend on NumPy at run time."""
    pyproject = project / "pyproject.toml"
    requires = line(pyproject, r"requires = \[.*\]")
    replace(pyproject, requires, f"{requires[:-1]}, {BUILD_NUMPY}]")
    python = line(pyproject, r"requires-python = .*")
    replace(pyproject, python, f"{python}\n{RUNTIME_NUMPY}")


def numpy_setuptools(project: Path) -> None:
    """setup.py: NumPy's include directory and the define, in extension(), for every module."""
    setup = project / "setup.py"
    replace(
        setup, "from setuptools import Extension, setup\n", "import numpy\nfrom setuptools import Extension, setup\n"
    )
    replace(
        setup,
        rename('        include_dirs=["src/mathcore"],\n'),
        rename(
            """\
        # NumPy's headers. The define hides NumPy's deprecated C API, which
        # Cython does not use: NumPy < 2.3 warns without it.
        include_dirs=["src/mathcore", numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
"""
        ),
    )


def numpy_meson(project: Path) -> None:
    """meson.build: dependency('numpy') (meson >= 1.4) with the define, for every module; the stub installed."""
    build = project / "meson.build"
    version = line(build, r"  meson_version: .*")
    replace(build, version, "  meson_version: '>= 1.4',  # dependency('numpy') needs 1.4")
    openmp = line(build, r"openmp = dependency\('openmp'.*")
    replace(
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
    replace(build, "    dependencies: openmp,\n", "    dependencies: [openmp, numpy],\n")


def numpy_cmake(project: Path) -> None:
    """CMakeLists.txt: FindPython's NumPy component, its target and the define, for every module."""
    cmake = project / "CMakeLists.txt"
    python = line(cmake, r"find_package\(Python .*Development\.Module.*\)")
    replace(cmake, python, f"{python[:-1]} NumPy)")
    options = line(cmake, r"  target_compile_options\(\$\{name\} PRIVATE .*\)")
    replace(
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
    """Take the docs' steps; return, per file, the lines they added or changed."""
    package = project / "src" / NAME
    (package / f"{MODULE}.pyx").write_text(rename(MODULE_PYX), encoding="utf-8")
    (package / f"{MODULE}.pyi").write_text(rename(MODULE_PYI), encoding="utf-8")
    (project / "tests" / f"test{MODULE}.py").write_text(rename(MODULE_TEST), encoding="utf-8")
    before = snapshot(project, ["pyproject.toml", *BUILD_FILES[backend]])
    add_modules(project, backend, [MODULE])
    numpy_pyproject(project)
    for step in NUMPY_STEPS[backend]:
        step(project)
    return changed_lines(project, before)


# The files the docs show whole.
SHOWN_WHOLE = {f"src/{NAME}/{MODULE}.pyx": MODULE_PYX, f"src/{NAME}/{MODULE}.pyi": MODULE_PYI}
