"""bench's figures and Markdown: medians per element, speedups, efficiency, the ratios to the C reference."""

from __future__ import annotations

import statistics

from tools.inspect.host import best_level, describe
from tools.instruments.bench.impls import REFERENCE_FLAGS
from tools.registry.variants import VARIANTS


def summarize(data: dict) -> list[dict]:
    """Median, ns/element, speedup over the twin's serial loop, parallel efficiency."""
    rows = []
    for r in data["results"]:
        if not r["times"]:
            rows.append({**r, "median_s": None, "ns": None, "speedup": None, "efficiency": None})
            continue
        median = statistics.median(r["times"])
        rows.append({**r, "median_s": median, "ns": median / r["size"] * 1e9})
    ns = {(r["family"], r["kernel"], r["workers"]): r["ns"] for r in rows}
    base = ns.get(("twin", "serial", 1))
    for r in rows:
        if r["ns"] is None:
            continue
        r["speedup"] = base / r["ns"] if base else None
        serial = ns.get((r["family"], "serial", 1))
        r["efficiency"] = serial / r["ns"] / r["workers"] if serial and r["workers"] > 1 else None
    return rows


def reference_ratios(rows: list[dict]) -> str:
    """Each build's do_math_parallel at the most workers, as a multiple of each C reference's time, same run."""
    ns = {(r["family"], r["kernel"], r["workers"]): r["ns"] for r in rows if r["ns"] is not None}
    workers = max((r["workers"] for r in rows), default=1)
    lines = []
    for label in REFERENCE_FLAGS:
        ref = ns.get((f"C {label}", "parallel", workers))
        if ref is None:
            continue
        ratios = [
            f"{v.label} {ns[(v.label, 'parallel', workers)] / ref:.2f}"
            for v in VARIANTS
            if (v.label, "parallel", workers) in ns
        ]
        name = f"C {label}" if label != "native" else f"C native ({best_level()}, the best this CPU runs)"
        lines.append(f"- time of do_math_parallel x{workers} / {name} x{workers}: {', '.join(ratios)}")
    return "\n".join(lines) or "- no C reference was timed"


def skipped_the_work(r: dict) -> bool:
    """A row whose machine code takes no square root: the compiler (or the code) replaced sqrt(x*x) by |x|."""
    return r.get("square_roots", "").startswith("none")


def table(rows: list[dict]) -> str:
    def fmt(x, spec):
        return "-" if x is None else format(x, spec)

    lines = [
        "| implementation | n | median s | ns/element | vs twin | efficiency | answer | square roots in its machine code |",
        "|---|--:|--:|--:|--:|--:|---|---|",
    ]
    for r in rows:
        name = f"{r['name']} †" if skipped_the_work(r) else r["name"]
        lines.append(
            f"| {name} | {r['size']:,} | {fmt(r['median_s'], '.3f')} | {fmt(r['ns'], '.3f')} | "
            f"{fmt(r['speedup'], ',.0f')}x | {fmt(r['efficiency'], '.0%')} | {r['answer']} | {r.get('square_roots', '-')} |"
        )
    return "\n".join(lines)


def _openmp_env_line(data: dict) -> str:
    setting = data["method"].get("openmp_env")
    return (
        f"gcc's and clang's builds shared this process: {setting}, so that idle libomp workers sleep.\n"
        if setting
        else ""
    )


# What a --quick report says first: its answers are checked, its times are not figures.
SMOKE = (
    "**Smoke run** (`--quick`): every implementation ran and its answer was checked, but two rounds of calls this\n"
    "short measure noise as much as speed: compare nothing by them. The full run is `nox -s bench`.\n\n"
)


def markdown(data: dict, rows: list[dict]) -> str:
    m = data["machine"]
    builds = "\n".join(
        f"- {b}: kernel {i.get('kernel', '-')}, OpenMP {i['openmp']} ({i['openmp_threads']} threads), Cython {i['cython']}, "
        f"compiler {i['compiler']}, flags {', '.join(k for k, v in i['flags'].items() if v) or 'none'}"
        for b, i in data["builds"].items()
    )
    peers = ", ".join(f"{name} {version}" for name, version in data.get("peer_versions", {}).items())
    smoke = SMOKE if data.get("smoke") else ""
    return f"""# Bench

{data["date"]} · `{data["command"]}` · {describe(m)} · Python {m["python"]} · {m["platform"]}
· load average before {m["load_average"]}, after {m["load_average_after"]}

{smoke}Median of {data["method"]["rounds"]} interleaved rounds (shuffled order each round); each call sized to about
{data["method"]["target_s"]} s. "vs twin": speedup over the pure-Python loop, per element. "efficiency": speedup over
the same family's serial kernel, divided by the number of workers. Every answer was checked against the closed-form
total before timing: "exact" equal to it (totals below 2⁵³), "bounded" within n·2⁻⁵³ of it (totals above).
{_openmp_env_line(data)}

{table(rows)}

† No square root in its machine code: sqrt(x·x) became |x|, which is exact for these terms, so the answer is
right and the work was skipped; the lecture's "5,596 times faster" was the same move with a wrong answer. Square
roots are read from the machine code: objdump of each build's `_kernels` and of the C reference, Numba's
`inspect_asm()`; NumPy's from the code written (np.sqrt, np.abs).

Against the C reference (tools/instruments/bench/reference.c: the loop of `sum_sqrt.c`, compiled for each level; 1.00 is
its speed), on {m["cpu"]} ({m.get("instruction_sets", "-")}):
{reference_ratios(rows)}

Builds:
{builds}

Peers: {peers or "not run"}.
"""


def order_key(r: dict) -> tuple:
    kernels = ["serial", "threads", "parallel", "vectorized"]
    families = [
        *(v.label for v in VARIANTS),
        *(f"C {label}" for label in reversed(REFERENCE_FLAGS)),
        "numba",
        "numba fastmath",
        "numpy",
        "numpy abs",
        "twin",
    ]
    family = families.index(r["family"]) if r["family"] in families else len(families)
    return (kernels.index(r["kernel"]), r["workers"], family, r["family"])
