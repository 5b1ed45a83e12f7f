"""How bench times: each answer checked against the closed form, each call sized, rounds in a shuffled order."""

from __future__ import annotations

import argparse
import importlib.metadata
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from tools.inspect.host import machine
from tools.instruments.bench.impls import Impl, collect, numba_square_roots, quiet_idle_libomp


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
        "smoke": args.quick,
        "method": {"rounds": args.rounds, "target_s": args.target, "seed": args.seed, "openmp_env": setting},
        "machine": info,
        "builds": builds,
        "peer_versions": {} if args.no_peers else {n: importlib.metadata.version(n) for n in ("numpy", "numba")},
        "results": [{k: v for k, v in asdict(i).items() if k != "func"} for i in impls],
    }
