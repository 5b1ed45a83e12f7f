"""Threads with and without the GIL: each build and the pure-Python twin on free-threaded CPython, and its build time.

The lecture's question, asked again where Python itself can run without the
GIL (CPython 3.14t, PEP 779): do Python threads now run in parallel, for the
Cython kernels (which drop the GIL anyway) and for the pure-Python twin? Each
build is timed on three Pythons, in a child process per Python and
repetition, the repetitions interleaved:

- `3.14t`: the free-threaded interpreter (tools/inspect/pythons.py finds it);
- `3.14t -X gil=1`: the same interpreter and wheels with the GIL turned on;
- `3.13`: a CPython with the GIL, and the same templates built for it.

Each cell is ns per element of do_math, do_math_threaded and do_math_parallel
with 1 and 2 threads (`workers`), the median of 3 calls in each repetition;
a call whose answer is not the exact total is refused, never timed. The
builds themselves are timed too, a clean wheel of each template by
`uv build --wheel` on each Python (on 3.14t Cython comes only as its
pure-Python wheel, so it runs uncompiled): wall time and CPU seconds.

    nox -s bench_freethreaded [-- --reps 3 --gil-python PATH]
"""

from __future__ import annotations

import json
import resource
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from tools.inspect.host import describe, machine
from tools.inspect.pythons import find, venv_python
from tools.instruments import steps
from tools.instruments.measure import Task, command_line, fmt_spread, interleave, md_table, parser, report, uncached
from tools.make.build import StepFailed
from tools.registry.variants import default_builds

# Terms per call: about 0.1-0.5 s per call for the kernels and for the twin.
TERMS = {"compiled": 10**8, "twin": 2 * 10**6}
THREADS = (1, 2)

# Run in each Python's venv: every build and its twin, each call's answer checked.
CHILD = """
import importlib, json, statistics, sys, time

def ns(function, n, **kw):
    want = twin.exact(0, n)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        got = function(0, n, **kw)
        times.append(time.perf_counter() - t0)
        if got != want:
            sys.exit(f"{function.__module__}.{function.__name__}(0, {n}, {kw}) = {got!r}, not {want}: not timed")
    return statistics.median(times) / n * 1e9

terms, threads = json.loads(sys.argv[1]), json.loads(sys.argv[2])
results = {}
for name in sys.argv[3:]:
    build = importlib.import_module(name)
    twin = build.twin
    n = terms["compiled"]
    results[name] = {"do_math": ns(build.do_math, n)}
    for t in threads:
        results[name][f"do_math_threaded {t}"] = ns(build.do_math_threaded, n, workers=t)
        results[name][f"do_math_parallel {t}"] = ns(build.do_math_parallel, n, workers=t)
n = terms["twin"]
results["twin"] = {"do_math": ns(twin.do_math, n)}
for t in threads:
    results["twin"][f"do_math_threaded {t}"] = ns(twin.do_math_threaded, n, workers=t)
print(json.dumps({"gil": sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True,
                  "python": sys.version, "results": results}))
"""


def gil_python(asked: str | None) -> str:
    """The CPython with the GIL to compare with: --gil-python, else a python3.13 that runs (pyenv's, then PATH's)."""
    if asked:
        return asked
    pyenv = Path.home() / ".pyenv" / "versions"
    candidates = [str(v / "bin" / "python3.13") for v in sorted(pyenv.glob("3.13.*"), reverse=True)]
    candidates += [found] if (found := shutil.which("python3.13")) else []
    for python in candidates:  # a pyenv shim of a version not selected exits 127
        if (
            Path(python).exists()
            and subprocess.run([python, "-c", ""], capture_output=True, check=False).returncode == 0
        ):
            return python
    msg = "no python3.13 that runs (pyenv, PATH): name a CPython with the GIL with --gil-python"
    raise StepFailed(msg)


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(args) -> dict:
    uncached()
    free = find()
    if free is None:
        msg = "no free-threaded CPython >= 3.14 found (PATH, pyenv, uv): nothing to measure"
        raise StepFailed(msg)
    pythons = {"3.14t": free, "3.13": gil_python(args.gil_python)}
    work = Path(args.out) / "freethreading-work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    variants = default_builds()
    venvs = {}
    for tag, python in pythons.items():
        subprocess.run([python, "-m", "venv", str(work / tag)], check=True)
        venvs[tag] = venv_python(work / tag)
        subprocess.run([venvs[tag], "-m", "pip", "install", "--quiet", "pip>=25"], check=True)

    # Clean wheels of each template on each Python: wall and CPU seconds (a uv build's children).
    cpu: dict[tuple[str, str], list[float]] = {}
    wheels: dict[tuple[str, str], Path] = {}

    def build_task(tag: str, v) -> Task:
        def run() -> float:
            before = _cpu_children()
            seconds, wheel = steps.variant_wheel(venvs[tag], v, work / f"builds-{tag}")
            cpu.setdefault((tag, v.backend), []).append(_cpu_children() - before)
            wheels[tag, v.backend] = wheel
            return seconds

        (work / f"builds-{tag}").mkdir(exist_ok=True)
        return Task((tag, v.backend), f"{v.backend} wheel on {tag}", run, estimate=60 if tag == "3.14t" else 20)

    tasks = [build_task(tag, v) for tag in pythons for v in variants]
    wall = interleave(tasks, args.reps, args.seed, "clean wheels")
    for tag in pythons:
        subprocess.run([venvs[tag], "-m", "pip", "install", "--quiet", *map(str, _of(wheels, tag))], check=True)

    configs = {"3.14t": [venvs["3.14t"]], "3.14t -X gil=1": [venvs["3.14t"], "-X", "gil=1"], "3.13": [venvs["3.13"]]}
    raw: dict[str, list[dict]] = {config: [] for config in configs}

    def speed_task(config: str) -> Task:
        def run() -> None:
            cmd = [*configs[config], "-c", CHILD, json.dumps(TERMS), json.dumps(THREADS), *(v.name for v in variants)]
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
            if done.returncode != 0:
                msg = f"{config}: {done.stderr[-2000:]}"
                raise StepFailed(msg)
            raw[config].append(json.loads(done.stdout.strip().splitlines()[-1]))

        return Task(config, f"speed on {config}", run, estimate=25)

    interleave([speed_task(c) for c in configs], args.reps, args.seed, "speed")
    return {
        "command": command_line("bench_freethreaded", args.argv),
        "machine": machine(),
        "pythons": {tag: _version(python) for tag, python in pythons.items()},
        "gil": {config: [run["gil"] for run in runs] for config, runs in raw.items()},
        "terms": TERMS,
        "speed": {config: _by_cell(runs) for config, runs in raw.items()},
        "build_wall": {f"{tag} {backend}": times for (tag, backend), times in wall.items()},
        "build_cpu": {f"{tag} {backend}": times for (tag, backend), times in cpu.items()},
        "reps": args.reps,
    }


def _of(wheels: dict[tuple[str, str], Path], tag: str) -> list[Path]:
    return [wheel for (t, _), wheel in wheels.items() if t == tag]


def _version(python: str) -> str:
    return subprocess.run([python, "-VV"], capture_output=True, text=True, check=True).stdout.strip()


def _by_cell(runs: list[dict]) -> dict[str, dict[str, list[float]]]:
    """{implementation: {function and threads: [ns per element, one per repetition]}}."""
    cells: dict[str, dict[str, list[float]]] = {}
    for run in runs:
        for impl, values in run["results"].items():
            for key, value in values.items():
                cells.setdefault(impl, {}).setdefault(key, []).append(value)
    return cells


def _speedup(cells: dict[str, list[float]], function: str) -> str:
    one, two = cells.get(f"{function} 1"), cells.get(f"{function} 2")
    if not one or not two:
        return ""
    return f"{statistics.median(one) / statistics.median(two):.2f}x"


def markdown(data: dict) -> str:
    configs = list(data["speed"])
    lines = [
        "# Threads with and without the GIL",
        "",
        (
            f"`{data['command']}`, {describe(data['machine'])}, load {data['machine']['load_average']}; "
            f"{data['reps']} interleaved repetitions, median (min\u2013max) of the repetitions' medians of 3 calls."
        ),
        "",
        *(f"- `{tag}`: {version}" for tag, version in data["pythons"].items()),
        f"- the GIL during the timed calls: {', '.join(f'{c}: {set(g)}' for c, g in data['gil'].items())}",
        "",
        "## ns per element (lower is faster)",
        "",
    ]
    rows = [["implementation", "function, threads", *configs]]
    impls = list(data["speed"][configs[0]])
    for impl in impls:
        for key in data["speed"][configs[0]][impl]:
            rows.append([impl, key, *(fmt_spread(data["speed"][c][impl][key], ".2f") for c in configs)])
    lines += [md_table(rows, "ll" + "r" * len(configs)), "", "## 2 threads against 1 (medians)", ""]
    rows = [["implementation", "function", *configs]]
    for impl in impls:
        for function in ("do_math_threaded", "do_math_parallel"):
            cells = [_speedup(data["speed"][c][impl], function) for c in configs]
            if any(cells):
                rows.append([impl, function, *cells])
    lines += [md_table(rows, "ll" + "r" * len(configs)), "", "## Clean wheel build (`uv build --wheel`)", ""]
    rows = [["build", "wall, s", "CPU, s"]]
    for key, times in data["build_wall"].items():
        rows.append([key, fmt_spread(times), fmt_spread(data["build_cpu"].get(key, []))])
    return "\n".join([*lines, md_table(rows, "lrr"), ""])


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    p = parser("bench_freethreaded", __doc__, "freethreading")
    p.add_argument("--gil-python", help="a CPython with the GIL to compare with (default: python3.13)")
    args = p.parse_args(argv)
    args.argv = argv
    report("freethreading", measure, markdown, args)


if __name__ == "__main__":
    main()
