"""Join what the instruments measured into one page per backend: reports/summary.md.

    python -m tools.instruments.summary [--reports DIR]

Each instrument measures and writes its own JSON; none reads another's.
This step only joins those that compare backends (bench, compare, scale,
reproducible, coverage, ccache): one row per figure, each row naming the
report, and so the command and date, it comes from. A report that was not made is said to be missing, never
filled in.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from tools.instruments.measure import md_table
from tools.make.render import ROOT
from tools.registry.backends import BACKENDS, NAMES


def _load(reports: Path, stem: str) -> dict | None:
    path = reports / f"{stem}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def bench_rows(data: dict) -> list[list[str]]:
    """Each backend's kernels, ns per element (the default builds: the family is the backend's name)."""
    found: dict[str, dict[str, float]] = {}
    for r in data["results"]:
        if r["family"] in BACKENDS and r["times"]:
            found.setdefault(r["family"], {})[r["name"].partition(" ")[2]] = (
                statistics.median(r["times"]) / r["size"] * 1e9
            )
    kernels = sorted({k for per in found.values() for k in per})
    return [[f"{k} (ns/element)", *(f"{found.get(b, {}).get(k, float('nan')):.3f}" for b in NAMES)] for k in kernels]


def compare_rows(data: dict) -> list[list[str]]:
    b = data["backends"]
    rows = [[f"{mode} (s)", *(f"{b[k]['median_s'][mode]:.1f}" for k in NAMES)] for mode in data["modes"]]
    rows.append(["wheel size (kB)", *(f"{b[k]['wheel_bytes'] / 1000:.1f}" for k in NAMES)])
    rows.append(["config lines", *(str(sum(b[k]["config_lines"].values())) for k in NAMES)])
    return rows


def scale_rows(data: dict) -> list[list[str]]:
    rows = []
    for kind, title in (("wheel", "wheel build"), ("edit", ".pyx edit to import"), ("edit pxd", ".pxd edit to import")):
        series = data["data"].get(kind, {})
        for n in data["modules"]:
            rows.append(
                [f"{title}, {n} modules (s)", *(f"{series.get(b, {}).get(str(n), float('nan')):.1f}" for b in NAMES)]
            )
    return rows


def reproducible_rows(data: dict) -> list[list[str]]:
    def cell(backend: str, kind: str) -> str:
        files = [f for f in data["backends"].get(backend, []) if f["file"].endswith(kind)]
        return "-" if not files else ("yes" if all(f["identical"] for f in files) else "no")

    return [
        [f"reproducible {name}", *(cell(b, suffix) for b in NAMES)]
        for name, suffix in (("wheel", ".whl"), ("sdist", ".tar.gz"))
    ]


def coverage_rows(data: dict) -> list[list[str]]:
    per = data["backends"]
    files = sorted({f for r in per.values() for f in r["files"]})
    return [
        [f"{f} line coverage (%)", *(f"{per[b]['files'][f]['percent']:.1f}" if b in per else "-" for b in NAMES)]
        for f in files
    ]


def ccache_rows(data: dict) -> list[list[str]]:
    def cell(backend: str, kind: str) -> str:
        r = data["results"].get(backend, {}).get(kind)
        if not r:
            return "-"
        warm = r["warm"][-1]
        hits, total = warm["direct"] + warm["preprocessed"], warm["direct"] + warm["preprocessed"] + warm["miss"]
        return f"{statistics.median(r['warm_s']):.1f} ({hits}/{total} hits)"

    return [[f"{kind}, warm ccache (s)", *(cell(b, kind) for b in NAMES)] for kind in ("wheel", "editable")]


SECTIONS = {
    "bench": bench_rows,
    "compare": compare_rows,
    "scale": scale_rows,
    "reproducible": reproducible_rows,
    "coverage": coverage_rows,
    "ccache": ccache_rows,
}


# Said above the table when a report joined is a smoke run (`nox`, the main job, makes bench's and compare's so).
SMOKE = (
    "**Smoke runs: {}.** Every step ran and every answer was checked, but one repetition (or a few short rounds)\n"
    "has no spread: these figures show what each instrument writes, not a ranking. The full runs: `nox -s bench\n"
    "compare summary`."
)


def summary(reports: Path) -> str:
    header = ["", *(f"{b} ({BACKENDS[b].title})" for b in NAMES)]
    rows, sources, missing, smokes = [header], [], [], []
    for stem, make_rows in SECTIONS.items():
        data = _load(reports, stem)
        if data is None:
            missing.append(stem)
            continue
        rows += [[f"{row[0]} [{stem}]", *row[1:]] for row in make_rows(data)]
        smoke = ", **a smoke run**" if data.get("smoke") else ""
        sources.append(f"- [{stem}]: `{data.get('command', '-')}`, {data.get('date', 'no date recorded')}{smoke}")
        smokes += [stem] if data.get("smoke") else []
    lines = ["# Summary", ""]
    if smokes:
        lines += [SMOKE.format(", ".join(smokes)), ""]
    lines += [md_table(rows, "l" + "r" * len(NAMES)), "", "Sources:", *sources]
    if missing:
        lines += ["", f"Not measured here (no reports/<name>.json): {', '.join(missing)}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nox -s summary --", description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=Path, default=ROOT / "reports", help="where the instruments wrote")
    args = parser.parse_args(argv)
    text = summary(args.reports)
    args.reports.mkdir(parents=True, exist_ok=True)
    (args.reports / "summary.md").write_text(text, encoding="utf-8")
    print(text)
    print(f"wrote {args.reports / 'summary.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
