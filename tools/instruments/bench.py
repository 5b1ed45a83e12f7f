"""Time every installed build against the others, the twin, NumPy and Numba.

Run by `nox -s bench` in an environment holding the wheels from dist/ and
the bench dependency group; `python -m tools.instruments.bench --help` lists the options.

Method: every implementation's answer is checked against the closed-form
total before it is timed (a wrong answer is reported WRONG and never timed);
the element count of each is calibrated so one call takes about --target
seconds; after a warm-up, R rounds each run every implementation once in a
shuffled order, and the median of the R times is reported.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import importlib.util
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tools.inspect.elf import count_square_roots, square_roots
from tools.inspect.host import best_level, describe, has_level, machine
from tools.make.render import ROOT
from tools.registry.backends import PLACEHOLDER
from tools.registry.variants import VARIANTS

HERE = Path(__file__).resolve().parent
CENTER = 1_000_000


@dataclass
class Impl:
    name: str  # e.g. "meson do_math_parallel x2"
    family: str  # a variant's label ("meson", "meson_clang"), "twin", "C portable", "numpy", "numba"
    kernel: str  # "serial", "threads", "parallel", "vectorized"
    workers: int
    func: Callable[[int, int], float] = field(repr=False)
    size: int = 0
    answer: str = ""  # "exact", "bounded" or "WRONG: ..."
    # The square-root instructions in its machine code, as read there (objdump,
    # Numba's inspect_asm), or why not read; "none" marks a loop that skipped the work.
    square_roots: str = "not read"
    times: list[float] = field(default_factory=list)


def numpy_impls() -> list[Impl]:
    """NumPy as a user writes it (np.sqrt of the square), and with the shortcut written out (np.abs)."""
    import numpy as np

    def chunked(term):
        def numpy_sum(start: int, num: int) -> float:
            # Chunked so memory stays bounded; np.sum's pairwise summation is
            # exact here for the same reason the loops are (integer terms).
            total, chunk = 0.0, 1 << 20
            for lo in range(start, num, chunk):
                x = np.arange(lo + 1 - CENTER, min(lo + chunk, num) + 1 - CENTER, dtype=np.float64)
                total += float(term(x).sum())
            return total

        return numpy_sum

    return [
        Impl("numpy chunked", "numpy", "vectorized", 1, chunked(lambda x: np.sqrt(x * x)), square_roots="np.sqrt"),
        # sqrt(x * x) is |x| for these terms: the shortcut a compiler may take, in plain sight.
        Impl("numpy np.abs", "numpy abs", "vectorized", 1, chunked(np.abs), square_roots="none (np.abs)"),
    ]


def numba_impls() -> list[Impl]:
    """Numba as written for the lecture's loop, and with fastmath=True, serial and parallel."""
    import math

    import numba

    def serial(start, num):
        total = 0.0
        for pos in range(start + 1, num + 1):
            x = float(pos - CENTER)
            total += math.sqrt(x * x)
        return total

    def parallel(start, num):
        total = 0.0
        for pos in numba.prange(start + 1, num + 1):
            x = float(pos - CENTER)
            total += math.sqrt(x * x)
        return total

    threads = numba.get_num_threads()
    impls = []
    for fastmath in (False, True):
        family = "numba fastmath" if fastmath else "numba"
        one = numba.njit(cache=False, fastmath=fastmath)(serial)
        many = numba.njit(parallel=True, cache=False, fastmath=fastmath)(parallel)
        impls.append(Impl(f"{family} njit", family, "serial", 1, one))
        impls.append(Impl(f"{family} parallel x{threads}", family, "parallel", threads, many))
    return impls


def numba_square_roots(impl: Impl) -> str:
    """The square-root instructions in a compiled Numba function's machine code (after its first call)."""
    return square_roots_text(count_square_roots("\n".join(impl.func.inspect_asm().values())))


def square_roots_text(counts: dict[str, int] | None) -> str:
    """ "none" when the code takes no square root (the work was skipped), else each instruction and its count."""
    if counts is None:
        return "not read (not ELF, or no objdump)"
    return ", ".join(f"{k} x{n}" for k, n in counts.items()) or "none"


# The C reference (reference.c): the loop of the core's hand-written C,
# shared/mathcore/sum_sqrt.c, the very file the builds compile into _kernels,
# driven by a plain OpenMP loop and compiled portable, for x86-64-v3, for
# x86-64-v4 and for this CPU (-march=native): what each build's kernel is
# measured against. The level each needs of the CPU.
REFERENCE_FLAGS = {
    "portable": ([], None),
    "x86-64-v3": (["-march=x86-64-v3"], "x86-64-v3"),
    "x86-64-v4": (["-march=x86-64-v4"], "x86-64-v4"),
    "native": (["-march=native"], None),
}
KERNEL_C = ROOT / "shared" / PLACEHOLDER / "sum_sqrt.c"


def reference_impls(cores: int, work: Path) -> list[Impl]:
    """The C reference, compiled with $CC (default cc) for each level the compiler and this CPU accept."""
    import ctypes
    import shlex
    import subprocess

    cc = shlex.split(os.environ.get("CC", "cc"))
    impls = []
    for label, (flags, level) in REFERENCE_FLAGS.items():
        # A CPU without the instructions would die of SIGILL: ask it first.
        if level and not has_level(level):
            print(f"C reference {label}: this CPU lacks it, not run")
            continue
        lib = work / f"reference-{label}.so"
        cmd = [*cc, "-shared", "-fPIC", "-O3", "-fno-math-errno", "-fopenmp", *flags, f"-I{KERNEL_C.parent}"]
        cmd += ["-o", str(lib), str(HERE / "reference.c"), str(KERNEL_C)]
        try:
            subprocess.run(cmd, check=True, capture_output=True, text=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"C reference {label}: not built ({' '.join(cmd)}: {getattr(exc, 'stderr', exc) or exc})")
            continue
        function = ctypes.CDLL(str(lib)).reference_sum
        function.restype, function.argtypes = ctypes.c_double, [ctypes.c_longlong, ctypes.c_longlong, ctypes.c_int]
        roots = square_roots_text(square_roots(lib))
        name = f"C {label}" if label != "native" else f"C native ({best_level()})"
        for w in sorted({1, cores}):
            impls.append(
                Impl(
                    f"{name} x{w}",
                    f"C {label}",
                    "parallel",
                    w,
                    lambda a, b, f=function, w=w: f(a, b, w),
                    square_roots=roots,
                )
            )
    return impls


def quiet_idle_libomp() -> str | None:
    """With gcc's and clang's builds in one process, make LLVM's idle OpenMP workers sleep at once.

    gcc's builds run on libgomp, clang's on libomp: two thread pools. After a
    parallel region libomp's workers spin for 200 ms (KMP_BLOCKTIME), and the
    next libgomp team then shares the cores with them: in quick bench runs on
    2 cores here, gcc's do_math_parallel x2 measured 0.57-0.61 ns/element (and
    once 39) against 0.31 alone, and 0.31 again with KMP_BLOCKTIME=0
    (OMP_WAIT_POLICY=passive did not help). Set before the runtimes load; one
    already set is kept. Returns the setting used, for the report.
    """
    compilers = {v.compiler for v in VARIANTS if importlib.util.find_spec(v.name) is not None}
    if len(compilers) < 2:
        return None
    os.environ.setdefault("KMP_BLOCKTIME", "0")
    return f"KMP_BLOCKTIME={os.environ['KMP_BLOCKTIME']}"


def collect(peers: bool, work: Path) -> tuple[list[Impl], dict, object, int]:
    """Every implementation to time, the build_info of each build, the twin, and the cores used."""
    modules = {}
    for v in VARIANTS:  # every variant installed here, gcc's and clang's
        try:
            modules[v.label] = importlib.import_module(v.name)
        except ImportError:
            continue
    if not modules:
        sys.exit("no build is installed: run `nox -s build` (or build_<backend>, build_clang) first")
    twin = next(iter(modules.values())).twin
    cores = twin._available_cores()  # "all cores" exactly as workers=None means it
    impls, builds = [], {}
    for backend, mod in modules.items():
        builds[backend] = mod.build_info()
        # The loop is in _kernels: every function of the build runs its machine code.
        roots = square_roots_text(square_roots(Path(importlib.import_module(f"{mod.__name__}._kernels").__file__)))
        builds[backend]["square_roots"] = roots
        impls.append(Impl(f"{backend} do_math", backend, "serial", 1, mod.do_math, square_roots=roots))
        for w in sorted({1, cores}):
            for fname, kernel in (("do_math_threaded", "threads"), ("do_math_parallel", "parallel")):
                f = getattr(mod, fname)
                impls.append(
                    Impl(
                        f"{backend} {fname} x{w}",
                        backend,
                        kernel,
                        w,
                        lambda a, b, f=f, w=w: f(a, b, w),
                        square_roots=roots,
                    )
                )
    impls.append(Impl("twin do_math", "twin", "serial", 1, twin.do_math, square_roots="math.sqrt"))
    impls.append(
        Impl(
            f"twin do_math_threaded x{cores}",
            "twin",
            "threads",
            cores,
            lambda a, b: twin.do_math_threaded(a, b, cores),
            square_roots="math.sqrt",
        )
    )
    impls += reference_impls(cores, work)
    if peers:
        impls += numpy_impls()
        impls += numba_impls()
    return impls, builds, twin, cores


def check(impl: Impl, twin, start: int, num: int) -> str:
    """'exact' (total below 2**53: must be equal), 'bounded' (above: within n * 2**-53 relative) or 'WRONG: ...'."""
    try:
        got = impl.func(start, num)
    except Exception as exc:  # noqa: BLE001 - a crash is a wrong answer too
        return f"WRONG: raised {exc!r}"
    want = twin.exact(start, num)
    if want < twin.LIMIT:
        return "exact" if got == want else f"WRONG: {got!r} != {want}"
    if abs(got - want) <= (num - start) * 2.0**-53 * want:
        return "bounded"
    return f"WRONG: {got!r} is not within n * 2**-53 of {want}"


def timed(func: Callable[[int, int], float], n: int) -> float:
    t0 = time.perf_counter()
    func(0, n)
    return time.perf_counter() - t0


def calibrate(impl: Impl, target: float, size: int | None) -> int:
    if size and impl.family != "twin":
        return size
    n = 10_000
    while (dt := timed(impl.func, n)) < target / 8 and n < 10**12:
        n *= 8
    n = max(1, int(n * target / dt))
    return max(1, int(n * target / timed(impl.func, n)))  # once more, at full size


def run(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as work:
        return _run(args, Path(work))


def _run(args: argparse.Namespace, work: Path) -> dict:
    setting = quiet_idle_libomp()
    if setting:
        print(f"gcc's and clang's builds in one process: {setting} (see quiet_idle_libomp)", flush=True)
    impls, builds, twin, cores = collect(not args.no_peers, work)
    info = machine(cores)
    if info["load_average"] and info["load_average"][0] > 0.5 * cores:
        print(f"warning: load average {info['load_average'][0]:.1f} on {cores} cores: timings will be noisy")
    print(f"checking answers and calibrating {len(impls)} implementations (~{args.target:g} s per call)", flush=True)
    for impl in impls:
        impl.func(0, 1000)  # warm-up (Numba compiles here, outside any timing)
        if impl.family.startswith("numba"):
            impl.square_roots = numba_square_roots(impl)
        impl.answer = check(impl, twin, 999_000, 1_001_003)
        if impl.answer.startswith("WRONG"):
            print(f"  {impl.name:34s} {impl.answer}: not timed", flush=True)
            continue
        impl.size = calibrate(impl, args.target, args.size)
        impl.answer = check(impl, twin, 0, impl.size)
        print(f"  {impl.name:34s} n={impl.size:>14,d}  {impl.answer}", flush=True)
    timed_impls = [i for i in impls if not i.answer.startswith("WRONG")]
    rng = random.Random(args.seed)
    for r in range(args.rounds):
        order = timed_impls[:]
        rng.shuffle(order)
        t0 = time.perf_counter()
        for impl in order:
            impl.times.append(timed(impl.func, impl.size))
        print(f"round {r + 1}/{args.rounds} done in {time.perf_counter() - t0:.1f} s", flush=True)
    info["load_average_after"] = machine(cores)["load_average"]
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": " ".join(["nox -s bench", *(["--", *sys.argv[1:]] if sys.argv[1:] else [])]),
        "method": {"rounds": args.rounds, "target_s": args.target, "seed": args.seed, "openmp_env": setting},
        "machine": info,
        "builds": builds,
        "peer_versions": {} if args.no_peers else {n: importlib.metadata.version(n) for n in ("numpy", "numba")},
        "results": [{k: v for k, v in asdict(i).items() if k != "func"} for i in impls],
    }


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


def markdown(data: dict, rows: list[dict]) -> str:
    m = data["machine"]
    builds = "\n".join(
        f"- {b}: kernel {i.get('kernel', '-')}, OpenMP {i['openmp']} ({i['openmp_threads']} threads), Cython {i['cython']}, "
        f"compiler {i['compiler']}, flags {', '.join(k for k, v in i['flags'].items() if v) or 'none'}"
        for b, i in data["builds"].items()
    )
    peers = ", ".join(f"{name} {version}" for name, version in data.get("peer_versions", {}).items())
    return f"""# Bench

{data["date"]} · `{data["command"]}` · {describe(m)} · Python {m["python"]} · {m["platform"]}
· load average before {m["load_average"]}, after {m["load_average_after"]}

Median of {data["method"]["rounds"]} interleaved rounds (shuffled order each round); each call sized to about
{data["method"]["target_s"]} s. "vs twin": speedup over the pure-Python loop, per element. "efficiency": speedup over
the same family's serial kernel, divided by the number of workers. Every answer was checked against the closed-form
total before timing: "exact" equal to it (totals below 2⁵³), "bounded" within n·2⁻⁵³ of it (totals above).
{_openmp_env_line(data)}

{table(rows)}

† No square root in its machine code: sqrt(x·x) became |x|, which is exact for these terms, so the answer is
right and the work was skipped; the lecture's "5,596 times faster" was the same move with a wrong answer. Square
roots are read from the machine code: objdump of each build's `_kernels` and of the C reference, Numba's
`inspect_asm()`; NumPy's from the code written (np.sqrt, np.abs).

Against the C reference (tools/instruments/reference.c: the loop of `_kernels.pyx`, compiled for each level; 1.00 is
its speed), on {m["cpu"]} ({m.get("instruction_sets", "-")}):
{reference_ratios(rows)}

Builds:
{builds}

Peers: {peers or "not run"}.
"""


# One colour per backend; its clang build has the same colour, hatched.
VARIANT_COLORS = {v.label: v.spec.color for v in VARIANTS}


def chart(rows: list[dict], path: Path) -> None:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    timed_rows = [r for r in rows if r["ns"] is not None]
    colors = {**VARIANT_COLORS, "C native": "#c44e52"}
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(timed_rows) + 2))
    ticks, labels, y, group = [], [], 0.0, None
    for r in timed_rows:
        if group is not None and (r["kernel"], r["workers"]) != group:
            y += 0.6  # a gap between kernels
        group = (r["kernel"], r["workers"])
        # clang's builds: the colour of their backend, hatched.
        hatch = "//" if r["family"].endswith("_clang") else None
        ax.barh(y, r["ns"], color=colors.get(r["family"], "#8c8c8c"), hatch=hatch, edgecolor="white")
        ax.text(r["ns"] * 1.05, y, f"{r['ns']:.2f}", va="center", fontsize=8)
        ticks.append(y)
        labels.append(f"{r['name']} † (no sqrt)" if skipped_the_work(r) else r["name"])
        y += 1
    shown = [f for f in colors if any(r["family"] == f for r in timed_rows)]
    handles = [
        plt.Rectangle(
            (0, 0), 1, 1, facecolor=colors[f], hatch="//" if f.endswith("_clang") else None, edgecolor="white"
        )
        for f in shown
    ]
    handles.append(plt.Rectangle((0, 0), 1, 1, color="#8c8c8c"))
    ax.legend(handles, [*shown, "peers, twin, C portable"], loc="lower right", fontsize=8)
    ax.set_yticks(ticks, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("ns per element (log scale, lower is faster)")
    ax.set_title("Sum of sqrt((pos - 1e6)²): every build, the twin, NumPy and Numba († skipped the square roots)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="nox -s bench --", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--target", type=float, default=0.3, help="seconds per call to size for (default 0.3)")
    parser.add_argument(
        "--size",
        type=int,
        help="elements per call for every compiled and peer implementation "
        "(the pure-Python twin stays calibrated to --target)",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 rounds of ~0.02 s calls")
    parser.add_argument("--no-peers", action="store_true", help="skip NumPy and Numba")
    parser.add_argument("--seed", type=int, default=0, help="seed of the shuffled order")
    parser.add_argument("--out", type=Path, default=ROOT / "reports", help="where bench.json/.md/.png go")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.target = 2, 0.02
    if args.rounds < 1 or args.target <= 0 or (args.size is not None and args.size < 1):
        parser.error("--rounds, --target and --size must be positive")
    data = run(args)
    rows = sorted(summarize(data), key=order_key)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(data, indent=2) + "\n")
    (args.out / "bench.md").write_text(markdown(data, rows))
    chart(rows, args.out / "bench.png")
    print()
    print(table(rows))
    print(reference_ratios(rows))
    print(f"\nwrote {args.out / 'bench.json'}, bench.md and bench.png")
    if any(r["answer"].startswith("WRONG") for r in rows):
        sys.exit("some implementations gave a WRONG answer (see the table): they were not timed")


if __name__ == "__main__":
    main()
