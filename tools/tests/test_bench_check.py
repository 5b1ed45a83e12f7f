"""The bench's answer check (the guard against timing a deleted loop or an overflow), and the variants."""

from __future__ import annotations

import ctypes
import re

import pytest

bench = pytest.importorskip("tools.bench", reason="run from the repository root")
variants = pytest.importorskip("tools.variants", reason="run from the repository root")


def impl(func):
    return bench.Impl("fake", "fake", "serial", 1, func)


def test_a_correct_answer_is_timed(twin):
    assert bench.check(impl(twin.do_math), twin, 999_000, 1_001_003) == "exact"


def test_a_deleted_loop_is_wrong(twin):
    # What the lecture timed: the compiler dropped a loop whose result was unused.
    assert bench.check(impl(lambda _start, _num: 0.0), twin, 0, 10**6).startswith("WRONG")


def test_an_overflowed_total_is_wrong(twin):
    def int32_total(start, num):
        return float(ctypes.c_int32(twin.exact(start, num)).value)

    assert bench.check(impl(int32_total), twin, 0, 10**6).startswith("WRONG")


def test_a_total_slightly_off_above_2_53_is_bounded(twin):
    start, num = 2**53 - 1_000, 2**53
    close = float(twin.exact(start, num)) * (1 + 2**-52)
    assert bench.check(impl(lambda _start, _num: close), twin, start, num) == "bounded"


def test_a_crash_is_wrong(twin):
    def crash(_start, _num):
        raise MemoryError

    assert bench.check(impl(crash), twin, 0, 10).startswith("WRONG")


def test_every_variant_is_found_by_conftest():
    """tests/conftest.py finds builds by name: each variant's name must give back its label, and no two collide."""
    for v in variants.VARIANTS:
        assert re.fullmatch(r"mathcore(?:_(\w+))?", v.name)[1] == v.label
    for key in ("label", "folder"):
        values = [getattr(v, key) for v in variants.VARIANTS]
        assert len(set(values)) == len(values), f"two variants share a {key}: {values}"


def test_clang_variants_require_openmp():
    """A clang without libomp-dev must fail the build, not make a serial one that is timed as clang's."""
    for v in variants.of_compiler("clang"):
        args, env = v.settings()
        assert env["CC"] == "clang"
        assert any("enabled" in a or "=ON" in a for a in args) or env.get(f"{v.name.upper()}_OPENMP") == "on"
