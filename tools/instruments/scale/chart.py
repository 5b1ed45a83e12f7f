"""scale's charts: seconds against N per kind (scale.png), and each backend's build phases at each N (scale-phases.png)."""

from __future__ import annotations

from pathlib import Path

from tools.instruments.scale.report import PHASE_ORDER
from tools.registry.backends import BACKENDS, NAMES

PANELS = [
    ("wheel", "clean wheel build (uv, isolated)"),
    ("edit", "edit one .pyx → import sees it"),
    ("edit pxd", "edit the .pxd → every module sees it"),
    ("import", "import, nothing changed"),
]
PHASE_COLORS = dict(zip(PHASE_ORDER, ["#c7c7c7", "#8172b3", "#dd8452", "#4c72b0", "#55a868", "#937860"], strict=True))


def _pyplot():
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    return mpl, plt


def chart(report: dict, path: Path) -> None:
    """Log-log charts of seconds against N, one line per backend, the repetitions' range as error bars."""
    mpl, plt = _pyplot()
    times = report["data"]["times"]
    fig, axes = plt.subplots(1, len(PANELS), figsize=(17, 4.2))
    for ax, (kind, title) in zip(axes, PANELS, strict=True):
        # The one-job builds are not drawn; each backend's shared build is, dashed, in its colour, and its old
        # template (--old-templates), dotted.
        drawn = [(b, b, "o-") for b in NAMES] + [(f"{b}_shared", b, "s--") for b in NAMES]
        drawn += [(f"{b}_old", b, "x:") for b in NAMES]
        for name, backend, style in [d for d in drawn if d[0] in times.get(kind, {})]:
            series = times[kind][name]
            ns = sorted(series)
            med = [sorted(series[n])[len(series[n]) // 2] for n in ns]
            err = [
                [m - min(series[n]) for m, n in zip(med, ns, strict=True)],
                [max(series[n]) - m for m, n in zip(med, ns, strict=True)],
            ]
            ax.errorbar(ns, med, yerr=err, fmt=style, capsize=3, label=name, color=BACKENDS[backend].color)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ticks = report["options"]["modules"]
        ax.set_xticks(ticks, [str(n) for n in ticks])
        ax.xaxis.set_minor_locator(mpl.ticker.NullLocator())
        for axis in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
            axis(mpl.ticker.FuncFormatter(lambda y, _: f"{y:g}"))
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("compiled modules N (log)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("seconds, median and range (log; lower is better)")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Time against the number of modules, {report['machine']['cores']} cores: lower is better")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def phases_chart(report: dict, path: Path) -> bool:
    """Stacked bars per backend: each N's median wall seconds per phase of the clean build. False: no phase data."""
    builds = report["data"].get("builds", {})
    each = [label for b in NAMES for label in (b, f"{b}_old")]  # an old template beside the template as it is
    labels = [label for label in each if any(r.get("phases") for reps in builds.get(label, {}).values() for r in reps)]
    if not labels:
        return False
    _, plt = _pyplot()
    fig, axes = plt.subplots(1, len(labels), figsize=(5.5 * len(labels), 4.2), sharey=True, squeeze=False)
    for ax, label in zip(axes[0], labels, strict=True):
        per_n = builds[label]
        ns = sorted(per_n)
        bottom = [0.0] * len(ns)
        for phase in PHASE_ORDER:
            heights = []
            for n in ns:
                values = sorted(r["phases"]["wall"].get(phase, 0.0) for r in per_n[n] if r.get("phases"))
                heights.append(values[len(values) // 2] if values else 0.0)
            if any(heights):
                x = [str(n) for n in ns]
                ax.bar(x, heights, bottom=bottom, label=phase, color=PHASE_COLORS[phase])
                bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        ax.set_title(f"{label}: clean wheel build by phase", fontsize=10)
        ax.set_xlabel("compiled modules N")
        ax.grid(True, axis="y", alpha=0.3)
    axes[0][0].set_ylabel("wall seconds, median (lower is better)")
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True
