"""The clean wheel with each backend's own number of compile jobs, and with one job per core: wall and CPU seconds.

ninja, which meson-python and scikit-build-core build with, runs 3 jobs on 2
cores by default (cores + 2 from 3 cores up) where setuptools' template runs
one per core.
This times each template's clean wheel of N modules both ways (meson_j2,
cmake_j2 on 2 cores), interleaved, with the CPU seconds of the whole build
(user + sys of every process it ran and waited for; not this process's
own, so not the memory sampler's): a gap in wall time with the same CPU
is the schedule; a gap in CPU is work (flags, Cython's C, the build tool).
`--against phases` sets each template beside itself measured as scale
measures it (its tools behind phases' wrappers, its memory sampled, its
build folder kept) instead: what measuring the phases costs.

    nox -s scale_jobs -- [--modules N] [--reps R] [--against jobs|phases]
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import sys
import time
from pathlib import Path

from tools.inspect import phases
from tools.inspect.host import machine
from tools.instruments import steps
from tools.instruments.measure import (
    Task,
    command_line,
    fmt_spread,
    interleave,
    md_table,
    parser,
    report,
    uncached,
    workdir,
)
from tools.instruments.scale.setups import kept_build_dir, merge_env
from tools.registry.backends import NAMES
from tools.registry.variants import Variant

# One job per core, as each frontend is told: meson-python's and scikit-build-core's arguments to ninja.
PER_CORE = {"meson": "-Ccompile-args=-j{jobs}", "cmake": "-Cbuild.tool-args=-j{jobs}"}


def cpu_of_children() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def setups(cores: int, against: str = "jobs") -> list[tuple[str, Variant, list[str]]]:
    """(label, variant, extra arguments): each template as shipped, and meson and cmake with one job per core
    (against "jobs") or each template measured as scale measures it (against "phases")."""
    out = [(b, Variant(b), []) for b in NAMES]
    if against == "jobs":
        return out + [(f"{b}_j{cores}", Variant(b), [arg.format(jobs=cores)]) for b, arg in PER_CORE.items()]
    return out + [(f"{b}_phases", Variant(b), []) for b in NAMES]


def measure(args) -> dict:
    cores = os.cpu_count() or 1
    cpu: dict[str, list[float]] = {}

    def task(label: str, v: Variant, extra: list[str], work: Path) -> Task:
        def build() -> float:
            project = steps.fresh(v.backend, work, v.name, modules=args.modules)
            settings, env = v.settings()
            watch = contextlib.nullcontext()
            if label.endswith("_phases"):  # as scale's wheel_task measures
                more, more_env = phases.instrument(v.backend, project.parent / f"{project.name}-phases")
                keep, _ = kept_build_dir(v.backend, project, more)
                settings, env, watch = [*settings, *more, *keep], merge_env(env, more_env), phases.PeakMemory()
            before = cpu_of_children()
            try:
                with watch:
                    seconds = steps.wheel(
                        sys.executable, project, project / "wheel-out", args=[*settings, *extra], env=env
                    )
            finally:
                shutil.rmtree(project, ignore_errors=True)
                shutil.rmtree(project.parent / f"{project.name}-phases", ignore_errors=True)
            cpu.setdefault(label, []).append(cpu_of_children() - before)
            return seconds

        return Task(label, f"{label} wheel, N={args.modules}", build, 2.0 * args.modules)

    start, host = time.time(), machine(cores)
    with workdir("scale-jobs-") as work:
        tasks = [task(label, v, extra, work) for label, v, extra in setups(cores, args.against)]
        wall = interleave(tasks, args.reps, args.seed, "scale_jobs")
    return {
        "command": command_line("scale_jobs", sys.argv[1:]),
        "machine": host,
        "load_average_after": machine(cores)["load_average"],
        "modules": args.modules,
        "against": args.against,
        "reps": args.reps,
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(start)),
        "wall_s": wall,
        "cpu_s": cpu,
    }


def markdown(data: dict) -> str:
    rows = [["build", "wall s", "CPU s (user + sys)"]]
    for label, seconds in data["wall_s"].items():
        rows.append([label, fmt_spread(seconds), fmt_spread(data["cpu_s"].get(label, []))])
    m = data["machine"]
    title = {
        "jobs": "Compile jobs: each backend's own, and one per core",
        "phases": "The clean wheel, plain and measured as scale measures it (_phases)",
    }[data.get("against", "jobs")]
    return f"""# {title}

`{data["command"]}`, {data["started"]}, {data["reps"]} interleaved repetitions of a clean wheel of
{data["modules"]} modules (uv build --wheel, isolated), on {m["cpu"]} (family {m["cpu_family"]} model
{m["cpu_model"]}), {m["cores"]} cores; load average {m["load_average"]} before,
{data.get("load_average_after")} after. Median (min{chr(0x2013)}max); CPU seconds are those of every process
the build ran. `_jN`: ninja run with `-jN`; `_phases`: with scale's phase wrappers and memory sampler.

{md_table(rows, "lrr")}
"""


def main(argv: list[str] | None = None) -> None:
    p = parser("scale_jobs", __doc__, "scale-jobs")
    p.add_argument("--modules", type=int, default=64, help="compiled modules (default 64)")
    p.add_argument(
        "--against", choices=("jobs", "phases"), default="jobs", help="one job per core (default), or scale's wrappers"
    )
    args = p.parse_args(argv)
    uncached()
    if args.modules < 2:
        p.error("--modules must be 2 or more (the core has two modules)")
    report("scale-jobs", measure, markdown, args)


if __name__ == "__main__":
    main()
