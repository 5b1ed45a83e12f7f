"""A check that this installation gives exact answers: `python -m mathcore.selftest`.

Runs every public function on the ranges in cases.json, package data read
through importlib.resources, and compares with their exact totals. Meant for
a new machine, a new CPU or a repaired wheel, where the test suite is not
installed.
"""

from __future__ import annotations

import json
from importlib.resources import files

import mathcore

FUNCTIONS = ("do_math", "do_math_threaded", "do_math_parallel")


def cases() -> list[dict[str, int]]:
    """The ranges and their exact totals, from cases.json."""
    return json.loads(files(__package__).joinpath("cases.json").read_text(encoding="utf-8"))["cases"]


def run(*, verbose: bool = False) -> list[str]:
    """Every function on every case; the ones that gave a wrong total (an empty list when all are exact)."""
    wrong = []
    for case in cases():
        for name in FUNCTIONS:
            got = getattr(mathcore, name)(case["start"], case["num"])
            if got != case["total"]:
                wrong.append(f"{name}({case['start']}, {case['num']}) = {got!r}, not {case['total']}")
            elif verbose:
                print(f"{name}({case['start']}, {case['num']}) = {case['total']}: exact")
    return wrong
