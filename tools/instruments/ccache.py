"""ccache and the three backends: a clean build with a cold cache, then one with a warm cache: `nox -s compare_ccache`.

    python -m tools.instruments.ccache [--backends B ...] [--reps N] [--seed S] [--out DIR]

Per backend, each repetition in a new shuffled order across the backends
(measure.interleave), each build from a fresh rendered copy of the template
in a folder of its own, with the backend's ccache switch
(tools/registry/backends.py) and a new, empty CCACHE_DIR:

- wheel: a clean isolated wheel build, the user's path (`uv build --wheel`),
  cold; then another fresh copy built with the same cache, warm;
- plain wheel: the same without the switch's CCACHE_BASEDIR and
  CCACHE_NOHASHDIR, where it sets them (setuptools, CMake): what they bring;
- editable: the same with `pip install --no-build-isolation -e`, into a
  virtual environment of the backend's own holding its build requirements.

Each build's hits and misses are `ccache --print-stats` on its cache (zeroed
before the warm build); the times are medians over the repetitions. Without
ccache on PATH it says so in one line and measures nothing. Writes
reports/ccache.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tools.inspect.host import describe, machine
from tools.instruments import steps
from tools.instruments.measure import Task, command_line, interleave, md_table, median, report, workdir
from tools.instruments.measure import parser as instrument_parser
from tools.instruments.scale import build_requires
from tools.make.envs import editable, venv
from tools.make.render import ROOT
from tools.registry.backends import CCACHE_TMP, NAMES, PLACEHOLDER
from tools.registry.backends import backend as backend_of

KINDS = ("wheel", "plain wheel", "editable")


def stats(cache: Path) -> dict[str, int]:
    """Hits (direct, preprocessed) and misses of the cache in `cache` since it was last zeroed."""
    env = {**os.environ, "CCACHE_DIR": str(cache)}
    done = subprocess.run(["ccache", "--print-stats"], capture_output=True, text=True, env=env, check=False)
    if done.returncode == 0:  # ccache 4.7+: one "key<TAB>value" a line
        values = dict(line.split("\t", 1) for line in done.stdout.splitlines() if "\t" in line)
        keys = {"direct": "direct_cache_hit", "preprocessed": "preprocessed_cache_hit", "miss": "cache_miss"}
        return {key: int(values.get(name, 0)) for key, name in keys.items()}
    text = subprocess.run(["ccache", "-s"], capture_output=True, text=True, env=env, check=False).stdout
    patterns = {"direct": r"(?:Direct:|cache hit \(direct\))\s+(\d+)", "miss": r"(?:Misses:|cache miss)\s+(\d+)"}
    patterns["preprocessed"] = r"(?:Preprocessed:|cache hit \(preprocessed\))\s+(\d+)"
    return {key: int(m[1]) if (m := re.search(pattern, text)) else 0 for key, pattern in patterns.items()}


def hit_rate(counts: dict[str, int]) -> float | None:
    hits = counts["direct"] + counts["preprocessed"]
    return hits / (hits + counts["miss"]) if hits + counts["miss"] else None


def pair(backend: str, kind: str, work: Path, results: dict, python: str | None) -> Callable[[], None]:
    """A task: a cold build of a fresh copy with a new cache, then a warm one of another copy; both recorded."""
    spec = backend_of(backend)
    name = f"{PLACEHOLDER}_{backend}"
    args, env = spec.ccache.named(name)
    if kind == "plain wheel":
        env = {k: v for k, v in env.items() if k not in CCACHE_TMP}

    def build(cache: Path) -> float:
        project = steps.fresh(backend, work, name=name)
        environ = {**env, "CCACHE_DIR": str(cache)}
        try:
            if kind.endswith("wheel"):
                return steps.wheel(sys.executable, project, project / "wheel-out", args=args, env=environ)
            return editable(python, backend, project, args, environ)
        finally:
            shutil.rmtree(project, ignore_errors=True)

    def run() -> None:
        cache = Path(tempfile.mkdtemp(dir=work, prefix=f"cache-{backend}-"))
        record = results[backend][kind]
        record["cold_s"].append(build(cache))
        record["cold"].append(stats(cache))
        subprocess.run(["ccache", "-z"], env={**os.environ, "CCACHE_DIR": str(cache)}, capture_output=True, check=True)
        record["warm_s"].append(build(cache))
        record["warm"].append(stats(cache))
        shutil.rmtree(cache, ignore_errors=True)

    return run


def measure(args: argparse.Namespace) -> dict:
    kinds = {
        b: [k for k in KINDS if k != "plain wheel" or CCACHE_TMP.keys() <= backend_of(b).ccache.env.keys()]
        for b in args.backends
    }
    results = {b: {k: {"cold_s": [], "cold": [], "warm_s": [], "warm": []} for k in kinds[b]} for b in args.backends}
    with workdir("ccache-") as work:
        pythons = {}
        for b in args.backends:  # the editable installs' environments, made once and not timed
            pythons[b] = venv(work / f"venv-{b}", [*build_requires(ROOT / b), *backend_of(b).dev_tools])
        tasks = [
            Task((b, k), f"{b} {k}: cold, then warm", pair(b, k, work, results, pythons[b]), 2 * backend_of(b).seconds)
            for b in args.backends
            for k in kinds[b]
        ]
        interleave(tasks, args.reps, args.seed, "ccache")
    version = subprocess.run(["ccache", "--version"], capture_output=True, text=True, check=False).stdout
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": command_line("compare_ccache", sys.argv[1:]),
        "machine": machine(),
        "ccache": version.splitlines()[0] if version else "?",
        "reps": args.reps,
        "switches": {b: backend_of(b).ccache.named(f"{PLACEHOLDER}_{b}") for b in args.backends},
        "results": results,
    }


def _counts(runs: list[dict[str, int]]) -> str:
    """The last run's hits and misses, and its hit rate: "2 direct + 0 preprocessed / 0 missed (100 %)"."""
    last = runs[-1]
    rate = hit_rate(last)
    shown = "-" if rate is None else f"{rate:.0%}"
    return f"{last['direct']} direct + {last['preprocessed']} preprocessed / {last['miss']} missed ({shown})"


def markdown(data: dict) -> str:
    rows = [["backend", "build", "cold (s)", "warm (s)", "cold: hits / misses", "warm: hits / misses"]]
    for b, kinds in data["results"].items():
        for k, r in kinds.items():
            cold, warm = median(r["cold_s"]), median(r["warm_s"])
            rows.append([b, k, f"{cold:.1f}", f"{warm:.1f}", _counts(r["cold"]), _counts(r["warm"])])
    switches = "\n".join(
        f"- {b}: `{' '.join([*(f'{k}={v}' for k, v in env.items()), *args]) or 'nothing: on by itself'}`"
        for b, (args, env) in data["switches"].items()
    )
    return f"""# ccache

{data["date"]} · `{data["command"]}` · {data["ccache"]} · Python {data["machine"]["python"]}
· {describe(data["machine"])}, load {data["machine"]["load_average"]}

Each build from a fresh copy of the template in a new folder: cold with a new, empty CCACHE_DIR, then warm
with the same cache. "wheel": `uv build --wheel` (isolated); "plain wheel": the same without the switch's
`CCACHE_BASEDIR` and `CCACHE_NOHASHDIR`; "editable": `pip install --no-build-isolation -e`.
Times: median of {data["reps"]} repetition(s), interleaved; hits and misses: the last repetition's
(`ccache --print-stats`).

{md_table(rows, "llrrll")}

Switches (tools/registry/backends.py):

{switches}
"""


def main(argv: list[str] | None = None) -> int:
    parser = instrument_parser("compare_ccache", __doc__, "ccache")
    parser.add_argument("--backends", nargs="+", choices=NAMES, default=list(NAMES), help="default: all three")
    args = parser.parse_args(argv)
    if not shutil.which("ccache"):
        print("ccache is not on PATH: nothing measured")
        return 0
    _, json_path = report("ccache", measure, markdown, args)
    print(f"wrote {json_path} and ccache.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
