"""scale's options and its run: the plan, the record written after each point, the report and charts at the end."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from tools.inspect.host import machine
from tools.instruments import steps
from tools.instruments.measure import command_line, report, uncached, workdir
from tools.instruments.measure import parser as instrument_parser
from tools.instruments.scale import __doc__ as DOC
from tools.instruments.scale import setups, shared
from tools.instruments.scale.analysis import analyse
from tools.instruments.scale.chart import chart, phases_chart
from tools.instruments.scale.record import Record, collect
from tools.instruments.scale.report import markdown
from tools.make.render import ROOT
from tools.registry.backends import NAMES

DEFAULT_MODULES = "2,8,32,64"
QUICK_MODULES = "2,4"  # 4: the smallest N with a second-level module

HELP = """\
A run of the defaults takes over an hour on 2 cores: it writes reports/scale.json after every point, so run it
where a lost terminal does not stop it (nohup, tmux), and if it stops anyway, run it again with the same
options and --resume reports/scale.json: the (task, repetition) pairs already measured keep their times.
--dry-run prints the plan and a first guess of its time.

A change to a template, measured: --old-templates REV times each template folder that differs from REV's (git diff)
also as it was at REV, in the same interleaved repetitions, and the report sets the two side by side per N, with the
phases. --no-shared, --edit-max and --one-job-at none leave out what such a comparison does not need.

setuptools' parallel build: distutils' build_ext has --parallel/-j, which runs build_extension in a thread pool.
With Cython installed build_extension is Cython's and cythonizes inside it, so Cython's compiler would run in
several threads at once, which its maintainers say it does not account for (cython/cython#7997). The template's
setup.py therefore cythonizes every module first, in processes, then compiles the C in threads, one job per core
by default; `[tool.distutils.build_ext] parallel = N` in pyproject.toml (experimental in setuptools) sets another.
"""


def counts(text: str) -> list[int]:
    return sorted({int(x) for x in text.split(",") if x.strip()})


def options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = instrument_parser("scale", DOC, "scale")
    parser.epilog, parser.formatter_class = HELP, argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--modules", default=DEFAULT_MODULES, help=f"numbers of compiled modules, 2 or more (default {DEFAULT_MODULES})"
    )
    parser.add_argument("--quick", action="store_true", help=f"smoke run (CI): N = {QUICK_MODULES}, one repetition")
    parser.add_argument(
        "--edit-max", type=int, help="measure the edit loops and the import up to this N only (default: every N)"
    )
    parser.add_argument(
        "--one-job-at",
        help="N at which to build with one compile job too, or 'none' (default: the smallest and second-largest N)",
    )
    parser.add_argument(
        "--old-templates",
        metavar="REV",
        help="also time each template that differs from REV's (a git commit) as it was there: <backend>_old",
    )
    parser.add_argument("--no-shared", action="store_true", help="leave out the shared-utility builds (*_shared)")
    parser.add_argument("--predict", type=int, default=200, help="the N to predict from the fits (default 200)")
    parser.add_argument(
        "--resume", type=Path, help="an earlier run's scale.json: skip what it measured, keep its times"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the plan and a guess of its time, then stop")
    parser.add_argument(
        "--render", action="store_true", help="with --resume: the report of what that file holds, measuring nothing"
    )
    args = parser.parse_args(argv)
    if args.render and not args.resume:
        parser.error("--render reports the points of a --resume file")
    uncached()
    if args.quick:
        args.modules, args.reps = QUICK_MODULES, 1
    try:
        args.modules = counts(args.modules)
        if args.one_job_at is None:
            args.one_job_modules = sorted({args.modules[0], args.modules[max(len(args.modules) - 2, 0)]})
        else:
            args.one_job_modules = [] if args.one_job_at == "none" else counts(args.one_job_at)
    except (ValueError, IndexError):
        parser.error("--modules and --one-job-at take whole numbers separated by commas, e.g. 2,8,32")
    if not args.modules or args.modules[0] < 2 or args.reps < 1:
        parser.error("--modules must be 2 or more (the core has two modules) and --reps at least 1")
    if not set(args.one_job_modules) <= set(args.modules):
        parser.error("--one-job-at must name N that --modules has")
    args.edit_max = args.edit_max if args.edit_max is not None else args.modules[-1]
    args.edit_modules = [n for n in args.modules if n <= args.edit_max]
    args.old = []
    if args.old_templates:
        found = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"{args.old_templates}^{{commit}}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if found.returncode != 0:
            parser.error(f"--old-templates: {args.old_templates!r} is not a commit of this repository")
        commit = found.stdout.strip()
        backends = setups.changed_templates(commit)
        if not backends:
            parser.error(f"--old-templates: no template folder differs from {args.old_templates}'s: nothing to compare")
        args.old = [setups.OldTemplate(b, commit=commit) for b in backends]
    args.variants = setups.builds(args.old, shared=not args.no_shared)
    return args


def old_templates(args: argparse.Namespace) -> dict | None:
    """What the header says of the old twins: the revision asked for, its commit, the backends that have one."""
    if not args.old:
        return None
    commit = args.old[0].commit
    return {"rev": args.old_templates, "commit": commit, "short": commit[:9], "backends": [v.backend for v in args.old]}


def guess(args: argparse.Namespace) -> float:
    """A first guess of the run's seconds, from the tasks' own estimates (the registry's build times and a guess per module)."""
    keys = setups.plan(args.modules, args.edit_modules, args.one_job_modules, args.variants)
    installs = setups.installs(args.edit_modules, args.variants)
    return sum(setups.estimate(*k) for k in keys) * args.reps + sum(setups.estimate(*k) for k in installs)


def main(argv: list[str] | None = None) -> None:
    args = options(argv)
    cores = os.cpu_count() or 1
    if args.dry_run:
        plan = setups.plan(args.modules, args.edit_modules, args.one_job_modules, args.variants)
        old = old_templates(args)
        print(
            f"setups: {', '.join(v.label for v in args.variants)}"
            + (f" (*_old: the template at {old['short']}, {old['rev']})" if old else "")
            + f"\n{len(plan)} tasks, {args.reps} repetitions; wheels at N = {args.modules}; edit loops at N = "
            f"{args.edit_modules}; one-job builds at N = {args.one_job_modules}; first guess {guess(args) / 60:.0f} min"
        )
        return
    path = args.out / "scale.json"
    header = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": command_line("scale", sys.argv[1:] if argv is None else argv),
        "options": {
            "modules": args.modules,
            "edit_modules": args.edit_modules,
            "edit_max": args.edit_max,
            "one_job_modules": args.one_job_modules,
            "reps": args.reps,
            "seed": args.seed,
            "predict": args.predict,
            "shared": not args.no_shared,
            "old_templates": old_templates(args),
        },
        "modules": args.modules,  # summary.py reads these two at the top
        "reps": args.reps,
        "complete": False,
    }
    record = Record.resume(args.resume, path, header) if args.resume else Record(path, header)

    def measured(args: argparse.Namespace) -> dict:
        info = machine(cores)
        record.header.update(machine=info, tools=steps.tool_versions(sys.executable))
        record.save()
        t0 = time.perf_counter()
        try:
            if not args.render:
                with workdir("scale-") as work:
                    setups.measure(args, record, work)
        except BaseException:
            print(
                f"stopped; what was measured is in {path}: the same command with --resume {path} goes on",
                file=sys.stderr,
            )
            raise
        info["load_average_after"] = machine(cores)["load_average"]
        wanted = set(setups.plan(args.modules, args.edit_modules, args.one_job_modules, args.variants))
        wanted |= set(setups.installs(args.edit_modules, args.variants))
        data = collect(record.points, wanted)
        pairs = {v.label: setups.SERIAL[v.label] for v in setups.PARALLEL}
        return {
            **record.header,
            "complete": True,
            "duration_s": time.perf_counter() - t0,
            "data": data,
            "derived": {**analyse(data, pairs, list(NAMES), cores, args.predict), "shared": shared.gains(data)},
            "points": record.points,
        }

    data, json_path = report("scale", measured, markdown, args)
    chart(data, args.out / "scale.png")
    drawn = phases_chart(data, args.out / "scale-phases.png")
    print(f"wrote {json_path}, scale.md, scale.png" + (", scale-phases.png" if drawn else ""))
