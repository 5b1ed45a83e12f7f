"""Numbers derived from the measured times: fitted lines, predictions and how far to trust them, efficiency, phases.

Every fit is least squares over every repetition (not the medians), so that
its residuals show this machine's noise; a prediction beyond the largest N
measured is a model, and says so with three checks: the fit's own band, the
slope of the last segment alone, and how far beyond the data it reaches.
"""

from __future__ import annotations

import math
import statistics
from itertools import pairwise

from tools.instruments.measure import spread, tie

Series = dict[int, list[float]]  # N -> the repetitions' values


def medians(series: Series) -> dict[int, float]:
    return {n: statistics.median(v) for n, v in sorted(series.items()) if v}


def per_module(series: dict[int, float]) -> dict[int, float]:
    """Marginal seconds per module: (t(N) - t(N0)) / (N - N0), N0 the smallest N measured."""
    n0 = min(series)
    return {n: (t - series[n0]) / (n - n0) for n, t in series.items() if n != n0}


def fit_line(series: Series) -> dict | None:
    """t = a + b·N by least squares over every repetition; with the residuals' spread and b's standard error."""
    xs = [n for n, values in sorted(series.items()) for _ in values]
    ys = [v for _, values in sorted(series.items()) for v in values]
    if len(set(xs)) < 2:
        return None
    b, a = statistics.linear_regression(xs, ys)
    mean_x = statistics.fmean(xs)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    dof = len(xs) - 2
    s = math.sqrt(sum((y - a - b * x) ** 2 for x, y in zip(xs, ys, strict=True)) / dof) if dof > 0 else None
    return {
        "a": a,
        "b": b,
        "b_se": s / math.sqrt(sxx) if s is not None else None,
        "resid_sd": s,
        "points": len(xs),
        "n": sorted(set(xs)),
        "mean_n": mean_x,
        "sxx": sxx,
    }


def segments(series: Series) -> list[dict]:
    """The slope between each pair of consecutive N, from the medians: a curve shows as slopes that drift."""
    med = medians(series)
    return [{"from": lo, "to": hi, "b": (med[hi] - med[lo]) / (hi - lo)} for lo, hi in pairwise(med)]


def predict(series: Series, n_new: int) -> dict | None:
    """t(n_new) from the fit, with a low-high range and a sentence on how far to trust it.

    The range holds the fit's 95 % prediction band (about 2 residual
    standard deviations, widened by the distance from the data) and the
    prediction from the last segment's slope alone: if the cost per module
    still changes between the two largest N, the line cannot be trusted to
    stay straight to n_new, and the range shows by how much that matters.
    """
    fit = fit_line(series)
    if fit is None:
        return None
    value = fit["a"] + fit["b"] * n_new
    band = None
    if fit["resid_sd"] is not None:
        band = 2 * fit["resid_sd"] * math.sqrt(1 + 1 / fit["points"] + (n_new - fit["mean_n"]) ** 2 / fit["sxx"])
    segs, med = segments(series), medians(series)
    top = max(med)
    from_last = med[top] + segs[-1]["b"] * (n_new - top)
    candidates = [value, from_last, *((value - band, value + band) if band is not None else ())]
    low, high = min(candidates), max(candidates)
    return {
        "n": n_new,
        "value": value,
        "band": band,
        "from_last_segment": from_last,
        "low": low,
        "high": high,
        "beyond": n_new / top,
        "trust": trust(value, low, high, n_new / top, segs, band),
    }


def trust(value: float, low: float, high: float, beyond: float, segs: list[dict], band: float | None = None) -> str:
    """A plain verdict: the range against the value, then capped by what the data cannot show.

    Two N give no check of the line's shape, so at best "rough"; far beyond
    the largest N measured (over 10 times) the fit's own band means little,
    so it is called a guess whatever the band says.
    """
    if value <= 0:
        return f"none: the line is below zero there ({beyond:.1f} times the largest N measured)"
    if band is None:
        return f"untested: nothing to judge the fit by (one repetition, or two N); {beyond:.1f} times the largest N"
    width = max(value - low, high - value) / value
    rank = 0 if width <= 0.15 else 1 if width <= 0.4 else 2
    drift = ""
    if len(segs) >= 2 and segs[-2]["b"] > 0:
        change = segs[-1]["b"] / segs[-2]["b"] - 1
        drift = f"; the cost per module changed by {change:+.0%} between the last two segments"
    elif len(segs) < 2:
        drift = "; two N only: no check of the line's shape"
        rank = max(rank, 1)
    where = f"{beyond:.1f} times the largest N measured{drift}"
    if beyond > 10:
        return f"a guess: {where} (the fit alone says ±{width:.0%})"
    level = ("good to", "rough, within", "order of magnitude only:")[rank]
    return f"{level} ±{width:.0%} ({where})"


def predict_peak(series: Series, n_new: int) -> dict | None:
    """Peak memory at n_new: it follows the jobs at once, not N, so once flat it stays at the last level.

    Flat: the last two N's ranges overlap or their medians are within 5 %;
    then the prediction is the largest N's median and range. Otherwise the
    line, as for the times.
    """
    med = medians(series)
    if len(med) < 2:
        return None
    ns = sorted(med)

    def flat(a: int, b: int) -> bool:
        return tie(series[a], series[b]) is True or abs(med[b] - med[a]) <= 0.05 * med[a]

    if not flat(ns[-2], ns[-1]):
        return predict(series, n_new)
    since = ns[-2]
    for a, b in zip(reversed(ns[:-2]), reversed(ns[1:-1]), strict=True):
        if not flat(a, b):
            break
        since = a
    top = ns[-1]
    return {
        "n": n_new,
        "value": med[top],
        "band": None,
        "from_last_segment": med[top],
        "low": min(series[top]),
        "high": max(series[top]),
        "beyond": n_new / top,
        "trust": f"flat from N={since} on: bounded by the jobs at once, not by N",
    }


def efficiency(wheel: dict[str, Series], pairs: dict[str, str], cores: int) -> list[dict]:
    """Each parallel build against the same with one job, at each N both were built: speedup / cores, with ranges.

    whole build: t_one(N) / (cores · t_parallel(N)), its range from the
    repetitions' extremes; a tie when the two builds' ranges overlap
    (the parallel build not shown faster). marginal: the one-job build's cost
    per module over the parallel one's, between the smallest and largest N
    both have, divided by the cores.
    """
    rows = []
    for par_label, one_label in pairs.items():
        par, one = wheel.get(par_label, {}), wheel.get(one_label, {})
        common = sorted(set(par) & set(one))
        for n in common:
            p, o = par[n], one[n]
            rows.append(
                {
                    "variant": par_label,
                    "serial": one_label,
                    "n": n,
                    "parallel": spread(p),
                    "one_job": spread(o),
                    "whole_build": statistics.median(o) / (cores * statistics.median(p)),
                    "whole_build_range": [min(o) / (cores * max(p)), max(o) / (cores * min(p))],
                    "tie": tie(p, o),
                }
            )
        if len(common) >= 2:
            lo, hi = common[0], common[-1]
            b_par = (statistics.median(par[hi]) - statistics.median(par[lo])) / (hi - lo)
            b_one = (statistics.median(one[hi]) - statistics.median(one[lo])) / (hi - lo)
            rows.append(
                {
                    "variant": par_label,
                    "serial": one_label,
                    "n": [lo, hi],
                    "per_module_parallel_s": b_par,
                    "per_module_one_job_s": b_one,
                    "marginal": b_one / (cores * b_par) if b_par > 0 else None,
                }
            )
    return rows


def ordering(series: dict[str, Series], names: list[str], n: int) -> str:
    """The names fastest first at N, "<" between two whose ranges are apart, "≈" between two that tie."""
    ranked = sorted(names, key=lambda name: statistics.median(series[name][n]))
    groups = [[ranked[0]]]
    for a, b in pairwise(ranked):
        if tie(series[a][n], series[b][n]) is True:
            groups[-1].append(b)
        else:
            groups.append([b])
    # Within a tie the names go alphabetically: swapping two tied names is no change of order.
    return " < ".join(" \u2248 ".join(sorted(g)) for g in groups)


def ranking_changes(series: dict[str, Series], names: list[str]) -> list[dict]:
    """Each pair of consecutive N between which the order of `names` changes, ties kept as ties."""
    present = [name for name in names if name in series]
    counts = sorted(set.intersection(*(set(series[n]) for n in present))) if present else []
    order = {n: ordering(series, present, n) for n in counts}
    return [
        {"from": a, "to": b, "before": order[a], "after": order[b]} for a, b in pairwise(counts) if order[a] != order[b]
    ]


def crossings(series: dict[str, Series], names: list[str]) -> list[dict]:
    """Where the fitted lines of two variants cross (N >= 1): a model, not a measurement."""
    lines = {n: f for n in names if n in series and (f := fit_line(series[n])) is not None}
    present, out = list(lines), []
    for i, a in enumerate(present):
        for b in present[i + 1 :]:
            (a0, a1), (b0, b1) = (lines[a]["a"], lines[a]["b"]), (lines[b]["a"], lines[b]["b"])
            if a1 != b1 and (n := (b0 - a0) / (a1 - b1)) >= 1:
                out.append({"a": a, "b": b, "n": n})
    return out


def model(wheel: dict[str, Series], pairs: dict[str, str], cores: int, n_values: list[int], core_values: list[int]):
    """time(N, c) = fixed + N x per-module / min(c, N), per-module from the one-job build; a model only."""
    rows = []
    for par_label, one_label in pairs.items():
        one, par = medians(wheel.get(one_label, {})), medians(wheel.get(par_label, {}))
        if len(one) < 2 or not par:
            continue
        lo, hi = min(one), max(one)
        m = (one[hi] - one[lo]) / (hi - lo)
        if lo not in par:
            continue
        fixed = par[lo] - m * lo / min(cores, lo)
        rows.append(
            {
                "variant": par_label,
                "fixed_s": fixed,
                "per_module_s": m,
                "measured_here": {n: par.get(n) for n in n_values},
                "predicted": {c: {n: fixed + m * n / min(c, n) for n in n_values} for c in core_values},
            }
        )
    return rows


def phase_series(builds: dict[int, list[dict]], measure: str) -> dict[str, Series]:
    """phase -> N -> the repetitions' seconds of that phase (`measure`: "wall" or "work")."""
    out: dict[str, Series] = {}
    for n, reps in sorted(builds.items()):
        for rep in reps:
            for phase, seconds in ((rep.get("phases") or {}).get(measure) or {}).items():
                out.setdefault(phase, {}).setdefault(n, []).append(seconds)
    return out


def build_summary(builds: dict[str, dict[int, list[dict]]], n_new: int) -> dict:
    """Per build label: each phase's fit (wall, work), jobs_max, peak memory and build folder per N, predictions."""
    out = {}
    for label, per_n in builds.items():
        row: dict = {"phase_fits": {}, "jobs_max": {}, "peak_bytes": {}, "disk_bytes": {}, "predict": {}}
        for measure in ("wall", "work"):
            row["phase_fits"][measure] = {p: fit_line(s) for p, s in phase_series(per_n, measure).items()}
        for n, reps in sorted(per_n.items()):
            jobs = [
                r["phases"]["jobs_max"] for r in reps if r.get("phases") and r["phases"].get("jobs_max") is not None
            ]
            row["jobs_max"][n] = max(jobs) if jobs else None
            for k in ("peak_bytes", "disk_bytes"):
                values = [r[k] for r in reps if r.get(k) is not None]
                row[k][n] = spread(values)
        for k in ("peak_bytes", "disk_bytes"):
            series = {n: [r[k] for r in reps if r.get(k) is not None] for n, reps in per_n.items()}
            measured = {n: v for n, v in series.items() if v}
            row["predict"][k] = (predict_peak if k == "peak_bytes" else predict)(measured, n_new)
        out[label] = row
    return out


def analyse(data: dict, pairs: dict[str, str], backends: list[str], cores: int, n_new: int) -> dict:
    """Everything the report derives: fits and predictions per kind, efficiency, phases, rankings, crossings, model."""
    times = data["times"]
    wheel = times.get("wheel", {})
    counts = sorted({n for s in wheel.values() for n in s})
    return {
        "fits": {kind: {name: fit_line(s) for name, s in per.items()} for kind, per in times.items()},
        "segments": {kind: {name: segments(s) for name, s in per.items()} for kind, per in times.items()},
        "predict": {
            kind: {name: predict(s, n_new) for name, s in per.items()}
            for kind, per in times.items()
            if kind in ("wheel", "edit", "edit pxd")
        },
        "efficiency": efficiency(wheel, pairs, cores),
        "builds": build_summary(data.get("builds", {}), n_new),
        "ranking_changes": {
            kind: ranking_changes(times.get(kind, {}), backends) for kind in ("wheel", "edit", "edit pxd", "import")
        },
        "crossings": {kind: crossings(times.get(kind, {}), backends) for kind in ("wheel", "edit", "edit pxd")},
        "model": model(wheel, pairs, cores, sorted({counts[-1], n_new}) if counts else [], sorted({cores, 8, 32})),
    }
