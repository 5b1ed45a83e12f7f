"""This repository's variants are what their names say (tools/registry/variants.py); not shipped into new projects.

A variant's name carries its axis (mathcore_meson_clang, mathcore_meson_abi3,
mathcore_meson_no_openmp), and a switch that a backend ignored would still
build, with the default settings: only the built module tells.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest

from tools.inspect.elf import needed


def _core_file(build) -> str:
    return importlib.import_module(f"{build.__name__}._core").__spec__.origin


@pytest.mark.skipif(sys.platform != "linux", reason="reads the modules' ELF dynamic section (Linux)")
def test_clang_variant_is_clangs(build):
    """A clang variant was compiled by clang and links LLVM's libomp, not libgomp."""
    if not build.__name__.endswith("_clang"):
        pytest.skip("not a clang variant")
    info = build.build_info()
    assert "clang" in info["compiler"].lower()
    assert info["openmp"], "the clang variants build with OpenMP required"
    runtimes = [lib for lib in needed(Path(_core_file(build))) if "omp" in lib]
    # libomp.so.5 on Debian and Ubuntu (libomp-dev), libomp.so elsewhere;
    # libomp-<8 hex>.so.5 once auditwheel repair vendored it (<package>.libs/).
    assert runtimes, "no OpenMP runtime linked"
    assert all(re.match(r"libomp(-[0-9a-f]{8})?\.so", lib) for lib in runtimes), runtimes


def test_abi3_variant_is_abi3(build):
    """An abi3 variant was compiled for the Limited API (tests/test_core.py checks that tags and file names agree)."""
    if not build.__name__.endswith("_abi3"):
        pytest.skip("not an abi3 variant")
    assert build.build_info()["limited_api"] is not None, "an abi3 variant compiled for one Python version"


def test_no_openmp_variant_has_none(build):
    """A variant built with its OpenMP switch off runs its prange serially."""
    if not build.__name__.endswith("_no_openmp"):
        pytest.skip("not a variant without OpenMP")
    assert build.build_info()["openmp"] is False
    assert build.build_info()["parallel_runner"] == "serial"


def test_shared_variant_has_its_utility_module(build):
    """A shared variant imported Cython's utility code from its own <package>._cyutility."""
    if "shared" not in build.__name__.split("_")[2:]:  # mathcore_meson_shared, mathcore_meson_shared_aarch64
        pytest.skip("not a shared-utility variant")
    assert build.build_info()["shared_utility"] is True
    assert f"{build.__name__}._cyutility" in sys.modules


def test_shared_utility_modules_side_by_side():
    """Packages that each carry a _cyutility import together in one process, each its own, with exact answers."""
    from tests.conftest import BUILDS, TWIN

    shared = [b for b in BUILDS.values() if b.build_info()["shared_utility"]]
    if len(shared) < 2:
        pytest.skip("fewer than two shared-utility builds installed")
    utilities = [sys.modules[f"{b.__name__}._cyutility"] for b in shared]
    assert len({id(u) for u in utilities}) == len(utilities)
    assert len({u.__spec__.origin for u in utilities}) == len(utilities)
    for b in shared:
        assert b.do_math_parallel(-7, 3_000_001) == TWIN.exact(-7, 3_000_001)
