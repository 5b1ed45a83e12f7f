"""The README's build figures, rendered from one dated report, never copied by hand.

The README's choice table rests on build times; the figures under it are
this module's rendering of one report folder's scale.json (docs/report-<date>/),
between two marker lines that name the folder. `--write` puts the rendering
into README.md; tools/tests/test_readme.py fails when README.md differs from
what the folder it names renders to.

    python -m tools.instruments.choice docs/report-2026-12-05 --write
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from tools.instruments.measure import DASH, mark_best, md_table
from tools.registry.backends import BACKENDS, NAMES

ROOT = Path(__file__).resolve().parents[2]
BEGIN = "<!-- figures from {folder}: python -m tools.instruments.choice {folder} --write -->"
END = "<!-- end of figures -->"
BLOCK = re.compile(r"<!-- figures from (\S+): .*? -->\n.*?<!-- end of figures -->", re.DOTALL)


def _series(scale: dict, kind: str, name: str, n: int) -> list[float]:
    return scale["data"]["times"].get(kind, {}).get(name, {}).get(str(n), [])


def _fit(fit: dict | None, spec: str = ".2f") -> str:
    """b ± 2 standard errors: the slope's own band over every repetition."""
    if not fit:
        return "n/a"
    se = f" ± {2 * fit['b_se']:{spec}}" if fit.get("b_se") is not None else ""
    return f"{fit['b']:{spec}}{se}"


def _mb(values: list[float]) -> list[float]:
    return [v / 2**20 for v in values]


def rows(scale: dict) -> list[list[str]]:
    """One row per figure, one column per backend."""
    derived, options = scale["derived"], scale["options"]
    small, top, edit = min(options["modules"]), max(options["modules"]), max(options["edit_modules"])
    builds = scale["data"].get("builds", {})

    def timed(kind: str, n: int, label: str, spec: str = ".1f") -> list[str]:
        return [label, *mark_best([_series(scale, kind, b, n) for b in NAMES], spec)]

    def resource(key: str, label: str) -> list[str]:
        values = [_mb([r[key] for r in builds.get(b, {}).get(str(top), []) if r.get(key)]) for b in NAMES]
        return [label, *mark_best(values, ".0f")]

    def sizes(key: str, label: str) -> list[str]:
        """At the largest N: the per-module build's figure → the shared build's, kB (one figure: a wheel's size barely varies)."""
        cells = []
        for b in NAMES:
            kb = [
                [r[key] / 1e3 for r in builds.get(name, {}).get(str(top), []) if r.get(key)]
                for name in (b, f"{b}_shared")
            ]
            cells.append(" → ".join(f"{sorted(v)[len(v) // 2]:.0f}" for v in kb) if all(kb) else "n/a")
        return [label, *cells]

    shared = []
    if any(f"{b}_shared" in builds for b in NAMES):  # reports before the shared-utility column have none
        shared = [
            [
                f"clean wheel, {top} modules, shared utility module, s",
                *mark_best([_series(scale, "wheel", f"{b}_shared", top) for b in NAMES], ".1f"),
            ],
            sizes("wheel_bytes", f"wheel, {top} modules, kB: per module → shared"),
        ]
    predicted = []
    for b in NAMES:
        p = derived["predict"]["wheel"].get(b)
        predicted.append(f"{p['value']:.0f} ({p['low']:.0f}{DASH}{p['high']:.0f})" if p else "n/a")
    return [
        ["", *(BACKENDS[b].title for b in NAMES)],
        timed("wheel", small, f"clean wheel, {small} modules, s"),
        timed("wheel", top, f"clean wheel, {top} modules, s"),
        *shared,
        ["each module more, s (fit ± 2 se)", *(_fit(derived["fits"]["wheel"].get(b)) for b in NAMES)],
        [f"{options['predict']} modules, s (model: fit's range)", *predicted],
        timed("edit", edit, f"edit one `.pyx`, to the next import, {edit} modules, s"),
        timed("edit pxd", edit, f"edit the `.pxd`, to the next import, {edit} modules, s"),
        timed("import", edit, f"import, nothing changed, {edit} modules, s", ".2f"),
        resource("peak_bytes", f"peak memory of the build, {top} modules, MB"),
        resource("disk_bytes", f"build folder, {top} modules, MB"),
    ]


def render(folder: Path) -> str:
    """The block that README.md holds between the markers, from `folder`'s scale.json."""
    scale = json.loads((ROOT / folder / "scale.json").read_text(encoding="utf-8"))
    m = scale["machine"]
    text = md_table(rows(scale), "l" + "r" * len(NAMES))
    note = (
        f"Measured {scale['date'][:10]} on {m['cpu']}, {m['cores']} cores (`{scale['command']}`, "
        f"[report]({folder.as_posix()}/scale.md)): median ({DASH}: min{DASH}max) of {scale['reps']} interleaved "
        "repetitions. **Bold**: clear of the runner-up's range; tie: the ranges overlap, no order."
    )
    return "\n".join([BEGIN.format(folder=folder.as_posix()), text, "", note, END])


def current(readme: str) -> tuple[Path, str]:
    """The report folder that README.md names, and the block it holds."""
    match = BLOCK.search(readme)
    if match is None:
        msg = f"README.md has no figures block ({END!r} and its opening marker)"
        raise ValueError(msg)
    return Path(match.group(1)), match.group(0)


# A figure in the choice section's prose: a number with its unit (3.8 s, 2332 kB).
FIGURE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?) ?(?:s|kB|MB)\b")
# A cell's figure in the block: its first number, the median (bold or not).
MEDIAN = re.compile(r"^\s*\**(\d+(?:\.\d+)?)")
NEAR = 40  # characters either side of a figure in which it names its backend


def stray_figures(readme: str) -> list[str]:
    """Figures in the choice section (heading to quickstart) that are not a median of their backend's column.

    A figure names its backend within a few words ("3.8 s with setuptools",
    "setuptools 54.1 s"); it must be a median that the figures block renders
    for that backend from the dated report. One copied by hand, left from an
    older report, or naming no backend is stray.
    """
    start, end = readme.index("## Which backend should I choose?"), readme.index("## Quickstart")
    _, block = current(readme)
    prose = readme[start:end].replace(block, "")
    titles = [BACKENDS[b].title for b in NAMES]
    medians: dict[str, set[str]] = {title: set() for title in titles}
    for row in block.splitlines():
        cells = row.split("|")[2:-1]
        if row.startswith("|") and len(cells) == len(titles):
            for title, cell in zip(titles, cells, strict=True):
                if m := MEDIAN.match(cell):
                    medians[title].add(m.group(1))
    stray = []
    for m in FIGURE.finditer(prose):
        before, after = prose[max(0, m.start() - NEAR) : m.start()], prose[m.end() : m.end() + NEAR]
        named = [(len(before) - before.rfind(t), t) for t in titles if t in before]
        named += [(after.find(t), t) for t in titles if t in after]
        title = min(named)[1] if named else None
        if title is None or m.group(1) not in medians[title]:
            stray.append(m.group(0))
    return stray


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.instruments.choice", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="a dated report folder holding scale.json, relative to the repo")
    parser.add_argument("--write", action="store_true", help="replace the figures block in README.md")
    args = parser.parse_args(argv)
    block = render(args.folder)
    if not args.write:
        print(block)
        return 0
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    if BLOCK.search(text) is None:
        sys.exit("README.md has no figures block: add the two marker lines where the figures go")
    readme.write_text(BLOCK.sub(lambda _: block, text, count=1), encoding="utf-8")
    print(f"README.md: figures from {args.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
