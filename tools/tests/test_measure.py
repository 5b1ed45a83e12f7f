"""How every report shows a time: median and range, ties where ranges overlap, no verdict from one repetition."""

from __future__ import annotations

import os

from tools.inspect.builds import effective_flags
from tools.instruments.compare import report, setups
from tools.instruments.measure import DASH, NO_SPREAD, fmt_change, fmt_spread, mark_best, spread, tie
from tools.registry.backends import EQUAL_FLAGS, NAMES


def test_spread_keeps_the_range_and_the_count():
    assert spread([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0, "n": 3}
    assert spread([]) is None


def test_tie_is_overlapping_ranges_and_none_without_a_spread():
    assert tie([1.0, 2.0], [1.5, 3.0]) is True
    assert tie([1.0, 2.0], [2.0, 3.0]) is True  # touching ends: not told apart
    assert tie([1.0, 1.2], [1.3, 1.5]) is False
    # One repetition: the machine's noise is unknown, so neither a tie nor a difference.
    assert tie([1.0], [5.0, 6.0]) is None
    assert tie([1.0], [5.0]) is None


def test_fmt_spread():
    assert fmt_spread([12.3, 11.9, 13.0]) == f"12.3 (11.9{DASH}13.0)"
    assert fmt_spread([0.123, 0.1, 0.2], ".2f") == f"0.12 (0.10{DASH}0.20)"
    assert fmt_spread([7.0]) == "7.0"
    assert fmt_spread([]) == "n/a"


def test_mark_best_bolds_a_clear_winner_only():
    clear = mark_best([[5.0, 5.2, 5.1], [7.0, 7.5, 7.2], [9.0, 9.9, 9.5]])
    assert clear[0].startswith("**")
    assert not any("**" in c or "tie" in c for c in clear[1:])
    # The fastest overlaps the runner-up: both are a tie, the third (clear of the fastest) is not marked.
    tied = mark_best([[5.0, 6.0, 5.5], [5.8, 7.0, 6.5], [9.0, 9.9, 9.5]])
    assert [c.endswith(" tie") for c in tied] == [True, True, False]
    assert not any("**" in c for c in tied)
    # Higher is better: the largest wins.
    assert mark_best([[1.0, 1.1], [3.0, 3.1]], higher_is_better=True)[1].startswith("**")


def test_mark_best_says_nothing_from_one_repetition():
    assert mark_best([[5.0], [7.0], [9.0]]) == ["5.0", "7.0", "9.0"]
    assert mark_best([[5.0, 5.1], [7.0]]) == [f"5.0 (5.0{DASH}5.1)", "7.0"]
    assert mark_best([[5.0, 5.1], []]) == [f"5.0 (5.0{DASH}5.1)", "n/a"]


def test_fmt_change():
    assert fmt_change([10.0, 10.5], [12.0, 12.4]) == "+1.9 s"
    assert fmt_change([10.0, 11.0], [10.5, 12.0]) == "tie (+0.8 s)"
    assert fmt_change([10.0], [12.0]) == f"+2.0 s ({NO_SPREAD})"
    assert fmt_change([], [1.0]) == "n/a"


def test_effective_flags_take_the_last_of_each_kind():
    # setuptools' equal-flags build: Python's CFLAGS, then the appended CFLAGS.
    python = ["-DNDEBUG", "-g", "-fwrapv", "-O3", "-Wall", "-fPIC"]
    appended = ["-O3", "-g0", "-fvisibility=hidden", "-fno-wrapv", "-DNDEBUG"]
    assert effective_flags(python) == {
        "opt": "-O3",
        "debug": True,
        "visibility": "default",
        "wrapv": True,
        "ndebug": True,
    }
    assert effective_flags(python + appended) == {
        "opt": "-O3",
        "debug": False,
        "visibility": "hidden",
        "wrapv": False,
        "ndebug": True,
    }
    assert effective_flags(["-g0", "-ggdb", "-O"])["debug"] is True
    assert effective_flags(["-O"])["opt"] == "-O2"
    assert effective_flags(None) is None


def _data(reps: int) -> dict:
    """A compare report as measure() writes it, with made-up figures."""
    effective = {"opt": "-O3", "debug": False, "visibility": "hidden", "wrapv": False, "ndebug": True}
    build = {
        "wheel_bytes": 100_000,
        "compile_flags": ["-O3"],
        "effective_flags": effective,
        "debug_bytes": 0,
        "symtab": True,
    }
    modes = ["uv isolated", "sdist", "editable install"]
    flag_modes = {s: setups.FLAG_MODES[s] for s in setups.SETTINGS}
    backends = {}
    for i, name in enumerate(NAMES):
        times = {m: [10.0 + i + 0.1 * r for r in range(reps)] for m in [*modes, *flag_modes.values()]}
        times[setups.SHARED_MODE] = [9.0 + i + 0.1 * r for r in range(reps)]
        backends[name] = {
            "backend": name,
            "times": times,
            "median_s": {m: t[len(t) // 2] for m, t in times.items()},
            "spread_s": {m: spread(t) for m, t in times.items()},
            "sdist_bytes": 20_000,
            "sdist_files": ["a"],
            "wheel_from_sdist": True,
            "import_unchanged_s": [0.1] * reps,
            "import_after_edit_s": [0.2] * reps,
            "edit_visible": True,
            "wheel_bytes": 100_000,
            "shared_wheel_bytes": 150_000,
            "files": {"a": 1},
            "compile_flags": ["-O3"],
            "needed": ["libgomp.so.1"],
            "libgomp": True,
            "simd_square_roots": ["sqrtpd %xmm"],
            "dispatch_lines": 0,
            "config_lines": {"pyproject.toml": 25},
            "flag_builds": dict.fromkeys(setups.SETTINGS, build),
        }
    return {
        "date": "today",
        "command": "nox -s compare",
        "reps": reps,
        "smoke": reps < 2,
        "modes": modes,
        "flag_modes": flag_modes,
        "shared_mode": setups.SHARED_MODE,
        "equal_flags": dict(EQUAL_FLAGS),
        "python": "3.11",
        "tools": {},
        "backends": backends,
    }


def test_compare_report_marks_a_smoke_run_and_shows_spreads():
    smoke = report.markdown(_data(1))
    assert "smoke run: 1 repetition, no spread" in smoke
    assert NO_SPREAD in smoke
    full = report.markdown(_data(3))
    assert "smoke run" not in full
    assert f"10.1 (10.0{DASH}10.2)" in full
    assert "**-g**: wheel size" in full
    assert "equal flags: yes" in full
    assert "| wheel size, shared utility (kB) | 150.0 |" in full
    assert "| build time, per-module → shared utility | -1.0 s |" in full  # 10.1 → 9.1, ranges apart


def test_compare_quick_report_has_the_default_build_only():
    """--quick (the main job's) times no equal-flags or shared build: the report says so and renders without them."""
    data = _data(1)
    data.pop("shared_mode")
    data["flag_modes"] = {"default": setups.FLAG_MODES["default"]}
    for rec in data["backends"].values():
        rec["flag_builds"] = {"default": rec["flag_builds"]["default"]}
        for mode in (*setups.FLAG_MODES.values(), setups.SHARED_MODE):
            if mode != "uv isolated":
                rec["times"].pop(mode)
    text = report.markdown(data)
    assert "A quick run (`--quick`" in text
    assert "equal flags" not in text.replace("equal-flags", "")
    assert "shared utility" not in text


def test_every_build_timing_turns_the_compiler_cache_off():
    """meson takes ccache from PATH by itself: a timing that forgot uncached() would time the cache in one column."""
    import ast
    import inspect

    from tools.instruments import abi, compilers, targets
    from tools.instruments.compare import cli as compare
    from tools.instruments.scale import cli as scale

    for module in (abi, compare, compilers, targets, scale):
        calls = {
            node.func.id
            for node in ast.walk(ast.parse(inspect.getsource(module)))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        assert "uncached" in calls, f"{module.__name__} times builds without uncached()"


def test_uncached_disables_ccache(monkeypatch):
    from tools.instruments.measure import uncached

    monkeypatch.delenv("CCACHE_DISABLE", raising=False)
    uncached()
    assert os.environ["CCACHE_DISABLE"] == "1"
