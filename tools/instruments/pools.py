"""Start methods by pool shapes: which runner do_math_parallel takes in pool workers, exact answers, and speed.

`python -m tools.instruments.pools --help` lists the options (a build and tqdm installed). For one build
(--build; else the first of mathcore_meson, mathcore_cmake, mathcore_setuptools that imports), each
(start method, pool shape) runs in a child process of its own session, killed with its process group at
--timeout and reported as hung. The child calls do_math_parallel once itself (a parent that has run an
OpenMP team: what the module's fork hook is for), starts a pool, waits until every worker has imported the
build and said which runner it takes (build_info()["parallel_runner"]), then maps do_math_parallel over
--tasks ranges of --terms terms.

- start methods, those this platform has: fork; forkserver (workers import the build after their fork);
  forkserver+preload (the server imports it first, set_forkserver_preload); spawn; and "default", the
  Python's default context, a row of its own although it is one of those;
- shapes, C the usable cores: 1xC (one process, workers=None: C threads through its runner) and Cx1
  (C processes, workers=1); CxC, Pool()'s defaults with workers=None, oversubscribes: left out;
- in-process baselines, no pool, 1xC: do_math_parallel (OpenMP) and do_math_threaded (Python threads, the
  runner a forked worker takes).

Every answer is compared with twin.exact before any time is kept: a run with a wrong answer is reported
WRONG and not timed. Runs interleaved over --reps; reported: the median ns per element and its ratio to
spawn's at the same shape (spawn's workers are fresh interpreters: OpenMP).
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import os
import sys
import time

from tools.inspect.host import describe, machine
from tools.inspect.probes import child
from tools.instruments.measure import Task, command_line, interleave, md_table, median, report
from tools.instruments.measure import parser as instrument_parser
from tools.make.build import StepFailed
from tools.make.render import ROOT

DEFAULT_BUILDS = ("mathcore_meson", "mathcore_cmake", "mathcore_setuptools")
POOLED = ("default", "fork", "forkserver", "forkserver+preload", "spawn")
IN_PROCESS = {"in-process OpenMP": "do_math_parallel", "in-process threads": "do_math_threaded"}
CENTER = 1_000_000  # the sum's centre (twin.CENTER): ranges around it keep every total small
QUICK_TERMS = 1 << 22

# The child: a pool (or the in-process baseline) in a fresh interpreter; its
# last line is JSON. The pool's functions live in this module, so that every
# start method's workers can import them (a `-c` script's cannot be).
CHILD = """
import json, sys

from tools.instruments.pools import one_run

print(json.dumps(one_run(*sys.argv[1:])))
"""

_worker: dict = {}  # in a pool worker: the build, imported by _load


def _load(name: str) -> None:
    _worker["build"] = importlib.import_module(name)


def _ready(_: int) -> tuple[int, str]:
    time.sleep(0.05)  # long enough that each idle worker takes one
    return os.getpid(), _worker["build"].build_info()["parallel_runner"]


def _task(task: tuple[int, int, int | None]) -> tuple[int, float]:
    return os.getpid(), _worker["build"].do_math_parallel(*task)


def ranges(terms: int, count: int) -> list[tuple[int, int]]:
    """`count` ranges of `terms` terms centred on CENTER, each shifted by one: an answer sent back for the
    wrong task differs from the one wanted."""
    return [(CENTER - terms // 2 + i, CENTER - terms // 2 + i + terms) for i in range(count)]


def one_run(name: str, method: str, processes: str, workers: str, terms: str, count: str) -> dict:
    """In the child: every answer, the runners taken and the seconds of the timed part."""
    build = importlib.import_module(name)
    build.do_math_parallel(0, 10**7)  # a pool's parent that has run an OpenMP team: what the fork hook is for
    jobs = [(a, b, None if workers == "None" else int(workers)) for a, b in ranges(int(terms), int(count))]
    if method in IN_PROCESS:
        function = getattr(build, IN_PROCESS[method])
        t0 = time.perf_counter()
        values = [function(*job) for job in jobs]
        seconds = time.perf_counter() - t0
        runner = build.build_info()["parallel_runner"] if method == "in-process OpenMP" else "threads"
        return {"start_method": None, "values": values, "runners": [runner], "processes": 1, "seconds": seconds}
    ctx = multiprocessing.get_context(None if method == "default" else method.partition("+")[0])
    if method == "forkserver+preload":
        ctx.set_forkserver_preload([name])
    with ctx.Pool(int(processes), initializer=_load, initargs=(name,)) as pool:
        runner_of: dict[int, str] = {}
        while len(runner_of) < int(processes):  # every worker started: no import in the timed map
            runner_of.update(pool.map(_ready, range(int(processes)), chunksize=1))
        t0 = time.perf_counter()
        answers = pool.map(_task, jobs, chunksize=1)
        seconds = time.perf_counter() - t0
    return {
        "start_method": ctx.get_start_method(),
        "values": [value for _, value in answers],
        "runners": sorted({runner_of.get(pid, "?") for pid, _ in answers}),
        "processes": len({pid for pid, _ in answers}),
        "seconds": seconds,
    }


def pick(name: str | None) -> str:
    """--build, or the first default build that imports."""
    for candidate in [name] if name else DEFAULT_BUILDS:
        try:
            importlib.import_module(candidate)
        except ImportError as exc:
            if name:
                msg = f"--build {name}: {exc}"
                raise StepFailed(msg) from None
            continue
        return candidate
    msg = f"none of {', '.join(DEFAULT_BUILDS)} imports here: install a build, or name one with --build"
    raise StepFailed(msg)


def verdict(runs: list[dict]) -> str:
    """The answers of a row's runs: "exact" when all were; else how many were WRONG, hung, failed, exact."""
    counts = {
        "WRONG": sum(bool(r.get("wrong")) for r in runs),
        "hung": sum("hung" in r for r in runs),
        "failed": sum("error" in r for r in runs),
    }
    counts["exact"] = len(runs) - sum(counts.values())
    if counts["exact"] == len(runs):
        return "exact"
    return ", ".join(f"{what} {n}/{len(runs)}" for what, n in counts.items() if n)


def measure(args: argparse.Namespace) -> dict:
    name = pick(args.build)
    build = importlib.import_module(name)
    cores = build.twin._available_cores()  # what workers=None means in the workers
    shapes = {f"1x{cores}": (1, None), f"{cores}x1": (cores, 1)}  # one shape when cores == 1
    jobs = ranges(args.terms, args.tasks)
    wants = [build.twin.exact(a, b) for a, b in jobs]
    if max(wants) >= 2**53:  # beyond it the summation order changes the last bits: no exact answer to check
        msg = f"--terms {args.terms}: a task's total reaches 2**53; at most about 1.8e8 terms keep it exact"
        raise StepFailed(msg)
    available = multiprocessing.get_all_start_methods()
    methods = [m for m in POOLED if m == "default" or m.partition("+")[0] in available]
    rows = [{"method": m, "shape": s} for m in methods for s in shapes]
    rows += [{"method": m, "shape": f"1x{cores}"} for m in IN_PROCESS]
    for row in rows:
        row["processes"], row["workers"] = shapes[row["shape"]]
        row["runs"] = []

    def run(row: dict) -> float | None:
        args_ = (name, row["method"], str(row["processes"]), str(row["workers"]), str(args.terms), str(args.tasks))
        try:
            out = child(CHILD, ROOT, *args_, timeout=args.timeout)
        except StepFailed as exc:
            row["runs"].append({"error": str(exc)[-1000:]})
            return None
        if out is None:
            row["runs"].append({"hung": True, "killed_after_s": args.timeout})
            return None
        out["wrong"] = sum(value != want for value, want in zip(out.pop("values"), wants, strict=True))
        row["runs"].append(out)
        return None if out["wrong"] else out["seconds"]  # a wrong answer is not timed

    estimate = 1.0 + args.tasks * args.terms * 3e-9  # a first guess: start-up, then 3 ns per element
    tasks = [Task(i, f"{r['method']} {r['shape']}", lambda r=r: run(r), estimate) for i, r in enumerate(rows)]
    times = interleave(tasks, args.reps, args.seed, "pools")
    for i, row in enumerate(rows):
        runs = row["runs"]
        row["answers"] = verdict(runs)
        row["start_method"] = next((r["start_method"] for r in runs if "seconds" in r), None)
        row["runners"] = sorted({x for r in runs for x in r.get("runners", [])})
        row["seconds"] = times[i]
        wrong = any(r.get("wrong") for r in runs)
        row["ns_per_element"] = None if wrong or not times[i] else median(times[i]) / len(jobs) / args.terms * 1e9
    for row in rows:
        spawn = next((r for r in rows if r["method"] == "spawn" and r["shape"] == row["shape"]), None)
        base = spawn and spawn["ns_per_element"]
        row["vs_spawn"] = row["ns_per_element"] / base if base and row["ns_per_element"] else None
    info = build.build_info()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": command_line("compare_pools", sys.argv[1:]),
        "machine": machine(cores),
        "python": sys.version.split()[0],
        "default_start_method": multiprocessing.get_start_method(),
        "build": name,
        "build_info": {k: info[k] for k in ("backend", "compiler", "openmp", "kernel")},
        "cores": cores,
        "tasks": args.tasks,
        "terms": args.terms,
        "reps": args.reps,
        "timeout_s": args.timeout,
        "left_out": f"{cores}x{cores} (Pool() defaults, workers=None: {cores * cores} threads on {cores} cores)",
        "rows": rows,
    }


def markdown(data: dict) -> str:
    default = data["default_start_method"]
    table = [["method", "start method", "shape", "runner in workers", "answers", "ns/element", "vs spawn"]]
    for r in data["rows"]:
        ns, ratio = r["ns_per_element"], r["vs_spawn"]
        table.append(
            [
                f"default ({default})" if r["method"] == "default" else r["method"],
                r["start_method"] or "-",
                r["shape"],
                ", ".join(r["runners"]) or "-",
                r["answers"],
                f"{ns:.3f}" if ns is not None else "-",
                f"{ratio:.2f}" if ratio is not None else "-",
            ]
        )
    m, b = data["machine"], data["build_info"]
    c = data["cores"]
    return f"""# Pools: start methods and pool shapes

{data["date"]} · `{data["command"]}`
· {describe(m)}, load average {m["load_average"]}
· Python {data["python"]}, default start method **{default}**
· `{data["build"]}` ({b["backend"]}, compiler {b["compiler"]}, kernel {b["kernel"]})
· {data["tasks"]} tasks x {data["terms"]:,} terms, median of {data["reps"]} interleaved run(s)

Each row is a child process: it runs one OpenMP call itself, starts a pool with that start method, waits
until every worker has imported the build, then maps `do_math_parallel` over the tasks. Shapes: 1x{c} is
one worker process with `workers=None` ({c} threads through its runner), {c}x1 is {c} processes with
`workers=1`; left out, as oversubscribed: {data["left_out"]}. "runner in workers" is
`build_info()["parallel_runner"]` there: "threads" in a process made by fork, else "openmp" ("serial" without OpenMP).
forkserver+preload: the server imported the build. The in-process rows use no pool. Every answer is checked
against `twin.exact` first: a WRONG run is not timed; a child silent for {data["timeout_s"]:g} s is killed
with its process group (hung). ns/element: the median wall time of the map over tasks x terms. vs spawn: that
over spawn's (OpenMP in every worker) at the same shape, 1x{c} for the in-process rows; below 1 is faster.
Other work on the machine moves every figure (its load average is above): rerun before trusting a difference.

{md_table(table, "lllllrr")}
"""


def main(argv: list[str] | None = None) -> None:
    parser = instrument_parser("compare_pools", __doc__, "pools", reps=3)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before a child is hung (default 300)")
    # 1.6e8 terms around the centre total 6.4e15 < 2**53: every summation order gives the exact integer.
    parser.add_argument("--terms", type=int, default=160_000_000, help="terms per task (default 1.6e8)")
    parser.add_argument("--tasks", type=int, default=8, help="tasks mapped over the pool (default 8)")
    parser.add_argument("--build", help=f"import name of the build (default: the first of {', '.join(DEFAULT_BUILDS)})")
    parser.add_argument(
        "--quick", action="store_true", help=f"for CI: 1 rep, {QUICK_TERMS} terms (over --reps, --terms)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.terms = 1, QUICK_TERMS
    if min(args.reps, args.terms, args.tasks) < 1 or args.timeout <= 0:
        parser.error("--reps, --terms, --tasks and --timeout must be positive")
    _, json_path = report("pools", measure, markdown, args)
    print(f"wrote {json_path} and pools.md")


if __name__ == "__main__":
    main()
