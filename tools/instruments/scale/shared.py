"""What the shared utility module buys at each N: each backend's build against the same with `<pkg>._cyutility`.

Times compare as everywhere in scale: medians, called a tie when the two
ranges overlap. Sizes are one figure per build (a wheel is the same at every
repetition, to the byte, or nearly). The break-even N is the smallest N
measured from which the shared build is better at every larger N measured:
faster beyond the spread, or smaller.
"""

from __future__ import annotations

import statistics

from tools.instruments.measure import fmt_change, md_table, tie
from tools.instruments.scale.setups import PARALLEL, SHARED

KB = 1e3
TIMED = {
    "wheel": "clean wheel",
    "edit": "edit one .pyx",
    "edit pxd": "edit the .pxd",
    "import": "import, whole package",
}
SIZED = {"wheel_bytes": "wheel kB", "installed_bytes": "installed kB"}


def _sizes(builds: dict[int, list[dict]], key: str) -> dict[int, float]:
    return {n: statistics.median(v) for n, reps in builds.items() if (v := [r[key] for r in reps if r.get(key)])}


def break_even(better: dict[int, bool | None]) -> int | None:
    """The smallest N from which `better` holds at every larger N measured; None if it does not hold at the largest."""
    found = None
    for n in sorted(better, reverse=True):
        if not better[n]:
            break
        found = n
    return found


def gains(data: dict) -> dict:
    """Per backend: per N and kind, both series and the verdict; the break-even N of the clean build's time and size."""
    out = {}
    for module, shared in zip(PARALLEL, SHARED, strict=True):
        if not any(shared.label in per for per in data["times"].values()):  # --no-shared
            continue
        row: dict = {"shared": shared.label, "times": {}, "sizes": {}, "break_even": {}}
        for kind in TIMED:
            a, b = data["times"].get(kind, {}).get(module.label, {}), data["times"].get(kind, {}).get(shared.label, {})
            row["times"][kind] = {
                n: {"module": a[n], "shared": b[n], "tie": tie(a[n], b[n])} for n in sorted(set(a) & set(b))
            }
        builds = data.get("builds", {})
        for key in SIZED:
            a, b = _sizes(builds.get(module.label, {}), key), _sizes(builds.get(shared.label, {}), key)
            row["sizes"][key] = {n: {"module": a[n], "shared": b[n]} for n in sorted(set(a) & set(b))}
        wheel = row["times"]["wheel"]
        faster = {
            n: t["tie"] is False and statistics.median(t["shared"]) < statistics.median(t["module"])
            for n, t in wheel.items()
        }
        row["break_even"]["clean wheel"] = break_even(faster)
        for key, title in SIZED.items():
            row["break_even"][title] = break_even({n: s["shared"] < s["module"] for n, s in row["sizes"][key].items()})
        out[module.backend] = row
    return out


def _even(n: int | None, largest: int | None) -> str:
    return f"never, up to N = {largest}" if n is None else f"from N = {n}"


def section(report: dict) -> str:
    """The table per backend (rows: N; columns: each kind's change, module → shared, and the sizes), break-even lines."""
    found = report["derived"].get("shared")
    if not found:
        return "Not measured: this run has no shared builds."
    blocks = []
    for backend, row in found.items():
        counts = sorted(
            {n for per in row["times"].values() for n in per} | {n for s in row["sizes"].values() for n in s}
        )
        header = ["N", *(f"{t}, s" for t in TIMED.values()), *(f"{t}, per module → shared" for t in SIZED.values())]
        rows = [header]
        for n in counts:
            cells = [str(n)]
            for kind in TIMED:
                t = row["times"][kind].get(n)
                cells.append("-" if t is None else fmt_change(t["module"], t["shared"], "+.2f"))
            for key in SIZED:
                s = row["sizes"][key].get(n)
                cells.append("-" if s is None else f"{s['module'] / KB:.0f} → {s['shared'] / KB:.0f}")
            rows.append(cells)
        largest = counts[-1] if counts else None
        evens = "; ".join(f"{what}: {_even(n, largest)}" for what, n in row["break_even"].items())
        blocks.append(
            f"**{backend}** against **{row['shared']}** (break-even, better at every larger N measured: {evens})"
            f"\n\n{md_table(rows, 'r' * len(header))}"
        )
    return (
        "Each time: the change of the median from the per-module build to the shared one, a tie when their ranges "
        "overlap. Sizes: per module → shared, kB.\n\n" + "\n\n".join(blocks)
    )
