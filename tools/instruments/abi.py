"""The ABI axis: each backend built for one CPython version (cp312-cp312) and as one abi3 wheel (cp312-abi3).

Run by `nox -s compare_abi` on Python 3.12, the abi3 floor (tools/registry/backends.py),
in an environment with the compare dependency group; `python -m tools.instruments.abi
--help` lists the options. For each backend, by this Python:

- clean wheel builds of fresh copies of the template (`uv build --wheel`,
  isolated), without and with the template's abi3 switch, all interleaved
  in a shuffled order in every repetition; the median is reported;
- each wheel's tag and size; the switch, and the code lines of the
  template's configuration that name the Limited API (the pattern is in
  tools/registry/backends.py);
- speed, in child processes with the wheel unpacked on sys.path, the two
  builds of every backend interleaved over --speed-reps rounds: each kernel
  over 10**8 terms, and a do_math call over 10 terms, where the Python-level
  work dominates (Cython's Limited API mode goes through the API's
  functions where it would otherwise reach into CPython's structures);
- the abi3 wheel on every newer CPython found on PATH (python3.13, ...):
  it imports, reports its Limited API and gives an exact answer. `nox -s
  test_abi3` runs the whole suite there.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tools.inspect.probes import SPEED, child, unpack
from tools.inspect.templates import code_lines
from tools.instruments import steps
from tools.instruments.measure import (
    StepFailed,
    Task,
    command_line,
    interleave,
    md_table,
    median,
    report,
    uncached,
    workdir,
)
from tools.instruments.measure import parser as instrument_parser
from tools.make.render import ROOT
from tools.registry.backends import NAMES
from tools.registry.variants import ABI3, ABI3_FLOOR, Variant, default_builds, select

KERNELS = ("do_math", "do_math_threaded", "do_math_parallel", "call_us")

# The abi3 wheel on another Python: imported from its unpacked files.
ON_PYTHON = """
import importlib, json, sys

build = importlib.import_module(sys.argv[1])
N = 10**7
print(json.dumps({
    "python": sys.version.split()[0],
    "limited_api": build.build_info()["limited_api"],
    "exact": build.do_math_parallel(0, N) == build.twin.exact(0, N),
}))
"""


# Exits 0 on a CPython with the GIL: a free-threaded one (3.14t) has no Limited API to load an abi3 module
# with (SystemError at import), and installers refuse the wheel there.
WITH_GIL = "import sys, sysconfig; sys.exit(bool(sysconfig.get_config_var('Py_GIL_DISABLED')))"


def newer_pythons() -> list[str]:
    """python3.X executables on PATH, newer than this one, with the GIL, that run (a pyenv shim of an unselected
    version does not)."""
    found = []
    for minor in range(sys.version_info.minor + 1, sys.version_info.minor + 10):
        exe = shutil.which(f"python3.{minor}")
        if exe and subprocess.run([exe, "-c", WITH_GIL], capture_output=True, check=False).returncode == 0:
            found.append(exe)
    return found


def limited_api_lines(v: Variant) -> list[str]:
    """The code lines of the template's configuration that name the Limited API, as "file: line"."""
    return [
        f"{name}: {line.strip()}"
        for name in v.spec.config_files
        for line in code_lines(ROOT / v.backend / name)
        if v.spec.limited_api_lines.search(line)
    ]


def measure(args: argparse.Namespace) -> dict:
    py = sys.executable
    if sys.version_info[:2] != tuple(map(int, ABI3_FLOOR.split("."))):
        msg = f"run on Python {ABI3_FLOOR}, the abi3 floor, so that both builds are for it: this is {sys.version.split()[0]}"
        raise StepFailed(msg)
    # The default compiler's builds, each backend's version-specific one and its abi3 one side by side.
    variants = sorted([*default_builds(), *select(abi=ABI3)], key=lambda v: NAMES.index(v.backend))
    results: dict[str, dict] = {v.label: {"backend": v.backend, "abi": v.abi} for v in variants}
    samples: dict[str, list[dict]] = {v.label: [] for v in variants}
    others = newer_pythons()
    with workdir("abi-") as work:
        wheels: dict[str, Path] = {}

        def build(v: Variant) -> float:
            seconds, wheels[v.label] = steps.variant_wheel(py, v, work)
            return seconds

        tasks = [Task(v.label, f"{v.label}: wheel", lambda v=v: build(v), v.spec.seconds) for v in variants]
        times = interleave(tasks, args.reps, args.seed, "abi: builds")
        sites = {v.label: unpack(wheels[v.label], work) for v in variants}

        def probe(code: str, v: Variant, timeout: float, python: str = py) -> dict:
            answer = child(code, sites[v.label], v.name, timeout=timeout, python=python)
            if answer is None:
                msg = f"{v.name} on {python}: no answer within {timeout:g} s, killed"
                raise StepFailed(msg)
            return answer

        def speed(v: Variant) -> None:
            samples[v.label].append(probe(SPEED, v, 600))

        tasks = [Task(v.label, f"{v.label}: speed", lambda v=v: speed(v), 3.0) for v in variants]
        interleave(tasks, args.speed_reps, args.seed, "abi: speed")
        for v in variants:
            wheel, first = wheels[v.label], samples[v.label][0]
            r = results[v.label]
            r.update(
                wheel=wheel.name,
                tag="-".join(wheel.stem.split("-")[-3:]),
                wheel_bytes=wheel.stat().st_size,
                build_s=times[v.label],
                build_median_s=median(times[v.label]),
                limited_api=first["limited_api"],
                cores=first["cores"],
                **{k: median([s[k] for s in samples[v.label]]) for k in KERNELS},
            )
            if v.abi == ABI3:
                r["switch"] = v.switches()
                r["lines"] = limited_api_lines(v)
                r["elsewhere"] = [probe(ON_PYTHON, v, 120, exe) for exe in others]
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": command_line("compare_abi", sys.argv[1:]),
        "reps": args.reps,
        "speed_reps": args.speed_reps,
        "python": sys.version.split()[0],
        "tools": steps.tool_versions(py),
        "variants": results,
    }


def _files(lines: list[str]) -> str:
    return ", ".join(dict.fromkeys(line.partition(":")[0] for line in lines))


def rows(data: dict) -> list[list[str]]:
    v = data["variants"]
    labels = list(v)
    cores = next(iter(v.values()))["cores"]

    def each(fn) -> list[str]:
        return [fn(v[k]) for k in labels]

    def versus(key: str, digits: int):
        """The value, and for an abi3 build its ratio to the same backend's version-specific build."""

        def cell(r: dict) -> str:
            text = f"{r[key]:.{digits}f}"
            if r["abi"] == ABI3:
                text += f" ({r[key] / v[r['backend']][key]:.2f}x)"
            return text

        return cell

    def elsewhere(r: dict) -> str:
        if r["abi"] != ABI3:
            return f"{r['tag'].split('-')[0]} only"
        if not r["elsewhere"]:
            return "no newer Python found"
        return "; ".join(
            f"{e['python']}: {'exact' if e['exact'] else 'WRONG answer'}, Limited API {e['limited_api']}"
            for e in r["elsewhere"]
        )

    return [
        ["", *labels],
        ["wheel tag", *each(lambda r: f"`{r['tag']}`")],
        ["switch", *each(lambda r: f"`{r['switch']}`" if r["abi"] == ABI3 else "-")],
        [
            "configuration lines that name the Limited API",
            *each(lambda r: f"{len(r['lines'])} ({_files(r['lines'])})" if r["abi"] == ABI3 else "-"),
        ],
        ["Limited API (build_info)", *each(lambda r: r["limited_api"] or "none")],
        ["wheel build, uv isolated (s)", *each(versus("build_median_s", 1))],
        ["wheel size (kB)", *each(lambda r: f"{r['wheel_bytes'] / 1000:.1f}")],
        ["do_math (ns/element)", *each(versus("do_math", 3))],
        [f"do_math_threaded x{cores} (ns/element)", *each(versus("do_math_threaded", 3))],
        [f"do_math_parallel x{cores} (ns/element)", *each(versus("do_math_parallel", 3))],
        ["do_math(0, 10), one call (µs)", *each(versus("call_us", 3))],
        ["on newer Pythons found", *each(elsewhere)],
    ]


def markdown(data: dict) -> str:
    lines = "\n".join(
        f"- {r['backend']}: " + "; ".join(f"`{line}`" for line in r["lines"])
        for r in data["variants"].values()
        if r["abi"] == ABI3
    )
    return f"""# ABI: one wheel per Python version, or one abi3 wheel

{data["date"]} · `{data["command"]}` · Python {data["python"]} · median of {data["reps"]} interleaved build(s),
{data["speed_reps"]} interleaved speed round(s)

Both builds of each backend are made by this Python from fresh copies of the template: without and with the
template's abi3 switch. The ratio in brackets is the abi3 build's against the same backend's version-specific
build. Kernel times: median over the rounds of each round's median of 5 calls over 10⁸ terms; one call: median of
5 batches of 20,000 calls of `do_math(0, 10)`. `nox -s test_abi3` runs the whole suite with the abi3 wheels on
each Python from {ABI3_FLOOR}.

{md_table(rows(data))}

The template lines counted: the code lines of each template's configuration that name the Limited API
(`limited_api_lines` in tools/registry/backends.py):

{lines}
"""


def main(argv: list[str] | None = None) -> None:
    parser = instrument_parser("compare_abi", __doc__, "abi")
    parser.add_argument("--speed-reps", type=int, default=5, help="interleaved speed rounds (default 5)")
    args = parser.parse_args(argv)
    uncached()
    if args.reps < 1 or args.speed_reps < 1:
        parser.error("--reps and --speed-reps must be positive")
    _, json_path = report("abi", measure, markdown, args)
    print(f"wrote {json_path} and abi.md")


if __name__ == "__main__":
    main()
