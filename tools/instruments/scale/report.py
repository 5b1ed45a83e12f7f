"""scale's Markdown: every time as median (min-max) of the repetitions, ties called ties, fits and predictions apart."""

from __future__ import annotations

import statistics

from tools.instruments.measure import DASH, NO_SPREAD, fmt_spread, mark_best, md_table, tie
from tools.instruments.scale import shared
from tools.instruments.scale.setups import OLD, ONE_JOB, PARALLEL, SHARED, OldTemplate
from tools.instruments.steps import module_graph
from tools.registry.backends import NAMES

MB = 1e6
PHASE_ORDER = ("setup", "configure", "cython", "compile", "link", "pack")
# Every build label a report can hold, in the order its sections list them: the templates, their old twins, ...
BUILDS = [*PARALLEL, *OLD, *SHARED, *ONE_JOB]
OLD_NEW = {"wheel": "clean wheel", "edit": "edit one .pyx", "edit pxd": "edit the .pxd", "import": "import"}


def fmt(x: float | None, spec: str = ".1f") -> str:
    return "-" if x is None else format(x, spec)


def graph_text(n: int) -> str:
    """The module graph at N modules, in words, with its counts."""
    graph = module_graph(n)
    first = sorted(m for m, s in graph.items() if s == "_kernels" and m.startswith("_core_"))
    second = sorted(m for m, s in graph.items() if s.startswith("_core_"))
    return (
        "Each package has N compiled modules on two levels around the core's `_kernels` (its loop, declared in "
        "`_kernels.pxd`): `_core` and the odd copies of `_core.pyx` (`_core_1`, `_core_3`, ...) cimport `_kernels` "
        "(the star); each odd copy also has a `.pxd` that declares a cdef function of its own (`level_sum`) and "
        "passes on what it cimports from `_kernels`, and the even copy after it (`_core_2` after `_core_1`, ...) "
        "cimports from that `.pxd` only, so `_core_2` -> `_core_1` -> `_kernels`. "
        f"At N = {n}: {len(first) + 1} modules cimport `_kernels` directly and {len(second)} through a first-level "
        "module; all are listed in the template's one module list."
    )


def series_rows(times: dict, names: list[str], counts: list[int], ranked: int, spec: str = ".2f") -> list[list[str]]:
    """One row per N: each name's median (min-max); among the first `ranked` names, the fastest in bold when clear."""
    rows = []
    for n in counts:
        columns = [times.get(name, {}).get(n, []) for name in names]
        cells = mark_best(columns[:ranked], spec) if ranked > 1 else []
        cells += [fmt_spread(c, spec) for c in columns[len(cells) :]]
        rows.append([str(n), *cells])
    return rows


def fit_rows(derived: dict, kind: str, names: list[str], n_new: int) -> list[list[str]]:
    """The fitted line's cost per module and fixed part, and the prediction at n_new with its range and trust."""
    fits, preds = derived["fits"].get(kind, {}), derived["predict"].get(kind, {})
    per, fixed, pred, verdict = ["s/module (fit b ± se)"], ["fixed s (fit a)"], [f"N={n_new}, predicted"], ["trust"]
    for name in names:
        f, p = fits.get(name), preds.get(name)
        per.append("-" if f is None else f"{f['b']:.2f}" + (f" ± {f['b_se']:.2f}" if f["b_se"] is not None else ""))
        fixed.append("-" if f is None else f"{f['a']:.1f}")
        pred.append("-" if p is None else f"{p['value']:.0f} ({p['low']:.0f}{DASH}{p['high']:.0f})")
        verdict.append("-" if p is None else p["trust"])
    return [per, fixed, pred, verdict]


def kind_section(report: dict, kind: str, names: list[str], counts: list[int], n_new: int) -> str:
    """Seconds per N, the backends ranked (the one-job builds, after them, are not), then the fits."""
    times = report["data"]["times"].get(kind, {})
    header = ["N", *names]
    rows = series_rows(times, names, counts, ranked=len(NAMES))
    if len(counts) >= 2:
        rows += [[" ", *([""] * len(names))], *fit_rows(report["derived"], kind, names, n_new)]
    return md_table([header, *rows], "r" * (len(names) + 1))


def phase_section(report: dict) -> str:
    """At the largest N: each phase's wall and work seconds per backend, and its cost per module from the fit."""
    builds, derived = report["data"].get("builds", {}), report["derived"]["builds"]
    blocks = []
    for label in [v.label for v in BUILDS]:
        per_n = builds.get(label, {})
        if not per_n:
            continue
        top = max(per_n)
        reps = [r for r in per_n[top] if r.get("phases")]
        if not reps:
            continue
        phases = [p for p in PHASE_ORDER if any(p in r["phases"]["wall"] for r in reps)]
        fits = derived.get(label, {}).get("phase_fits", {})
        rows = [["phase", f"wall s, N={top}", f"work s, N={top}", "wall s/module (fit)", "work s/module (fit)"]]
        for p in phases:
            wall = [r["phases"]["wall"].get(p, 0.0) for r in reps]
            work = [r["phases"]["work"].get(p, 0.0) for r in reps]
            fw, fk = fits.get("wall", {}).get(p), fits.get("work", {}).get(p)
            rows.append(
                [
                    p,
                    fmt_spread(wall, ".2f"),
                    fmt_spread(work, ".2f"),
                    fmt(fw and fw["b"], ".3f"),
                    fmt(fk and fk["b"], ".3f"),
                ]
            )
        jobs = derived.get(label, {}).get("jobs_max", {})
        jobs_text = ", ".join(f"N={n} {j}" for n, j in jobs.items() if j is not None) or "-"
        blocks.append(f"**{label}** (most jobs at once: {jobs_text})\n\n{md_table(rows, 'lrrrr')}")
    if not blocks:
        return "No phase data: tools/inspect/phases.py was not there when this ran."
    return "\n\n".join(blocks)


def resources_section(report: dict, counts: list[int], n_new: int) -> str:
    """Peak memory of the whole build (every process, summed) and the size of its build folder, per N."""
    derived = report["derived"]["builds"]
    labels = [v.label for v in BUILDS if any(derived.get(v.label, {}).get("peak_bytes", {}).values())]
    if not labels:
        return "No memory or folder data: tools/inspect/phases.py was not there when this ran."
    rows = [["N", *(f"{b} peak MB" for b in labels), *(f"{b} build folder MB" for b in labels)]]

    def cell(s: dict | None) -> str:
        if s is None:
            return "-"
        if s["n"] == 1:
            return f"{s['median'] / MB:.0f}"
        return f"{s['median'] / MB:.0f} ({s['min'] / MB:.0f}{DASH}{s['max'] / MB:.0f})"

    for n in counts:
        rows.append(
            [str(n)]
            + [cell(derived[b]["peak_bytes"].get(n)) for b in labels]
            + [cell(derived[b]["disk_bytes"].get(n)) for b in labels]
        )
    pred = [f"N={n_new}, predicted"]
    for k in ("peak_bytes", "disk_bytes"):
        for b in labels:
            p = derived[b]["predict"].get(k)
            pred.append("-" if p is None else f"{p['value'] / MB:.0f} ({p['low'] / MB:.0f}{DASH}{p['high'] / MB:.0f})")
    notes = [
        f"- {b}, peak memory at N={n_new}: {p['trust']}"
        for b in labels
        if (p := derived[b]["predict"].get("peak_bytes")) is not None
    ]
    return md_table([*rows, pred], "r" * len(rows[0])) + ("\n\n" + "\n".join(notes) if notes else "")


def efficiency_section(report: dict) -> str:
    rows = [["variant", "N", "parallel s", "one job s", "whole build", "parallel vs one job"]]
    marginal = [["variant", "N", "s/module parallel", "s/module one job", "marginal efficiency"]]
    times = report["data"]["times"].get("wheel", {})
    for r in report["derived"]["efficiency"]:
        if isinstance(r["n"], list):
            n = f"{r['n'][0]}→{r['n'][1]}"
            marginal.append(
                [
                    r["variant"],
                    n,
                    fmt(r["per_module_parallel_s"], ".2f"),
                    fmt(r["per_module_one_job_s"], ".2f"),
                    fmt(r["marginal"], ".0%"),
                ]
            )
            continue
        p, o = times[r["variant"]][r["n"]], times[r["serial"]][r["n"]]
        lo, hi = r["whole_build_range"]
        verdict = NO_SPREAD if r["tie"] is None else "tie" if r["tie"] else "differ"
        whole = f"{r['whole_build']:.0%}" + (f" ({lo:.0%}{DASH}{hi:.0%})" if len(p) > 1 else "")
        rows.append([r["variant"], str(r["n"]), fmt_spread(p, ".2f"), fmt_spread(o, ".2f"), whole, verdict])
    if len(rows) == 1:
        return "No one-job builds in this run (--one-job-at none)."
    return md_table(rows, "lrrrrl") + ("\n\n" + md_table(marginal, "lrrrr") if len(marginal) > 1 else "")


def contradictions_section(report: dict) -> str:
    """Per backend, what decides between the 2026-11-30 figures: slopes with and without jobs, jobs at once, work."""
    derived = report["derived"]
    header = ["backend", "s/module, all cores (fit)", "s/module, one job (fit)", "ratio", "most jobs at once"]
    header += ["work/wall at the largest N", "Cython work s/module (fit)", "C compile work s/module (fit)"]
    rows = [header]
    for v in PARALLEL:
        one = next(o for o in ONE_JOB if o.backend == v.backend)
        fp, fo = derived["fits"].get("wheel", {}).get(v.label), derived["fits"].get("wheel", {}).get(one.label)
        b = derived["builds"].get(v.label, {})
        jobs = [j for j in b.get("jobs_max", {}).values() if j is not None]
        work_fits = b.get("phase_fits", {}).get("work", {})
        builds = report["data"].get("builds", {}).get(v.label, {})
        ratio = "-"
        if builds:
            reps = [r["phases"] for r in builds[max(builds)] if r.get("phases")]
            if reps:
                work = sum(sum(p["work"].values()) for p in reps) / len(reps)
                wall = sum(sum(p["wall"].values()) for p in reps) / len(reps)
                ratio = f"{work / wall:.2f}" if wall else "-"
        speed = f"{fo['b'] / fp['b']:.2f}" if fp and fo and fp["b"] > 0 else "-"
        cython, compile_ = work_fits.get("cython"), work_fits.get("compile")
        rows.append(
            [
                v.label,
                fmt(fp and fp["b"], ".2f"),
                fmt(fo and fo["b"], ".2f"),
                speed,
                str(max(jobs)) if jobs else "-",
                ratio,
                fmt(cython and cython["b"], ".2f"),
                fmt(compile_ and compile_["b"], ".2f"),
            ]
        )
    return md_table(rows, "lrrrrrrr")


def libs_lines(libs: dict[str, dict[int, dict]]) -> list[str]:
    """Per wheel: its extension modules grouped by the libraries they link; modules without OpenMP flagged."""
    lines = []
    for name in [v.label for v in BUILDS if v.label in libs]:
        for n, modules in sorted(libs[name].items()):
            groups: dict[str, list[str]] = {}
            for module, needed in modules.items():
                groups.setdefault("n/a (not ELF)" if needed is None else ", ".join(needed), []).append(module)
            text = "; ".join(
                f"{'all' if len(m) == len(modules) else len(m)} link {found}" for found, m in groups.items()
            )
            no_omp = [m for m, needed in modules.items() if needed is not None and not any("omp" in x for x in needed)]
            warn = f" **No OpenMP runtime: {', '.join(no_omp)}**" if no_omp else ""
            lines.append(f"- {name}, N={n}: {len(modules)} extension module(s), {text}.{warn}")
    return lines


def ratio(old: list[float], new: list[float]) -> str:
    """new / old of the medians; a tie when the ranges overlap (no faster, no slower shown)."""
    if not old or not new:
        return "-"
    verdict = tie(old, new)
    note = "" if verdict is False else " (tie)" if verdict else f" ({NO_SPREAD})"
    return f"{statistics.median(new) / statistics.median(old):.2f}{note}"


def old_new_section(report: dict) -> str:
    """Per N, each backend's template as it was against as it is: the four timings, the clean build's phases."""
    old = report["options"].get("old_templates")
    times, builds = report["data"]["times"], report["data"].get("builds", {})
    blocks = []
    for n in report["options"]["modules"]:
        rows = [["backend", "what", f"old ({old['short']}), s", "new, s", "new / old"]]
        for b in old["backends"]:
            was = OldTemplate(b).label
            for kind, what in OLD_NEW.items():
                a, c = times.get(kind, {}).get(was, {}).get(n, []), times.get(kind, {}).get(b, {}).get(n, [])
                if not (a or c):
                    continue
                spec = ".3f" if kind == "import" else ".2f"
                rows.append([b, what, fmt_spread(a, spec), fmt_spread(c, spec), ratio(a, c)])
                if kind != "wheel":
                    continue
                reps = [
                    [r["phases"] for r in builds.get(label, {}).get(n, []) if r.get("phases")] for label in (was, b)
                ]
                for p in [p for p in PHASE_ORDER if any(p in r["wall"] for r in reps[0] + reps[1])]:
                    a, c = ([r["wall"].get(p, 0.0) for r in side] for side in reps)
                    rows.append([b, f"of which {p}, wall", fmt_spread(a, ".2f"), fmt_spread(c, ".2f"), ratio(a, c)])
                if reps[0] or reps[1]:
                    a, c = ([sum(r["work"].values()) for r in side] for side in reps)
                    rows.append([b, "its tools' work (CPU-s)", fmt_spread(a, ".1f"), fmt_spread(c, ".1f"), ratio(a, c)])
        if len(rows) > 1:
            blocks.append(f"**N = {n}**\n\n{md_table(rows, 'llrrr')}")
    return "\n\n".join(blocks) or "Nothing measured of the old templates."


def labels(data: dict, variants: list) -> list[str]:
    """The labels of `variants` that this report holds a time of."""
    return [v.label for v in variants if any(v.label in per for per in data["times"].values())]


def markdown(report: dict) -> str:
    data, derived, m, o = report["data"], report["derived"], report["machine"], report["options"]
    counts, edit_counts, n_new = o["modules"], o["edit_modules"], o["predict"]
    # The templates as they are always (ranked against each other), then their old twins and shared builds if run.
    wheel_names = [v.label for v in PARALLEL] + labels(data, OLD + SHARED)
    dev_names = wheel_names  # every build set up for the edit loop too
    old = o.get("old_templates")
    old_text = (
        f"""## The templates as they were at {old["short"]} against as they are

`<backend>_old`: that backend's template folder as it was at commit {old["short"]} (`--old-templates {old["rev"]}`,
exported with `git archive`), rendered, built, edited and imported exactly as the template is, in the same
interleaved repetitions. Only templates that differ from that commit have one ({", ".join(old["backends"])}). Per N:
median (min{DASH}max), and new / old of the medians, "tie" when the ranges overlap. The phases are wall seconds of
the clean build (see the phases section); the work row sums the seconds of every tool process of the build.

{old_new_section(report)}

"""
        if old
        else ""
    )
    one_job = [v.label for v in ONE_JOB if v.label in data["times"].get("wheel", {})]
    stopped = (
        f"The edit loops were measured up to N = {edit_counts[-1]} (`--edit-max {o['edit_max']}`), not at "
        f"{', '.join(str(n) for n in counts if n not in edit_counts)}."
        if edit_counts and edit_counts != counts
        else "The edit loops were measured at every N."
    )

    def seen(kind: str) -> str:
        found = data["edit seen"].get(kind, {})
        return (
            ", ".join(
                f"{b} {'yes' if found.get(b) and all(found[b].values()) else 'NO'}" for b in dev_names if b in found
            )
            or "-"
        )

    changes = [
        f"- {what}: between N={c['from']} and N={c['to']}: {c['before']} becomes {c['after']}"
        for what, found in derived["ranking_changes"].items()
        for c in found
    ] or ["- the same order at every N measured, in every kind"]
    cross = [f"{k}: {c['a']} and {c['b']} at N ≈ {c['n']:.0f}" for k, f in derived["crossings"].items() for c in f]
    model = derived["model"]
    model_rows = [
        [
            "variant",
            "fixed s",
            "s/module (one job)",
            "N",
            "measured here",
            *(f"model, {c} cores" for c in (model[0]["predicted"] if model else [])),
        ]
    ]
    for r in model:
        for n, measured in r["measured_here"].items():
            model_rows.append(
                [r["variant"], fmt(r["fixed_s"]), fmt(r["per_module_s"], ".2f"), str(n), fmt(measured)]
                + [fmt(r["predicted"][c][n]) for c in r["predicted"]]
            )
    installs = data["times"].get("editable install", {})
    tools = ", ".join(f"{k} {v}" for k, v in report["tools"].items())
    resumed = report.get("resumed_from")
    took = report["duration_s"] + report.get("earlier_duration_s", 0.0)
    return f"""# Scale

{report["date"]} · `{report["command"]}` · {m["cpu"]}, {m["cores"]} cores · Python {m["python"]}
· load average before {m["load_average"]}, after {m["load_average_after"]} · {tools}

{graph_text(counts[-1])}

Every time is the median (min{DASH}max) of {o["reps"]} interleaved repetition(s), in a shuffled order each time; the
fastest is in bold only when its range is clear of the runner-up's, and "tie" marks ranges that overlap. Fits are
t = a + b·N by least squares over every repetition; "N={n_new}, predicted" extrapolates them (a model: the range and
the trust column say how far). One-job builds at N = {", ".join(map(str, o["one_job_modules"])) or "none"}. {stopped}
Took {took / 60:.0f} min{f", resumed from {resumed['file']} ({resumed['points']} points kept)" if resumed else ""}.

{old_text}## Clean wheel build, `uv build --wheel` (isolated), seconds

meson-python and scikit-build-core build their modules on every core through ninja; setuptools through the
template's setup.py (every .pyx cythonized first in worker processes, then the C compiled in distutils' threads).

{kind_section(report, "wheel", wheel_names + one_job, counts, n_new)}

## The clean build's phases at the largest N, seconds

Wall: the time the phase was running; work: the sum of its processes' times (work/wall above 1 is jobs running at
once). The per-module columns are the fitted b of that phase over every N: where each added module's cost goes.

{phase_section(report)}

## Peak memory of the build and size of its build folder

Peak memory: the largest sum of the resident memory of the build's processes (the compilers run in parallel);
build folder: meson-python's and scikit-build-core's `-Cbuild-dir`, setuptools' `build/`, measured after the build.

{resources_section(report, counts, n_new)}

## Edit one .pyx, until the next import sees it, seconds

Editable installs (`pip install --no-build-isolation -e .`, scikit-build-core with `editable.rebuild=true` and a
`build-dir`), each in a virtual environment of its own. meson-python and scikit-build-core rebuild on import;
setuptools does not, so its time is the reinstall its README asks for plus the import. Edit seen: {seen("pyx")}.

{kind_section(report, "edit", dev_names, edit_counts, n_new) if edit_counts else "Not measured."}

## Edit `_kernels.pxd`, until the next import sees it in every module, seconds

The edit changes a constant that `_kernels.pxd` declares and every module exposes, the second level through its
first-level module's `.pxd`: the build tool must follow the cimports transitively (Cython's dependency files, read
by ninja; cythonize's own check in setuptools). Seen in every module: {seen("pxd")}.

{kind_section(report, "edit pxd", dev_names, edit_counts, n_new) if edit_counts else "Not measured."}

## Import with nothing changed (editable installs), seconds

A fresh interpreter importing the package and every compiled module in it, median of 3 imports per repetition.

{
        md_table(
            [["N", *dev_names], *series_rows(data["times"].get("import", {}), dev_names, edit_counts, 0, ".3f")],
            "r" * (len(dev_names) + 1),
        )
        if edit_counts
        else "Not measured."
    }

First editable install (a full development build, measured once): {
        "; ".join(
            f"{b} " + ", ".join(f"N={n} {fmt(t[0])} s" for n, t in sorted(installs[b].items()))
            for b in dev_names
            if b in installs
        )
        or "-"
    }.

## The shared utility module: what it saves, and from which N

`*_shared`: the same package built with Cython's utility code compiled once, into `<package>._cyutility` (each
template's shared-utility switch, docs/shared-utility.md), against each module carrying its own copy.

{shared.section(report)}

## Parallel efficiency on {m["cores"]} cores

Speedup over the same build with one compile job, divided by the cores ("differ": the ranges do not overlap).
One job: `-Ccompile-args=-j1` (meson-python), `-Cbuild.tool-args=-j1` (scikit-build-core), `[build_ext] parallel = 1`
in a file that `DIST_EXTRA_CONFIG` names (setuptools, whose setup.py then also cythonizes in one process).

{efficiency_section(report)}

## Jobs at once and work per build: what the 2026-11-30 figures need

That report (one repetition) gave setuptools +0.94 s/module with 2 jobs against +4.46 with one, and meson-python
+3.61 with 2 against +3.45 with one. A ratio of the slopes above {m["cores"]} cannot come from parallelism alone, and
one below 1 means the jobs did not run at once; the most jobs seen at once and the build's work/wall say which.
The last two columns are the tool time each added module costs in the parallel build: Cython's (one process per
module under ninja; setuptools cythonizes in its own worker processes, counted as the span before the first
compile) and the C compiler's.

{contradictions_section(report)}

## Where the order changes (measured; \u2248: a tie, the ranges overlap)

{chr(10).join(changes)}

## Extension modules and the libraries each links (DT_NEEDED)

{chr(10).join(libs_lines(data["libs"]))}

## Model, not measured

Fitted lines cross at: {", ".join(cross) if cross else "no crossing at N ≥ 1"}.

For larger machines: time(N, c) ≈ fixed + N · (seconds per module with one job) / min(c, N), the per-module
cost from the one-job builds and `fixed` from the smallest N; compare its "{
        m["cores"]
    } cores" column with "measured here".

{md_table(model_rows) if model else "Needs one-job builds at two N or more."}
"""
