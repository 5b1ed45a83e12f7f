"""bench's options and its files: bench.json, bench.md and bench.png."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tools.instruments.bench import __doc__ as DOC
from tools.instruments.bench.chart import chart
from tools.instruments.bench.report import markdown, order_key, reference_ratios, summarize, table
from tools.instruments.bench.timing import run
from tools.make.render import ROOT


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="nox -s bench --", description=DOC.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--target", type=float, default=0.3, help="seconds per call to size for (default 0.3)")
    parser.add_argument(
        "--size",
        type=int,
        help="elements per call for every compiled and peer implementation "
        "(the pure-Python twin stays calibrated to --target)",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 rounds of ~0.02 s calls")
    parser.add_argument("--no-peers", action="store_true", help="skip NumPy and Numba")
    parser.add_argument("--seed", type=int, default=0, help="seed of the shuffled order")
    parser.add_argument("--out", type=Path, default=ROOT / "reports", help="where bench.json/.md/.png go")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.target = 2, 0.02
        print("a smoke run (--quick): 2 rounds of ~0.02 s calls, every answer checked; the times are noise", flush=True)
    if args.rounds < 1 or args.target <= 0 or (args.size is not None and args.size < 1):
        parser.error("--rounds, --target and --size must be positive")
    data = run(args)
    rows = sorted(summarize(data), key=order_key)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(data, indent=2) + "\n")
    (args.out / "bench.md").write_text(markdown(data, rows))
    chart(rows, args.out / "bench.png")
    print()
    print(table(rows))
    print(reference_ratios(rows))
    print(f"\nwrote {args.out / 'bench.json'}, bench.md and bench.png")
    if any(r["answer"].startswith("WRONG") for r in rows):
        sys.exit("some implementations gave a WRONG answer (see the table): they were not timed")
