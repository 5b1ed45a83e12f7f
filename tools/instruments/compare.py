"""Measure what each backend costs and produces, side by side, in one run.

Run by `nox -s compare` in an environment that holds every template's build
requirements (for the builds without isolation) plus pip and uv;
`python -m tools.instruments.compare --help` lists the options.

By default a lean set, one repetition of what a user meets: a clean wheel
build through uv (isolated), the sdist and a wheel built from it, an editable
install (does a .pyx edit show on the next import, and how long do imports
take), then the compile flags, linkage and contents of one more build, and
each template's configuration size. --full adds pip, builds without
isolation, and three repetitions. Every timed step renders a fresh copy of
the template first (untimed); the steps of all backends are interleaved in a
shuffled order in every repetition, and medians are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

from tools.inspect import elf
from tools.inspect.dists import extension_libs, extract_extension, sdist_files, wheel_files
from tools.inspect.templates import code_lines
from tools.instruments import steps
from tools.instruments.measure import Task, command_line, interleave, md_table, median, report, workdir
from tools.make.build import run, uv
from tools.make.render import ROOT
from tools.registry.backends import BACKENDS, NAMES, PLACEHOLDER

# Clean wheel builds: mode -> (frontend, isolated). The lean set has the user's path only.
WHEEL_MODES = {
    "uv isolated": ("uv", True),
    "pip isolated": ("pip", True),
    "uv no isolation": ("uv", False),
    "pip no isolation": ("pip", False),
}
LEAN_MODES = ["uv isolated", "sdist", "editable install"]
FULL_MODES = ["pip isolated", "uv isolated", "pip no isolation", "uv no isolation", "sdist", "editable install"]
# Lines of a build file that choose an instruction set: CPU dispatch done in the build system.
INSTRUCTION_SET = re.compile(r"avx|sse\d|-march|-mcpu|simd|x86-64-v", re.IGNORECASE)
FLAG = re.compile(r"-O\w*|-g\w*|-f[\w=-]+|-m[\w=-]+|-DNDEBUG|-std=\S+|/O\w+|/openmp\S*|-s")


def wheel_step(py: str, backend: str, mode: str, work: Path) -> float:
    """A clean wheel build of a fresh copy, by `mode`'s frontend, with or without isolation."""
    frontend, isolated = WHEEL_MODES[mode]
    project = steps.fresh(backend, work)
    return steps.wheel(py, project, project / "wheel-out", frontend=frontend, isolated=isolated)


def sdist_step(py: str, backend: str, work: Path, record: dict) -> float:
    """Time an sdist build; record its size and (once) whether a wheel builds from it."""
    project = steps.fresh(backend, work, git=True)  # meson-python's sdist needs git
    out = project / "sdist-out"
    elapsed, _ = run([uv(), "build", "--sdist", "--python", py, "-o", str(out), str(project)])
    sdist = next(out.glob("*.tar.gz"))
    record["sdist_bytes"] = sdist.stat().st_size
    record["sdist_files"] = sdist_files(sdist)
    if "wheel_from_sdist" not in record:  # one try is enough, and a build costs seconds
        proc = subprocess.run(
            [uv(), "build", "--wheel", "--python", py, "-o", str(out), str(sdist)],
            capture_output=True,
            check=False,
        )
        record["wheel_from_sdist"] = proc.returncode == 0
    return elapsed


def editable_step(py: str, backend: str, work: Path, record: dict) -> float:
    """Install editable; time imports; edit the .pyx and see whether the next import has the edit (no reinstall)."""
    project = steps.fresh(backend, work)
    name = f"{PLACEHOLDER}_{backend}"
    steps.uninstall(py, name)
    try:
        elapsed = steps.editable_install(py, backend, project)
        record.setdefault("import_unchanged_s", []).append(steps.time_import(py, name))
        stamp = len(record["import_unchanged_s"])
        steps.edit(project, name, "_core", stamp)
        seconds, seen = steps.probe(py, name, ["_core"], stamp)
        record["edit_visible"] = seen
        record.setdefault("import_after_edit_s", []).append(seconds)
    finally:
        steps.uninstall(py, name)
    return elapsed


def compile_command(backend: str, log: str, build_dir: Path) -> list[str] | None:
    """The command that compiled _core.c, split; None where it cannot be read (then reported as n/a).

    setuptools prints it in its verbose log (MSVC's cl spells -c as /c);
    meson and CMake write compile_commands.json, except CMake's Visual
    Studio generators, the default on Windows.
    """
    if backend == "setuptools":
        found = [line for line in log.splitlines() if "_core.c" in line and re.search(r"\s[-/]c\s", line)]
        command = found[0] if found else None
    else:
        path = build_dir / "compile_commands.json"
        entries = json.loads(path.read_text()) if path.exists() else []
        command = next((e["command"] for e in entries if e["file"].endswith(".c") and "command" in e), None)
    if command is None:
        return None
    try:
        return shlex.split(command, posix=os.name != "nt")  # Windows paths keep their backslashes
    except ValueError:  # unbalanced quotes in a command line of another shell
        return None


def inspect_build(py: str, backend: str, work: Path) -> dict:
    """One more build without isolation, kept, to read flags, contents and linkage."""
    project = steps.fresh(backend, work)
    out = project / "wheel-out"
    build_dir = project / "inspect-build"
    extra = [arg.format(build_dir=build_dir) for arg in BACKENDS[backend].inspect_args]
    _, log = run([py, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", *extra, "-w", str(out), str(project)])
    wheel = next(out.glob("*.whl"))
    libs = extension_libs(wheel)
    needed = libs.get("_core")
    roots = elf.square_roots(extract_extension(wheel, "_kernels", project / "unzipped"))
    square_roots = None if roots is None else sorted(k for k in roots if "pd" in k)  # the SIMD ones
    command = compile_command(backend, log, build_dir)
    flags = None if command is None else [token for token in command if FLAG.fullmatch(token)]
    return {
        "wheel_bytes": wheel.stat().st_size,
        "files": wheel_files(wheel),
        "compile_flags": None if flags is None else list(dict.fromkeys(flags)),
        "extension_libs": libs,
        "needed": needed,
        "libgomp": None if needed is None else any("omp" in n for n in needed),
        "simd_square_roots": square_roots,
    }


def config_lines(backend: str) -> dict[str, int]:
    """Code lines (not blank, comments nor docstrings) of each of the template's configuration files."""
    return {name: len(code_lines(ROOT / backend / name)) for name in BACKENDS[backend].config_files}


def dispatch_lines(backend: str) -> int:
    """Code lines of the configuration files that choose an instruction set (CPU dispatch in the build system)."""
    return sum(
        1
        for name in BACKENDS[backend].config_files
        for line in code_lines(ROOT / backend / name)
        if INSTRUCTION_SET.search(line)
    )


def measure(args: argparse.Namespace) -> dict:
    """Interleaved, repeated timings of the chosen modes, then one inspected build per backend."""
    py = sys.executable
    modes = FULL_MODES if args.full else LEAN_MODES
    results = {b: {"backend": BACKENDS[b].title} for b in NAMES}

    def step(backend: str, mode: str, work: Path):
        if mode == "sdist":
            return lambda: sdist_step(py, backend, work, results[backend])
        if mode == "editable install":
            return lambda: editable_step(py, backend, work, results[backend])
        return lambda: wheel_step(py, backend, mode, work)

    with workdir("compare-") as work:
        tasks = [Task((b, m), f"{b}: {m}", step(b, m, work), BACKENDS[b].seconds) for b in NAMES for m in modes]
        times = interleave(tasks, args.reps, args.seed, "compare")
        for backend in NAMES:
            print(f"inspecting a {backend} build", flush=True)
            results[backend].update(inspect_build(py, backend, work))
            results[backend]["config_lines"] = config_lines(backend)
            results[backend]["dispatch_lines"] = dispatch_lines(backend)
    for backend, rec in results.items():
        rec["times"] = {m: times[backend, m] for m in modes}
        rec["median_s"] = {m: median(ts) for m, ts in rec["times"].items()}
        for key in ("import_unchanged_s", "import_after_edit_s"):
            rec[key] = median(rec[key])
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": command_line("compare", sys.argv[1:]),
        "reps": args.reps,
        "modes": modes,
        "python": sys.version.split()[0],
        "tools": steps.tool_versions(py),
        "backends": results,
    }


def _listed(values: list[str] | None) -> str:
    return "n/a" if values is None else ", ".join(values) or "none"


def rows(data: dict) -> list[list[str]]:
    b = data["backends"]

    def each(fn) -> list[str]:
        return [fn(b[k]) for k in NAMES]

    out = [["", *(f"{k} ({b[k]['backend']})" for k in NAMES)]]
    out += [[f"{m} (s)", *each(lambda r, m=m: f"{r['median_s'][m]:.1f}")] for m in data["modes"]]
    out += [
        ["sdist size (kB)", *each(lambda r: f"{r['sdist_bytes'] / 1000:.1f}")],
        ["sdist files", *each(lambda r: str(len(r["sdist_files"])))],
        ["wheel builds from sdist", *each(lambda r: "yes" if r["wheel_from_sdist"] else "NO")],
        ["import, nothing changed (s)", *each(lambda r: f"{r['import_unchanged_s']:.2f}")],
        ["editable: .pyx edit seen on import", *each(lambda r: "yes" if r["edit_visible"] else "no")],
        ["editable: first import after edit (s)", *each(lambda r: f"{r['import_after_edit_s']:.2f}")],
        ["wheel size (kB)", *each(lambda r: f"{r['wheel_bytes'] / 1000:.1f}")],
        ["wheel files", *each(lambda r: str(len(r["files"])))],
        ["compile flags", *each(lambda r: "n/a" if r["compile_flags"] is None else " ".join(r["compile_flags"]))],
        ["libraries linked (DT_NEEDED)", *each(lambda r: "n/a" if r["needed"] is None else ", ".join(r["needed"]))],
        ["libgomp linked", *each(lambda r: {None: "n/a", True: "yes", False: "NO"}[r["libgomp"]])],
        ["SIMD square roots in _kernels (objdump)", *each(lambda r: _listed(r.get("simd_square_roots")))],
        ["build-file lines that choose an instruction set", *each(lambda r: str(r["dispatch_lines"]))],
        ["config lines", *each(lambda r: " + ".join(f"{n} {f}" for f, n in r["config_lines"].items()))],
    ]
    return out


def markdown(data: dict) -> str:
    tools = ", ".join(f"{k} {v}" for k, v in data["tools"].items())
    return f"""# Compare

{data["date"]} · `{data["command"]}` · Python {data["python"]} · median of {data["reps"]} interleaved repetition(s)
(imports: median of 5 runs in each repetition) · {tools}

Clean wheel builds from a fresh copy of each template; "isolated" is what users get (a fresh build environment),
"no isolation" is the backend alone (`--full` measures pip and builds without isolation too). Editable installs
without isolation; the edit sets a module-level variable in the `.pyx`, and the next import is checked for it,
without reinstalling. Compile flags are read from the compile command of `_core.c` (setuptools' verbose log,
compile_commands.json for meson and CMake). "Config lines" count code, not comments. The kernels' speed is
`nox -s bench`'s; `nox -s summary` puts both side by side.

{md_table(rows(data))}
"""


def chart(data: dict, path: Path) -> None:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    modes = data["modes"]
    fig, ax = plt.subplots(figsize=(1.5 * len(modes) + 3, 4.5))
    width = 0.8 / len(NAMES)
    for i, backend in enumerate(NAMES):
        rec = data["backends"][backend]
        values = [rec["median_s"][m] for m in modes]
        xs = [j + i * width for j in range(len(modes))]
        ax.bar(xs, values, width, label=f"{backend} ({rec['backend']})", color=BACKENDS[backend].color)
        for x, v in zip(xs, values, strict=True):
            ax.text(x, v, f"{v:.1f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks([j + width for j in range(len(modes))], modes, fontsize=8)
    ax.set_ylabel("seconds (median; lower is better)")
    ax.set_title("Build time per backend, clean builds")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="nox -s compare --", description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="also pip and builds without isolation; 3 repetitions")
    parser.add_argument("--reps", type=int, help="interleaved repetitions (default 1, with --full 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the shuffled order")
    parser.add_argument("--out", type=Path, default=ROOT / "reports", help="where compare.json/.md/.png go")
    args = parser.parse_args(argv)
    if args.reps is None:
        args.reps = 3 if args.full else 1
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    data, json_path = report("compare", measure, markdown, args)
    chart(data, args.out / "compare.png")
    print(f"wrote {json_path}, compare.md and compare.png")


if __name__ == "__main__":
    main()
