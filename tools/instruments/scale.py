"""How each backend's builds and development loop grow with the number of compiled modules.

Run by `nox -s scale`; `python -m tools.instruments.scale --help` lists the options.

For each N in --modules, each backend's template is rendered with N compiled
modules that cimport each other as a real package's do: the core's
`_kernels` (its loop, declared in `_kernels.pxd`) and `_core`, plus N-2
copies of `_core.pyx` (`_core_1.pyx` ...), each of which cimports
`_kernels`: a star around one .pxd. Measured, interleaved in a shuffled
order in every repetition (medians reported):

- a clean wheel build, the user's path: `uv build --wheel`, isolated (as in
  compare); each backend also with one compile job at the smallest and
  largest N, to measure its parallel efficiency;
- the edit loop: after an edit to one .pyx, the time until the next import
  sees it, in each backend's development setup (an editable install in a
  virtual environment of its own); and after an edit to `_kernels.pxd`,
  the time until the next import sees it in every module that cimports it
  (the build tool must know that they depend on it);
- the import of the package with nothing changed, in the same setups.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from tools.inspect.dists import extension_libs
from tools.inspect.host import machine
from tools.instruments import steps
from tools.instruments.measure import Task, command_line, interleave, md_table, median, report, workdir
from tools.make.build import run, uv
from tools.make.render import ROOT
from tools.make.render import modules as listed_modules
from tools.registry.backends import BACKENDS, NAMES
from tools.registry.variants import Variant

# The builds timed: each template as it is, and with one compile job for its parallel efficiency.
PARALLEL = [Variant(b) for b in NAMES]
ONE_JOB = [Variant(b, jobs=1) for b in NAMES]
SERIAL = {v.label: Variant(v.backend, jobs=1).label for v in PARALLEL}
# A first guess of the seconds each module adds, for the estimate of the time left only.
GUESS_PER_MODULE = 3.0


def package_name(backend: str, n: int) -> str:
    return f"scale_{backend}_n{n}"


@dataclass
class DevSetup:
    """An editable install of one backend with n modules, in a virtual environment of its own."""

    backend: str
    n: int
    project: Path
    python: str
    name: str
    stamp: int = 0
    install_s: float | None = None
    seen: dict[str, list[bool]] = field(default_factory=lambda: {"pyx": [], "pxd": []})

    def install(self) -> float:
        self.install_s = steps.editable_install(self.python, self.backend, self.project)
        return self.install_s

    def _reinstall(self) -> float:
        """setuptools compiles at install time only: its README says to install again after an edit."""
        return 0.0 if BACKENDS[self.backend].rebuilds_on_import else self.install()

    def edit_until_seen(self) -> float:
        """Edit _core.pyx; seconds until a fresh import sees the edit."""
        self.stamp += 1
        steps.edit(self.project, self.name, "_core", self.stamp)
        reinstall = self._reinstall()
        seconds, seen = steps.probe(self.python, self.name, ["_core"], self.stamp)
        self.seen["pyx"].append(seen)
        return reinstall + seconds

    def edit_pxd_until_seen(self) -> float:
        """Edit _kernels.pxd; seconds until a fresh import sees the edit in every module that cimports it."""
        self.stamp += 1
        steps.edit_pxd(self.project, self.name, self.stamp)
        reinstall = self._reinstall()
        seconds, seen = steps.probe(
            self.python, self.name, listed_modules(self.project, self.backend), self.stamp, "pxd"
        )
        self.seen["pxd"].append(seen)
        return reinstall + seconds

    def import_unchanged(self) -> float:
        return steps.time_import(self.python, self.name, repeats=3)


def dev_setup(backend: str, n: int, work: Path) -> DevSetup:
    """Render the project and make its virtual environment (uv, with pip) holding the build requirements."""
    name = package_name(backend, n)
    project = steps.fresh(backend, work, name, modules=n, stamps=True)
    venv = project.parent / f"venv-{backend}-{n}"
    run([uv(), "venv", "--quiet", "--seed", "--python", sys.executable, str(venv)])
    python = str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))
    requires = [*build_requires(project), *BACKENDS[backend].dev_tools]
    run([uv(), "pip", "install", "--quiet", "--python", python, *requires])
    return DevSetup(backend, n, project, python, name)


def build_requires(project: Path) -> list[str]:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    return tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]["requires"]


def wheel_task(v: Variant, n: int, work: Path, libs: dict) -> Task:
    """A clean isolated wheel build of `v` with n modules; the first one's extensions are inspected."""

    def build() -> float:
        project = steps.fresh(v.backend, work, package_name(v.backend, n), modules=n)
        try:
            out = project / "wheel-out"
            args, env = v.settings()
            seconds = steps.wheel(sys.executable, project, out, args=args, env=env)
            if (v.label, n) not in libs:
                libs[v.label, n] = extension_libs(next(out.glob("*.whl")))
            return seconds
        finally:
            shutil.rmtree(project, ignore_errors=True)

    cores = 1 if v.jobs == 1 else (os.cpu_count() or 1)
    guess = v.spec.seconds + GUESS_PER_MODULE * n / min(cores, n)
    return Task(("wheel", v.label, n), f"{v.label} wheel, N={n}", build, guess)


def measure(args: argparse.Namespace) -> dict:
    """Set up the development installs, then run every measurement `args.reps` times, interleaved."""
    counts = args.modules
    with workdir("scale-") as work:
        print(f"preparing {len(NAMES) * len(counts)} development setups (virtual environments)", flush=True)
        setups = {(b, n): dev_setup(b, n, work) for b in NAMES for n in counts}
        install_tasks = [
            Task(("editable install", b, n), f"{b} editable install, N={n}", s.install, BACKENDS[b].seconds + 3.0 * n)
            for (b, n), s in setups.items()
        ]
        interleave(install_tasks, 1, args.seed, "editable installs")
        libs: dict = {}
        tasks = [wheel_task(v, n, work, libs) for v in PARALLEL for n in counts]
        if len(counts) > 1:
            tasks += [wheel_task(v, n, work, libs) for v in ONE_JOB for n in (counts[0], counts[-1])]
        for (b, n), s in setups.items():
            tasks.append(Task(("edit", b, n), f"{b} edit one .pyx, N={n}", s.edit_until_seen, 8.0))
            tasks.append(Task(("edit pxd", b, n), f"{b} edit the .pxd, N={n}", s.edit_pxd_until_seen, 8.0 + n))
            tasks.append(Task(("import", b, n), f"{b} import, N={n}", s.import_unchanged, 1.0))
        times = interleave(tasks, args.reps, args.seed, "scale")
    data = {"wheel": {}, "edit": {}, "edit pxd": {}, "import": {}, "editable install": {}, "edit seen": {}, "libs": {}}
    for (kind, name, n), values in times.items():
        data[kind].setdefault(name, {})[n] = median(values)
    for (b, n), s in setups.items():
        data["editable install"].setdefault(b, {})[n] = s.install_s
        for kind, seen in s.seen.items():
            data["edit seen"].setdefault(kind, {}).setdefault(b, {})[n] = all(seen) and bool(seen)
    for (name, n), found in libs.items():
        data["libs"].setdefault(name, {})[n] = found
    return data


# --- analysis: marginal cost, efficiency, ranking, model ----------------------


def per_module(series: dict[int, float]) -> dict[int, float]:
    """Marginal seconds per module: (t(N) - t(N0)) / (N - N0), N0 the smallest N measured."""
    n0 = min(series)
    return {n: (t - series[n0]) / (n - n0) for n, t in series.items() if n != n0}


def efficiency(wheel: dict[str, dict[int, float]], cores: int) -> list[dict]:
    """Parallel efficiency of each parallel variant against the same build with one job.

    marginal: serial seconds per module / (cores x parallel seconds per module),
    between the smallest and the largest N; whole build: t_serial(N) / (cores x t_parallel(N)) at the largest N.
    """
    rows = []
    for v in PARALLEL:
        serial = SERIAL[v.label]
        if serial not in wheel or v.label not in wheel:
            continue
        par, ser = wheel[v.label], wheel[serial]
        common = sorted(set(par) & set(ser))
        if len(common) < 2:
            continue
        lo, hi = common[0], common[-1]
        m_par, m_ser = (par[hi] - par[lo]) / (hi - lo), (ser[hi] - ser[lo]) / (hi - lo)
        rows.append(
            {
                "variant": v.label,
                "serial": serial,
                "n": [lo, hi],
                "per_module_parallel_s": m_par,
                "per_module_serial_s": m_ser,
                "marginal": m_ser / (cores * m_par) if m_par > 0 else None,
                "whole_build": ser[hi] / (cores * par[hi]),
            }
        )
    return rows


def ranking_changes(table: dict[str, dict[int, float]], names: list[str]) -> list[dict]:
    """Each pair of consecutive N between which the order of `names` (fastest first) changes."""
    counts = sorted(set.intersection(*(set(table[n]) for n in names))) if names else []
    order = {n: sorted(names, key=lambda name: table[name][n]) for n in counts}
    return [
        {"from": a, "to": b, "before": order[a], "after": order[b]} for a, b in pairwise(counts) if order[a] != order[b]
    ]


def fits(table: dict[str, dict[int, float]]) -> dict[str, tuple[float, float]]:
    """Least-squares line t = a + b*N per variant (needs two N or more)."""
    out = {}
    for name, series in table.items():
        if len(series) >= 2:
            slope, intercept = statistics.linear_regression(list(series), list(series.values()))
            out[name] = (intercept, slope)
    return out


def crossings(table: dict[str, dict[int, float]], names: list[str]) -> list[dict]:
    """Where the fitted lines of two variants cross (N >= 1): a model, not a measurement."""
    lines, out = fits({n: table[n] for n in names if n in table}), []
    present = [n for n in names if n in lines]
    for i, a in enumerate(present):
        for b in present[i + 1 :]:
            (a0, a1), (b0, b1) = lines[a], lines[b]
            if a1 != b1 and (n := (b0 - a0) / (a1 - b1)) >= 1:
                out.append({"a": a, "b": b, "n": n})
    return out


def model(wheel: dict[str, dict[int, float]], cores: int, n_values: list[int], core_values: list[int]) -> list[dict]:
    """time(N, c) = fixed + N x per-module / min(c, N), per-module from the one-job build; a model only."""
    rows = []
    for v in PARALLEL:
        serial = SERIAL[v.label]
        if serial not in wheel or v.label not in wheel or len(wheel[serial]) < 2:
            continue
        ser = wheel[serial]
        lo, hi = min(ser), max(ser)
        m = (ser[hi] - ser[lo]) / (hi - lo)
        fixed = wheel[v.label][lo] - m * lo / min(cores, lo)
        rows.append(
            {
                "variant": v.label,
                "fixed_s": fixed,
                "per_module_s": m,
                "measured_here": {n: wheel[v.label].get(n) for n in n_values},
                "predicted": {c: {n: fixed + m * n / min(c, n) for n in n_values} for c in core_values},
            }
        )
    return rows


def analyse(data: dict, cores: int) -> dict:
    """Derived numbers: per-module costs, efficiency, ranking changes, fitted crossings, the model."""
    backends = list(NAMES)
    wheel = data["wheel"]
    counts = sorted({n for series in wheel.values() for n in series})
    return {
        "per_module": {
            kind: {name: per_module(s) for name, s in data[kind].items()} for kind in ("wheel", "edit", "edit pxd")
        },
        "efficiency": efficiency(wheel, cores),
        "ranking_changes": {
            "wheel (backends)": ranking_changes(wheel, backends),
            "edit": ranking_changes(data["edit"], backends),
            "edit pxd": ranking_changes(data["edit pxd"], backends),
            "import": ranking_changes(data["import"], backends),
        },
        "crossings": {
            "wheel": crossings(wheel, [v.label for v in PARALLEL]),
            "edit": crossings(data["edit"], backends),
            "edit pxd": crossings(data["edit pxd"], backends),
        },
        "model": model(wheel, cores, sorted({counts[-1], 4 * counts[-1]}) if counts else [], sorted({cores, 8, 32})),
    }


# --- report -------------------------------------------------------------------


def fmt(x: float | None, spec: str = ".1f") -> str:
    return "-" if x is None else format(x, spec)


def series_table(table: dict[str, dict[int, float]], names: list[str], counts: list[int], marginal: bool) -> str:
    """Seconds per N (rows) and variant (columns), with the marginal seconds per module."""
    rows = [["N", *names]]
    for n in counts:
        cells = []
        for name in names:
            t = table.get(name, {}).get(n)
            m = per_module(table[name]).get(n) if marginal and name in table and len(table[name]) > 1 else None
            cells.append(fmt(t, ".2f") + (f" ({m:+.2f}/module)" if m is not None else ""))
        rows.append([str(n), *cells])
    return md_table(rows, "r" * (len(names) + 1))


def libs_lines(libs: dict[str, dict[int, dict]]) -> list[str]:
    """Per wheel: its extension modules grouped by the libraries they link; modules without OpenMP flagged."""
    lines = []
    for name in [v.label for v in PARALLEL + ONE_JOB if v.label in libs]:
        for n, modules in sorted(libs[name].items()):
            groups: dict[str, list[str]] = {}
            for module, needed in modules.items():
                groups.setdefault("n/a (not ELF)" if needed is None else ", ".join(needed), []).append(module)
            text = "; ".join(
                f"{'all' if len(mods) == len(modules) else len(mods)} link {found}" for found, mods in groups.items()
            )
            no_omp = [m for m, needed in modules.items() if needed is not None and not any("omp" in x for x in needed)]
            warn = f" **No OpenMP runtime: {', '.join(no_omp)}**" if no_omp else ""
            lines.append(f"- {name}, N={n}: {len(modules)} extension module(s), {text}.{warn}")
    return lines


def markdown(report: dict) -> str:
    data, derived, m = report["data"], report["derived"], report["machine"]
    counts, backends = report["modules"], list(NAMES)
    wheel_names = [v.label for v in PARALLEL]
    eff = md_table(
        [
            ["variant", "against", "N", "s/module parallel", "s/module one job", "marginal efficiency", "whole build"],
            *[
                [
                    r["variant"],
                    r["serial"],
                    f"{r['n'][0]}→{r['n'][1]}",
                    fmt(r["per_module_parallel_s"], ".2f"),
                    fmt(r["per_module_serial_s"], ".2f"),
                    fmt(r["marginal"], ".0%"),
                    fmt(r["whole_build"], ".0%"),
                ]
                for r in derived["efficiency"]
            ],
        ]
    )
    changes = []
    for what, found in derived["ranking_changes"].items():
        if not found:
            changes.append(f"- {what}: the same order at every N measured")
        for c in found:
            changes.append(
                f"- {what}: between N={c['from']} and N={c['to']}: "
                f"{' < '.join(c['before'])} becomes {' < '.join(c['after'])}"
            )
    cross = [
        f"- {what}: {c['a']} and {c['b']} cross at N ≈ {c['n']:.0f}"
        for what, found in derived["crossings"].items()
        for c in found
    ]
    model_rows = [
        [
            "variant",
            "fixed s",
            "s/module (one job)",
            "N",
            "measured here",
            *(f"model, {c} cores" for c in (derived["model"][0]["predicted"] if derived["model"] else [])),
        ]
    ]
    for r in derived["model"]:
        for n, measured in r["measured_here"].items():
            model_rows.append(
                [r["variant"], fmt(r["fixed_s"]), fmt(r["per_module_s"], ".2f"), str(n), fmt(measured)]
                + [fmt(r["predicted"][c][n]) for c in r["predicted"]]
            )

    def seen(kind: str) -> str:
        found = data["edit seen"].get(kind, {})
        return ", ".join(f"{b} {'yes' if all(found.get(b, {}).values()) else 'NO'}" for b in backends)

    tools = ", ".join(f"{k} {v}" for k, v in report["tools"].items())
    return f"""# Scale

{report["date"]} · `{report["command"]}` · {m["cpu"]}, {m["cores"]} cores · Python {m["python"]}
· load average before {m["load_average"]}, after {m["load_average_after"]} · {tools}

Each package has N compiled modules that cimport each other as a real package's do: the core's `_kernels` (declared
in `_kernels.pxd`) and `_core`, and N-2 copies of `_core.pyx` (`_core_1.pyx` ...), each of which cimports `_kernels`,
all listed in the template's module list. Median of {
        report["reps"]
    } interleaved repetition(s) (shuffled order each time); "/module" is the
marginal cost (t(N) - t(N₀)) / (N - N₀), N₀ = {counts[0]}. Lower is better everywhere. Took {
        report["duration_s"]:.0f} s.

## Clean wheel build, `uv build --wheel` (isolated), seconds

Every backend builds its modules on all cores: meson-python and scikit-build-core through ninja, setuptools through
the template's setup.py (every .pyx cythonized first in worker processes, then the C compiled in distutils' threads).

{series_table(data["wheel"], wheel_names + [v.label for v in ONE_JOB if v.label in data["wheel"]], counts, True)}

## Edit one .pyx, until the next import sees it, seconds

Editable installs (`pip install --no-build-isolation -e .`, scikit-build-core with `editable.rebuild=true` and a
`build-dir`), each in a virtual environment of its own. meson-python and scikit-build-core rebuild on import;
setuptools does not, so its time is the reinstall its README asks for plus the import; that reinstall builds in
fresh temporary folders (setuptools/command/editable_wheel.py), so it compiles every module again. Edit seen:
{seen("pyx")}.

{series_table(data["edit"], backends, counts, True)}

## Edit `_kernels.pxd`, until the next import sees it in every module that cimports it, seconds

The edit changes a constant that the .pxd declares and every module exposes; the build tool must know that each
module depends on the .pxd (Cython's dependency file, read by ninja; cythonize's own check in setuptools) and
rebuild them all. Seen in every module: {seen("pxd")}.

{series_table(data["edit pxd"], backends, counts, True)}

## Import with nothing changed (editable installs), seconds

{series_table(data["import"], backends, counts, False)}

First editable install (a full development build, measured once): {
        "; ".join(
            f"{b} " + ", ".join(f"N={n} {fmt(t)} s" for n, t in sorted(data["editable install"][b].items()))
            for b in backends
        )
    }.

## Parallel efficiency on {m["cores"]} cores

Speedup over the same build with one compile job, divided by the cores: "marginal" from the seconds per module
between the smallest and largest N (the part that can run in parallel), "whole build" from the total at the largest
N. One job: `-Ccompile-args=-j1` and `-Cbuild.tool-args=-j1` (ninja -j1) for meson-python and scikit-build-core,
`[build_ext] parallel = 1` in a file that `DIST_EXTRA_CONFIG` names for setuptools. Above 100% means the noise is larger
than the effect: more repetitions, a larger N or a quieter machine.

{eff if derived["efficiency"] else "Needs two N or more."}

## Where the order changes (measured)

{chr(10).join(changes)}

## Extension modules and the libraries each links (DT_NEEDED)

{chr(10).join(libs_lines(data["libs"]))}

## Model, not measured

Fitted lines t = a + b·N cross (wheel build, edit loop) at:

{chr(10).join(cross) or "- no crossing at N > 0"}

For larger machines: time(N, c) ≈ fixed + N · (seconds per module with one job) / min(c, N), with the per-module
cost from the one-job builds here and `fixed` from the smallest N. It assumes perfect scaling of the per-module
part; compare its "{m["cores"]} cores" column with "measured here" to see how far that holds on this machine.

{md_table(model_rows) if derived["model"] else "Needs two N or more."}
"""


def chart(report: dict, path: Path) -> None:
    """Log-log charts of seconds against N: wheel build, edit loop, import; one line per variant."""
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    data = report["data"]
    panels = [
        ("wheel", "clean wheel build (uv, isolated)"),
        ("edit", "edit one .pyx → import sees it"),
        ("edit pxd", "edit the .pxd → every module sees it"),
        ("import", "import, nothing changed"),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(17, 4.2))
    for ax, (kind, title) in zip(axes, panels, strict=True):
        for name, series in data[kind].items():
            if name not in BACKENDS:  # the one-job builds
                continue
            ns = sorted(series)
            ax.plot(ns, [series[n] for n in ns], "o-", label=name, color=BACKENDS[name].color)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(report["modules"], [str(n) for n in report["modules"]])
        ax.xaxis.set_minor_locator(mpl.ticker.NullLocator())
        for axis in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
            axis(mpl.ticker.FuncFormatter(lambda y, _: f"{y:g}"))
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("compiled modules N (log)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("seconds, median (log; lower is better)")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Time against the number of modules, {report['machine']['cores']} cores: lower is better")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


HELP_PARALLEL = """\
setuptools' parallel build: distutils' build_ext has --parallel/-j, which runs build_extension in a thread pool.
With Cython installed build_extension is Cython's and cythonizes inside it, so Cython's compiler would run in
several threads at once, which its maintainers say it does not account for (cython/cython#7997). The template's
setup.py therefore cythonizes every module first, in processes, then compiles the C in threads, one job per core
by default; `[tool.distutils.build_ext] parallel = N` in pyproject.toml (experimental in setuptools) sets another.
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="nox -s scale --",
        description=__doc__.split("\n\n")[0],
        epilog=HELP_PARALLEL,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--modules",
        default="2,4,8",
        help="numbers of compiled modules, 2 or more, comma-separated (default 2,4,8)",
    )
    parser.add_argument("--reps", type=int, default=2, help="interleaved repetitions (default 2)")
    parser.add_argument("--quick", action="store_true", help="smoke run: N = 2 and 3, one repetition")
    parser.add_argument("--seed", type=int, default=0, help="seed of the shuffled order")
    parser.add_argument("--out", type=Path, default=ROOT / "reports", help="where scale.json/.md/.png go")
    args = parser.parse_args(argv)
    if args.quick:
        args.modules, args.reps = "2,3", 1
    try:
        args.modules = sorted({int(x) for x in args.modules.split(",") if x.strip()})
    except ValueError:
        parser.error("--modules takes whole numbers separated by commas, e.g. 2,4,16")
    if not args.modules or args.modules[0] < 2 or args.reps < 1:
        parser.error("--modules must be 2 or more (the core has two modules) and --reps at least 1")

    cores = os.cpu_count() or 1

    def measured(args: argparse.Namespace) -> dict:
        info = machine(cores)
        t0 = time.perf_counter()
        data = measure(args)
        info["load_average_after"] = machine(cores)["load_average"]
        return {
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "command": command_line("scale", sys.argv[1:] if argv is None else argv),
            "modules": args.modules,
            "reps": args.reps,
            "duration_s": time.perf_counter() - t0,
            "machine": info,
            "tools": steps.tool_versions(sys.executable),
            "data": data,
            "derived": analyse(data, cores),
        }

    data, json_path = report("scale", measured, markdown, args)
    chart(data, args.out / "scale.png")
    print(f"wrote {json_path}, scale.md and scale.png")


if __name__ == "__main__":
    main()
