"""The compiler axis: each backend built by the default compiler (gcc here) and by clang with LLVM's OpenMP.

Run by `nox -s compare_compilers` in an environment with the compare
dependency group; `python -m tools.instruments.compilers --help` lists the options.
For every variant of tools/registry/variants.py whose compiler is on PATH:

- a clean wheel build of a fresh copy of the template, the user's path
  (`uv build --wheel`, isolated) with the variant's compiler and OpenMP
  switch; the builds of all variants are interleaved in a shuffled order in
  every repetition, and the median is reported;
- the wheel's size, and the OpenMP runtime its `_core` links (DT_NEEDED;
  "n/a" where the extension is not ELF: macOS, Windows);
- in a child process, with the wheel unpacked on its sys.path: the compiler
  (`build_info()`), and the kernels' speed as a quick look (median of 5
  calls over 10**8 terms; `nox -s bench` is the careful measurement);
- fork after OpenMP, in a child that first ran an OpenMP team, two ways:
  * "raw": fork() called from libc through ctypes. That skips os.fork()'s
    at-fork hooks, so the module does not know it is in a forked process and
    do_math_parallel starts an OpenMP team, as C code forked by a C library
    would. This is the runtime's own behaviour: GNU libgomp's pool does not
    survive fork() (the child waits forever), LLVM's libomp reinitializes
    itself in the child through pthread_atfork;
  * "os.fork": what Python users get: the module's fork hook makes
    do_math_parallel run on Python threads in the child, whatever the runtime.
  A child that has not answered within --fork-timeout seconds is killed
  and reported as hung. Where there is no fork() (Windows): "n/a".
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tools.inspect.dists import extension_libs
from tools.inspect.probes import SPEED, child, unpack
from tools.instruments import steps
from tools.instruments.measure import Task, command_line, interleave, md_table, median, report, uncached, workdir
from tools.instruments.measure import parser as instrument_parser
from tools.registry.variants import COMPILER_ENV, DEFAULT, VERSION_SPECIFIC, Variant, select

# The parent runs an OpenMP team on two threads, forks ("raw": libc's fork()
# through ctypes, no at-fork hooks; "os.fork": Python's), and the child calls
# do_math_parallel on two threads and sends back its answer and runner.
FORK = """
import ctypes, importlib, json, os, sys, time

build = importlib.import_module(sys.argv[1])
N = 10**7
want = build.twin.exact(0, N)
build.do_math_parallel(0, N, workers=2)
read, write = os.pipe()
# PyDLL keeps the GIL held across the call: the child resumes in this thread
# holding it, as it does after os.fork().
pid = ctypes.PyDLL(None).fork() if sys.argv[2] == "raw" else os.fork()
if pid == 0:
    os.close(read)
    t0 = time.perf_counter()
    value = build.do_math_parallel(0, N, workers=2)
    answer = {"exact": value == want, "seconds": time.perf_counter() - t0,
              "runner": build.build_info()["parallel_runner"]}
    os.write(write, json.dumps(answer).encode())
    os._exit(0)
os.close(write)
with os.fdopen(read) as pipe:
    answer = pipe.read()
_, status = os.waitpid(pid, 0)
print(answer or json.dumps({"crashed": os.waitstatus_to_exitcode(status)}), flush=True)
"""


def compiler_available(v: Variant) -> bool:
    """The default compiler is whatever the backend finds; another must be on PATH."""
    return v.compiler == DEFAULT or shutil.which(COMPILER_ENV[v.compiler].get("CC", v.compiler)) is not None


def build_step(py: str, v: Variant, work: Path, record: dict) -> float:
    """A clean wheel build of a fresh copy of v's template; keep the wheel for the probes."""
    seconds, record["wheel"] = steps.variant_wheel(py, v, work)
    return seconds


def probe(v: Variant, wheel: Path, work: Path, fork_timeout: float) -> dict:
    """Linkage, compiler, speed and fork behaviour of one built wheel."""
    libs = extension_libs(wheel).get("_core")
    site = unpack(wheel, work)
    print(f"probing {v.name}: speed", flush=True)
    result = {
        "wheel_bytes": wheel.stat().st_size,
        "needed": libs,
        "openmp_runtime": None if libs is None else [lib for lib in libs if "omp" in lib],
        **(child(SPEED, site, v.name, timeout=600) or {}),
    }
    for how in ("raw", "os.fork"):
        if not hasattr(os, "fork"):
            result[f"fork {how}"] = None
            continue
        print(f"probing {v.name}: fork ({how}) after OpenMP", flush=True)
        t0 = time.perf_counter()
        answer = child(FORK, site, v.name, how, timeout=fork_timeout)
        result[f"fork {how}"] = answer or {"hung": True, "killed_after_s": round(time.perf_counter() - t0, 1)}
    return result


def measure(args: argparse.Namespace) -> dict:
    py = sys.executable
    # The abi3 builds need Python 3.12: nox -s compare_abi.
    plain = {"abi": VERSION_SPECIFIC, "flags": "default", "utility": "module"}  # the compiler the only difference
    candidates = select(**plain, openmp="auto", target="host") + select(**plain, openmp="on")
    variants = [v for v in candidates if compiler_available(v)]
    for v in candidates:
        if v not in variants:
            print(f"{v.name}: {COMPILER_ENV[v.compiler].get('CC')} is not on PATH, not measured", flush=True)
    results: dict[str, dict] = {v.label: {"backend": v.backend, "compiler_axis": v.compiler} for v in variants}
    with workdir("compilers-") as work:
        tasks = [
            Task(v.label, f"{v.label}: wheel", lambda v=v: build_step(py, v, work, results[v.label]), v.spec.seconds)
            for v in variants
        ]
        times = interleave(tasks, args.reps, args.seed, "compilers")
        for v in variants:
            results[v.label].update(probe(v, Path(results[v.label].pop("wheel")), work, args.fork_timeout))
            results[v.label]["build_s"] = times[v.label]
            results[v.label]["build_median_s"] = median(times[v.label])
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": command_line("compare_compilers", sys.argv[1:]),
        "reps": args.reps,
        "python": sys.version.split()[0],
        "compilers": {cc: _version(cc) for cc in ("gcc", "clang") if shutil.which(cc)},
        "tools": steps.tool_versions(py),
        "fork_timeout_s": args.fork_timeout,
        "variants": results,
    }


def _version(cc: str) -> str:
    done = subprocess.run([cc, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.splitlines()[0] if done.stdout else "?"


def _fork_text(answer: dict | None) -> str:
    if answer is None:
        return "n/a"
    if answer.get("hung"):
        return f"HANGS (killed after {answer['killed_after_s']:g} s)"
    if "crashed" in answer:
        return f"CRASHES (exit status {answer['crashed']})"
    exact = "exact" if answer["exact"] else "WRONG answer"
    return f"survives: {exact} in {answer['seconds']:.2f} s on {answer['runner']}"


def rows(data: dict) -> list[list[str]]:
    v = data["variants"]
    labels = list(v)

    def each(fn) -> list[str]:
        return [fn(v[k]) for k in labels]

    def ns(key: str):
        return lambda r: f"{r[key]:.3f}" if r.get(key) is not None else "-"

    cores = next((r["cores"] for r in v.values() if "cores" in r), "all")
    return [
        ["", *labels],
        ["compiler (build_info)", *each(lambda r: r.get("compiler", "-"))],
        ["wheel build, uv isolated (s)", *each(lambda r: f"{r['build_median_s']:.1f}")],
        ["wheel size (kB)", *each(lambda r: f"{r['wheel_bytes'] / 1000:.1f}")],
        [
            "OpenMP runtime linked (DT_NEEDED)",
            *each(lambda r: "n/a" if r["openmp_runtime"] is None else ", ".join(r["openmp_runtime"]) or "none"),
        ],
        ["fork after OpenMP, raw (libc fork, no hooks)", *each(lambda r: _fork_text(r["fork raw"]))],
        ["fork after OpenMP, os.fork (module's hook)", *each(lambda r: _fork_text(r["fork os.fork"]))],
        ["do_math (ns/element)", *each(ns("do_math"))],
        [f"do_math_parallel x{cores} (ns/element)", *each(ns("do_math_parallel"))],
    ]


def markdown(data: dict) -> str:
    compilers = ", ".join(data["compilers"].values()) or "-"
    return f"""# Compilers

{data["date"]} · `{data["command"]}` · Python {data["python"]} · median of {data["reps"]} interleaved build(s)
· {compilers}

Clean wheel builds (`uv build --wheel`, isolated) from a fresh copy of each template, with the variant's
compiler and OpenMP switch (tools/registry/variants.py). "fork after OpenMP": the parent ran an OpenMP team on two threads,
then forked; the child calls `do_math_parallel(workers=2)`. "raw" forks through libc (ctypes), which skips
Python's at-fork hooks, so the module's fallback to Python threads does not engage: the OpenMP runtime's own
behaviour. "os.fork" is what Python users get. A child silent for {data["fork_timeout_s"]:g} s is killed.
Kernel times: median of 5 calls over 10⁸ terms, a quick look (`nox -s bench` is the careful one).

{md_table(rows(data))}
"""


def main(argv: list[str] | None = None) -> None:
    parser = instrument_parser("compare_compilers", __doc__, "compilers")
    # A healthy child answers in well under a second here.
    parser.add_argument("--fork-timeout", type=float, default=10.0, help="seconds before a forked child is hung")
    args = parser.parse_args(argv)
    uncached()
    if args.reps < 1 or args.fork_timeout <= 0:
        parser.error("--reps and --fork-timeout must be positive")
    _, json_path = report("compilers", measure, markdown, args)
    print(f"wrote {json_path} and compilers.md")


if __name__ == "__main__":
    main()
