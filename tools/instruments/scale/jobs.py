"""The clean wheel with each backend's own number of compile jobs, and with one job per core: wall and CPU seconds.

ninja, which meson-python and scikit-build-core build with, runs 3 jobs on 2
cores (cores + 2 above that) where setuptools' template runs one per core.
This times each template's clean wheel of N modules both ways (meson_j2,
cmake_j2 on 2 cores), interleaved, with the CPU seconds of the whole build
(user + sys of every process it ran): a gap in wall time with the same CPU
is the schedule; a gap in CPU is work (flags, Cython's C, the build tool).

    nox -s scale_jobs -- [--modules N] [--reps R]
"""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

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
from tools.registry.backends import NAMES
from tools.registry.variants import Variant

# One job per core, as each frontend is told: meson-python's and scikit-build-core's arguments to ninja.
PER_CORE = {"meson": "-Ccompile-args=-j{jobs}", "cmake": "-Cbuild.tool-args=-j{jobs}"}


def cpu_of_children() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def setups(cores: int) -> list[tuple[str, Variant, list[str]]]:
    """(label, variant, extra arguments): each template as shipped, and meson and cmake with one job per core."""
    out = [(b, Variant(b), []) for b in NAMES]
    out += [(f"{b}_j{cores}", Variant(b), [arg.format(jobs=cores)]) for b, arg in PER_CORE.items()]
    return out


def measure(args) -> dict:
    cores = os.cpu_count() or 1
    cpu: dict[str, list[float]] = {}

    def task(label: str, v: Variant, extra: list[str], work: Path) -> Task:
        def build() -> float:
            project = steps.fresh(v.backend, work, v.name, modules=args.modules)
            settings, env = v.settings()
            before = cpu_of_children()
            seconds = steps.wheel(sys.executable, project, project / "wheel-out", args=[*settings, *extra], env=env)
            cpu.setdefault(label, []).append(cpu_of_children() - before)
            return seconds

        return Task(label, f"{label} wheel, N={args.modules}", build, 2.0 * args.modules)

    start = time.time()
    with workdir("scale-jobs-") as work:
        tasks = [task(label, v, extra, work) for label, v, extra in setups(cores)]
        wall = interleave(tasks, args.reps, args.seed, "scale_jobs")
    return {
        "command": command_line("scale_jobs", sys.argv[1:]),
        "machine": machine(cores),
        "modules": args.modules,
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
    return f"""# Compile jobs: each backend's own, and one per core

`{data["command"]}`, {data["started"]}, {data["reps"]} interleaved repetitions of a clean wheel of
{data["modules"]} modules (uv build --wheel, isolated), on {m["cpu"]} (family {m["cpu_family"]} model
{m["cpu_model"]}), {m["cores"]} cores. Median (min{chr(0x2013)}max); CPU seconds are those of every process
the build ran.

{md_table(rows, "lrr")}
"""


def main(argv: list[str] | None = None) -> None:
    p = parser("scale_jobs", __doc__, "scale-jobs")
    p.add_argument("--modules", type=int, default=64, help="compiled modules (default 64)")
    args = p.parse_args(argv)
    uncached()
    if args.modules < 2:
        p.error("--modules must be 2 or more (the core has two modules)")
    report("scale-jobs", measure, markdown, args)


if __name__ == "__main__":
    main()
