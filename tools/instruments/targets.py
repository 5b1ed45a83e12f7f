"""The aarch64 target: each backend's wheel cross-compiled and built under emulation, interleaved and timed.

    python -m tools.instruments.targets [--reps N] [--backends ...] [--out DIR]

For each backend, both ways of tools/make/cross.py, in a shuffled order in
every repetition: the wall time of the sdist and the wheel built from it,
the wheel's size, whether it is an aarch64 wheel (tools/checks/aarch64.py's
static checks), and the code lines of the recipe beside the template. Speed
under emulation is not a speed figure: the kernels are not timed there (the
suite in the root checks their answers, `nox -s test_aarch64`). Writes
reports/targets.{json,md}.
"""

from __future__ import annotations

import sys
import time

from tools.inspect.dists import aarch64_problems as problems
from tools.inspect.host import describe, machine
from tools.inspect.templates import code_lines
from tools.instruments.measure import Task, command_line, interleave, md_table, median, report, uncached
from tools.instruments.measure import parser as instrument_parser
from tools.make import cross, in_root
from tools.make.render import ROOT
from tools.registry.backends import NAMES
from tools.registry.variants import Variant, select

# First guesses of each build's seconds, for the estimate of the time left only.
GUESS = {"cross": 40.0, "emulated": 300.0}


def measure(args) -> dict:
    variants = [v for v in select(target="aarch64") if v.backend in args.backends]
    results: dict[str, dict] = {}

    def step(v: Variant):
        def run() -> float:
            seconds = cross.build_variant(v)
            wheel = v.wheels(ROOT)[-1]
            results[v.label] = {"wheel": wheel.name, "bytes": wheel.stat().st_size, "problems": problems(wheel)}
            return seconds

        return run

    tasks = [Task(v.label, f"{v.label} ({v.way})", step(v), GUESS[v.way]) for v in variants]
    times = interleave(tasks, args.reps, args.seed, "aarch64 builds")
    rows = {}
    for v in variants:
        r = rows.setdefault(v.backend, {"recipe": {}, "lines": 0})
        r[v.way] = {**results[v.label], "seconds": times[v.label], "median_s": median(times[v.label])}
        if v.way == "cross":
            r["recipe"] = {name: len(code_lines(ROOT / v.backend / name)) for name in v.spec.cross_files}
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": command_line("compare_targets", sys.argv[1:]),
        "reps": args.reps,
        "machine": machine(),
        "backends": rows,
    }


def markdown(data: dict) -> str:
    b = data["backends"]
    names = [n for n in NAMES if n in b]

    def each(fn) -> list[str]:
        return [fn(b[n]) for n in names]

    def built(way: str):
        return lambda r: (
            "yes"
            if way in r and not r[way]["problems"]
            else "NO: " + "; ".join(r.get(way, {}).get("problems", ["not built"]))
        )

    def ratio(r: dict) -> str:
        return f"{r['emulated']['median_s'] / r['cross']['median_s']:.1f}" if "emulated" in r and "cross" in r else "-"

    table = [
        ["", *names],
        ["cross: an aarch64 wheel, with no patch to the backend", *each(built("cross"))],
        ["emulated: an aarch64 wheel", *each(built("emulated"))],
        [
            "recipe beside the template (code lines)",
            *each(lambda r: ", ".join(f"{f} {n}" for f, n in r["recipe"].items())),
        ],
        ["cross: sdist + wheel (s)", *each(lambda r: f"{r['cross']['median_s']:.0f}" if "cross" in r else "-")],
        [
            "emulated: sdist + wheel (s)",
            *each(lambda r: f"{r['emulated']['median_s']:.0f}" if "emulated" in r else "-"),
        ],
        ["emulated / cross", *each(ratio)],
        [
            "wheel size, cross / emulated (kB)",
            *each(lambda r: " / ".join(f"{r[w]['bytes'] / 1000:.0f}" for w in ("cross", "emulated") if w in r)),
        ],
    ]
    return f"""# aarch64: cross-compiled and emulated builds

{data["date"]} · `{data["command"]}` · {describe(data["machine"])} · median of {data["reps"]} interleaved build(s)

Each backend's sdist and the wheel built from it, for CPython 3.11 on aarch64 Linux (Debian 12): "cross" on this
machine with gcc-aarch64-linux-gnu and the recipe beside the template, "emulated" inside an arm64 Debian root run by
qemu-user. Times include making each build's isolated environment. The kernels are not timed under emulation.

{md_table(table)}
"""


def main(argv: list[str] | None = None) -> None:
    parser = instrument_parser("compare_targets", __doc__, "targets")
    parser.add_argument("--backends", nargs="+", choices=NAMES, default=list(NAMES))
    args = parser.parse_args(argv)
    uncached()
    if reason := in_root.unavailable("aarch64"):
        print(f"aarch64: {reason}")
        return
    _, path = report("targets", measure, markdown, args)
    print(f"wrote {path} and targets.md")


if __name__ == "__main__":
    main()
