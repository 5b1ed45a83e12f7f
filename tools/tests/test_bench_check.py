"""The bench's answer check: the guard against timing a deleted loop or an overflow."""

from __future__ import annotations

import ctypes

from tools.instruments.bench.impls import Impl
from tools.instruments.bench.timing import check


def impl(func):
    return Impl("fake", "fake", "serial", 1, func)


def test_a_correct_answer_is_timed(twin):
    assert check(impl(twin.do_math), twin, 999_000, 1_001_003) == "exact"


def test_a_deleted_loop_is_wrong(twin):
    # What the lecture timed: the compiler dropped a loop whose result was unused.
    assert check(impl(lambda _start, _num: 0.0), twin, 0, 10**6).startswith("WRONG")


def test_an_overflowed_total_is_wrong(twin):
    def int32_total(start, num):
        return float(ctypes.c_int32(twin.exact(start, num)).value)

    assert check(impl(int32_total), twin, 0, 10**6).startswith("WRONG")


def test_a_total_slightly_off_above_2_53_is_bounded(twin):
    start, num = 2**53 - 1_000, 2**53
    close = float(twin.exact(start, num)) * (1 + 2**-52)
    assert check(impl(lambda _start, _num: close), twin, start, num) == "bounded"


def test_a_crash_is_wrong(twin):
    def crash(_start, _num):
        raise MemoryError

    assert check(impl(crash), twin, 0, 10).startswith("WRONG")
