"""The shared-axes check's judgement, on wheels made here: a missing or misnamed utility module fails it."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tools.checks.shared_axes import AXES, CHECKS, both, in_wheel, plan
from tools.registry.backends import NAMES, Switch

SO = "cpython-311-x86_64-linux-gnu.so"


def wheel(tmp_path: Path, *names: str) -> Path:
    path = tmp_path / "pkg-0.1-cp311-cp311-linux_x86_64.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name in ["pkg/__init__.py", f"pkg/_core.{SO}", *names]:
            zf.writestr(name, "")
    return path


def test_a_wheel_with_its_utility_module_passes(tmp_path):
    assert in_wheel(wheel(tmp_path, f"pkg/_cyutility.{SO}"), "pkg") is None
    assert in_wheel(wheel(tmp_path, "pkg/_cyutility.abi3.so"), "pkg", abi3=True) is None


@pytest.mark.parametrize(
    ("names", "abi3", "said"),
    [
        ((), False, "0 pkg/_cyutility"),
        ((f"other/_cyutility.{SO}",), False, "0 pkg/_cyutility"),  # another package's
        ((f"pkg/_cyutility.{SO}", "pkg/_cyutility.abi3.so"), False, "2 pkg/_cyutility"),
        ((f"pkg/_cyutility.{SO}",), True, "not for the Limited API"),
        (("pkg/_cyutility.abi3.so",), False, "for the Limited API, unlike"),
    ],
)
def test_a_missing_or_misnamed_utility_module_is_named(tmp_path, names, abi3, said):
    problem = in_wheel(wheel(tmp_path, *names), "pkg", abi3=abi3)
    assert problem is not None
    assert said in problem


def test_every_axis_has_a_check_and_smoke_runs_each_once():
    assert set(CHECKS) == set(AXES)
    smoke = plan(AXES, NAMES, smoke=True)
    assert [axis for axis, _ in smoke] == list(AXES)
    assert {b for _, b in smoke} == set(NAMES)
    assert dict(smoke)["editable"] != "setuptools", "smoke's editable run must rebuild on import"
    assert len(plan(AXES, NAMES, smoke=False)) == len(AXES) * len(NAMES)


def test_both_switches_are_kept():
    on = both(Switch(("-Ca",), {"{NAME}_X": "1"}), Switch(("-Cb",), {"CC": "clang"}))
    assert on.named("pkg") == (["-Ca", "-Cb"], {"PKG_X": "1", "CC": "clang"})
