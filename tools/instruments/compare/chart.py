"""compare's chart: each timed mode's build time per backend, with the repetitions' range."""

from __future__ import annotations

from pathlib import Path

from tools.registry.backends import BACKENDS, NAMES


def chart(data: dict, path: Path) -> None:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    modes = [*data["modes"], *(m for s, m in data["flag_modes"].items() if s != "default")]
    modes += [data["shared_mode"]] if "shared_mode" in data else []
    fig, ax = plt.subplots(figsize=(1.5 * len(modes) + 3, 4.5))
    width = 0.8 / len(NAMES)
    for i, backend in enumerate(NAMES):
        rec = data["backends"][backend]
        spreads = [rec["spread_s"][m] for m in modes]
        values = [s["median"] for s in spreads]
        # The error bars span the repetitions' min-max: a bar inside another's range is a tie.
        errors = [[s["median"] - s["min"] for s in spreads], [s["max"] - s["median"] for s in spreads]]
        errors = errors if data["reps"] > 1 else None
        xs = [j + i * width for j in range(len(modes))]
        ax.bar(
            xs,
            values,
            width,
            yerr=errors,
            capsize=2,
            label=f"{backend} ({rec['backend']})",
            color=BACKENDS[backend].color,
        )
        for x, v in zip(xs, values, strict=True):
            ax.text(x, v, f"{v:.1f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks([j + width for j in range(len(modes))], [m.replace(", ", ",\n") for m in modes], fontsize=8)
    runs = "1 run, no spread" if data["reps"] < 2 else f"median and min-max of {data['reps']} runs"
    ax.set_ylabel(f"seconds ({runs}; lower is better)")
    ax.set_title("Build time per backend, clean builds")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
