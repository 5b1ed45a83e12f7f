"""bench's chart: ns per element of every implementation timed, grouped by kernel, log scale."""

from __future__ import annotations

from pathlib import Path

from tools.instruments.bench.report import skipped_the_work
from tools.registry.variants import VARIANTS

# One colour per backend; its clang build has the same colour, hatched.
VARIANT_COLORS = {v.label: v.spec.color for v in VARIANTS}


def chart(rows: list[dict], path: Path) -> None:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    timed_rows = [r for r in rows if r["ns"] is not None]
    colors = {**VARIANT_COLORS, "C native": "#c44e52"}
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(timed_rows) + 2))
    ticks, labels, y, group = [], [], 0.0, None
    for r in timed_rows:
        if group is not None and (r["kernel"], r["workers"]) != group:
            y += 0.6  # a gap between kernels
        group = (r["kernel"], r["workers"])
        # clang's builds: the colour of their backend, hatched.
        hatch = "//" if r["family"].endswith("_clang") else None
        ax.barh(y, r["ns"], color=colors.get(r["family"], "#8c8c8c"), hatch=hatch, edgecolor="white")
        ax.text(r["ns"] * 1.05, y, f"{r['ns']:.2f}", va="center", fontsize=8)
        ticks.append(y)
        labels.append(f"{r['name']} † (no sqrt)" if skipped_the_work(r) else r["name"])
        y += 1
    shown = [f for f in colors if any(r["family"] == f for r in timed_rows)]
    handles = [
        plt.Rectangle(
            (0, 0), 1, 1, facecolor=colors[f], hatch="//" if f.endswith("_clang") else None, edgecolor="white"
        )
        for f in shown
    ]
    handles.append(plt.Rectangle((0, 0), 1, 1, color="#8c8c8c"))
    ax.legend(handles, [*shown, "peers, twin, C portable"], loc="lower right", fontsize=8)
    ax.set_yticks(ticks, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("ns per element (log scale, lower is faster)")
    ax.set_title("Sum of sqrt((pos - 1e6)²): every build, the twin, NumPy and Numba († skipped the square roots)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
