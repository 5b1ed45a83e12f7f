"""compare's options and its run: the timed steps interleaved, then one kept build per backend and setting, read."""

from __future__ import annotations

import argparse
import sys
import time

from tools.inspect.templates import config_lines, dispatch_lines
from tools.instruments import steps
from tools.instruments.compare import __doc__ as DOC
from tools.instruments.compare.chart import chart
from tools.instruments.compare.report import markdown
from tools.instruments.compare.setups import (
    FLAG_MODES,
    FULL_MODES,
    LEAN_MODES,
    SETTING_TITLES,
    SETTINGS,
    SHARED_MODE,
    kept_build,
    step,
)
from tools.instruments.measure import Task, command_line, interleave, median, report, spread, uncached, workdir
from tools.instruments.measure import parser as instrument_parser
from tools.make.render import ROOT
from tools.registry.backends import BACKENDS, EQUAL_FLAGS, NAMES


def measure(args: argparse.Namespace) -> dict:
    """Interleaved, repeated timings of the chosen modes, then one inspected build per backend."""
    py = sys.executable
    modes = FULL_MODES if args.full else LEAN_MODES
    # --quick (the main job's smoke run): the default build only, no equal-flags or shared-utility builds.
    settings = ("default",) if args.quick else SETTINGS
    flag_modes = [FLAG_MODES[s] for s in settings if s != "default"]
    results = {b: {"backend": BACKENDS[b].title} for b in NAMES}
    timed = [*modes, *flag_modes, *([] if args.quick else [SHARED_MODE])]
    with workdir("compare-") as work:
        tasks = [
            Task((b, m), f"{b}: {m}", step(py, b, m, work, results[b]), BACKENDS[b].seconds)
            for b in NAMES
            for m in timed
        ]
        times = interleave(tasks, args.reps, args.seed, "compare")
        for backend in NAMES:
            kept = {}
            for setting in settings:
                print(f"inspecting a {backend} build, {SETTING_TITLES[setting]}", flush=True)
                kept[setting] = kept_build(py, backend, work, setting)
            # The default build's figures stay at the top, where the summary reads them.
            results[backend].update(kept["default"])
            results[backend]["flag_builds"] = kept
            files = BACKENDS[backend].config_files
            results[backend]["config_lines"] = config_lines(ROOT / backend, files)
            results[backend]["dispatch_lines"] = dispatch_lines(ROOT / backend, files)
    for backend, rec in results.items():
        # Every repetition is kept: the medians and ranges below are derived, for readers of the JSON.
        rec["times"] = {m: times[backend, m] for m in timed}
        rec["median_s"] = {m: median(ts) for m, ts in rec["times"].items()}
        rec["spread_s"] = {m: spread(ts) for m, ts in rec["times"].items()}
        for key in ("import_unchanged_s", "import_after_edit_s"):  # a list: one median of 5 imports per repetition
            rec[f"{key.removesuffix('_s')}_spread_s"] = spread(rec[key])
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": command_line("compare", sys.argv[1:]),
        "reps": args.reps,
        "smoke": args.reps < 2,
        "quick": args.quick,
        "modes": modes,
        "flag_modes": {s: FLAG_MODES[s] for s in settings},
        **({} if args.quick else {"shared_mode": SHARED_MODE}),
        "equal_flags": dict(EQUAL_FLAGS),
        "python": sys.version.split()[0],
        "tools": steps.tool_versions(py),
        "backends": results,
    }


def main(argv: list[str] | None = None) -> None:
    parser = instrument_parser("compare", DOC, "compare")
    parser.add_argument("--full", action="store_true", help="also pip and builds without isolation")
    parser.add_argument(
        "--quick", action="store_true", help="the main job's smoke run: one repetition, the default build only"
    )
    args = parser.parse_args(argv)
    uncached()
    if args.quick:
        args.reps = 1
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    if args.reps < 2:
        print("a smoke run (--reps 1): every step built and read once; no spread, so no verdicts", flush=True)
    data, json_path = report("compare", measure, markdown, args)
    chart(data, args.out / "compare.png")
    print(f"wrote {json_path}, compare.md and compare.png")
