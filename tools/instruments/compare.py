"""Measure what each backend costs and produces, side by side, in one run.

Run by `nox -s compare` in an environment that holds every template's build
requirements (for the builds without isolation) plus pip and uv;
`python -m tools.instruments.compare --help` lists the options.

By default a lean set of what a user meets, three repetitions: a clean wheel
build through uv (isolated), the sdist and a wheel built from it, an editable
install (does a .pyx edit show on the next import, and how long do imports
take), the clean wheel build again with the flags common to all three
backends (EQUAL_FLAGS in tools/registry/backends.py) and with those plus -g,
and with Cython's utility code in one module of its own (the shared-utility
switch, the wheel's size kept), then the compile flags, linkage, debug info and contents of one more build
per flags setting, and each template's configuration size. --full adds pip
and builds without isolation; --reps 1 is a smoke run (no spread, so no
verdicts). Every timed step renders a fresh copy of the template first
(untimed); the steps of all backends are interleaved in a shuffled order in
every repetition; every repetition is kept in the JSON, and the tables show
the median with the min-max, calling overlapping ranges a tie.
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
from tools.instruments.measure import (
    DASH,
    NO_SPREAD,
    Task,
    command_line,
    fmt_change,
    interleave,
    mark_best,
    md_table,
    median,
    report,
    spread,
    uncached,
    workdir,
)
from tools.instruments.measure import parser as instrument_parser
from tools.make.build import run, uv
from tools.make.render import ROOT
from tools.registry.backends import BACKENDS, EQUAL_FLAGS, NAMES, PLACEHOLDER
from tools.registry.variants import Variant

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
# The flags settings each backend is built with: its own, then each of EQUAL_FLAGS.
SETTINGS = ("default", *EQUAL_FLAGS)
SETTING_TITLES = {"default": "default", "equal": "equal flags", "equal_g": "equal flags + -g"}
# The timed clean wheel build of each setting: the user's path (uv, isolated), as "uv isolated" is for the default.
FLAG_MODES = {"default": "uv isolated", "equal": "uv isolated, equal flags", "equal_g": "uv isolated, equal flags + -g"}
# The clean wheel build with the template's shared-utility switch: Cython's utility code in <package>._cyutility.
SHARED_MODE = "uv isolated, shared utility"
# -g and its levels and formats turn debug info on; -g0 turns it off. A later one wins.
DEBUG = re.compile(r"-g(\d|gdb\d?|dwarf(-\d)?)?")


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


def shared_step(py: str, backend: str, work: Path, record: dict) -> float:
    """A clean wheel build with the shared-utility switch; record the wheel's size."""
    seconds, wheel = steps.variant_wheel(py, Variant(backend, utility="shared"), work)
    record["shared_wheel_bytes"] = wheel.stat().st_size
    return seconds


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


def effective_flags(flags: list[str] | None) -> dict | None:
    """What gcc and clang make of a compile command's flags, where the last of each kind wins; None if unread.

    -O level, debug info, symbol visibility, -fwrapv and -DNDEBUG: the flags
    in which the backends' defaults differ (EQUAL_FLAGS makes them agree).
    """
    if flags is None:
        return None
    found = {"opt": "-O0", "debug": False, "visibility": "default", "wrapv": False, "ndebug": False}
    for flag in flags:
        if re.fullmatch(r"-O\w*", flag):
            found["opt"] = "-O2" if flag == "-O" else flag
        elif flag == "-g0" or DEBUG.fullmatch(flag):
            found["debug"] = flag != "-g0"
        elif flag.startswith("-fvisibility="):
            found["visibility"] = flag.partition("=")[2]
        elif flag in ("-fwrapv", "-fno-wrapv"):
            found["wrapv"] = flag == "-fwrapv"
        elif flag == "-DNDEBUG":
            found["ndebug"] = True
    return found


def inspect_build(py: str, backend: str, work: Path, setting: str = "default") -> dict:
    """One more build without isolation, with `setting`'s flags, kept, to read flags, contents, linkage and debug info."""
    project = steps.fresh(backend, work)
    out = project / "wheel-out"
    build_dir = project / "inspect-build"
    extra = [arg.format(build_dir=build_dir) for arg in BACKENDS[backend].inspect_args]
    args, env = Variant(backend, flags=setting).settings()
    cmd = [py, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", *extra, *args, "-w", str(out), str(project)]
    _, log = run(cmd, env={**os.environ, **env})
    wheel = next(out.glob("*.whl"))
    libs = extension_libs(wheel)
    needed = libs.get("_core")
    unzipped = {m: extract_extension(wheel, m, project / "unzipped") for m in libs}
    roots = elf.square_roots(unzipped["_kernels"])
    square_roots = None if roots is None else sorted(k for k in roots if "pd" in k)  # the SIMD ones
    command = compile_command(backend, log, build_dir)
    flags = None if command is None else [token for token in command if FLAG.fullmatch(token)]
    debug = [elf.debug_info(path) for path in unzipped.values()]
    return {
        "wheel_bytes": wheel.stat().st_size,
        "files": wheel_files(wheel),
        # In command order, repeats dropped after the first; `effective` reads them all, in order.
        "compile_flags": None if flags is None else list(dict.fromkeys(flags)),
        "effective_flags": effective_flags(flags),
        "extension_libs": libs,
        "needed": needed,
        "libgomp": None if needed is None else any("omp" in n for n in needed),
        "simd_square_roots": square_roots,
        # Summed over the extension modules; None where they are not ELF.
        "debug_bytes": None if None in debug else sum(d["debug_bytes"] for d in debug),
        "symtab": None if None in debug else any(d["symtab"] for d in debug),
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
    flag_modes = [FLAG_MODES[s] for s in SETTINGS if s != "default"]
    results = {b: {"backend": BACKENDS[b].title} for b in NAMES}

    def step(backend: str, mode: str, work: Path):
        if mode == "sdist":
            return lambda: sdist_step(py, backend, work, results[backend])
        if mode == "editable install":
            return lambda: editable_step(py, backend, work, results[backend])
        if mode in flag_modes:
            setting = next(s for s, m in FLAG_MODES.items() if m == mode)
            return lambda: steps.variant_wheel(py, Variant(backend, flags=setting), work)[0]
        if mode == SHARED_MODE:
            return lambda: shared_step(py, backend, work, results[backend])
        return lambda: wheel_step(py, backend, mode, work)

    timed = [*modes, *flag_modes, SHARED_MODE]
    with workdir("compare-") as work:
        tasks = [Task((b, m), f"{b}: {m}", step(b, m, work), BACKENDS[b].seconds) for b in NAMES for m in timed]
        times = interleave(tasks, args.reps, args.seed, "compare")
        for backend in NAMES:
            builds = {}
            for setting in SETTINGS:
                print(f"inspecting a {backend} build, {SETTING_TITLES[setting]}", flush=True)
                builds[setting] = inspect_build(py, backend, work, setting)
            # The default build's figures stay at the top, where the summary reads them.
            results[backend].update(builds["default"])
            results[backend]["flag_builds"] = builds
            results[backend]["config_lines"] = config_lines(backend)
            results[backend]["dispatch_lines"] = dispatch_lines(backend)
    for backend, rec in results.items():
        # Every repetition is kept: the medians and ranges below are derived, for readers of the JSON.
        rec["times"] = {m: times[backend, m] for m in timed}
        rec["median_s"] = {m: median(ts) for m, ts in rec["times"].items()}
        rec["spread_s"] = {m: spread(ts) for m, ts in rec["times"].items()}
        for key in ("import_unchanged_s", "import_after_edit_s"):  # a list: one median of 5 imports per repetition
            rec[f"{key.removesuffix('_s')}_spread_s"] = spread(rec[key])
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": command_line("compare", sys.argv[1:]),
        "reps": args.reps,
        "smoke": args.reps < 2,
        "modes": modes,
        "flag_modes": {s: FLAG_MODES[s] for s in SETTINGS},
        "shared_mode": SHARED_MODE,
        "equal_flags": dict(EQUAL_FLAGS),
        "python": sys.version.split()[0],
        "tools": steps.tool_versions(py),
        "backends": results,
    }


def _listed(values: list[str] | None) -> str:
    return "n/a" if values is None else ", ".join(values) or "none"


def _timed(data: dict, mode: str, spec: str = ".1f") -> list[str]:
    """One cell per backend: median (min-max), the fastest in bold when clear of the next, or "tie"."""
    return mark_best([data["backends"][b]["times"][mode] for b in NAMES], spec)


def rows(data: dict) -> list[list[str]]:
    b = data["backends"]

    def each(fn) -> list[str]:
        return [fn(b[k]) for k in NAMES]

    def imports(key: str) -> list[str]:
        return mark_best([b[k][key] for k in NAMES], ".2f")

    out = [["", *(f"{k} ({b[k]['backend']})" for k in NAMES)]]
    out += [[f"{m} (s)", *_timed(data, m)] for m in data["modes"]]
    if shared := data.get("shared_mode"):  # reports before 2026-12-05 have no shared build
        out.append([f"{shared} (s)", *_timed(data, shared)])
        change = [fmt_change(b[k]["times"]["uv isolated"], b[k]["times"][shared]) for k in NAMES]
        out.append(["build time, per-module → shared utility", *change])
    out += [
        ["sdist size (kB)", *each(lambda r: f"{r['sdist_bytes'] / 1000:.1f}")],
        ["sdist files", *each(lambda r: str(len(r["sdist_files"])))],
        ["wheel builds from sdist", *each(lambda r: "yes" if r["wheel_from_sdist"] else "NO")],
        ["import, nothing changed (s)", *imports("import_unchanged_s")],
        ["editable: .pyx edit seen on import", *each(lambda r: "yes" if r["edit_visible"] else "no")],
        ["editable: first import after edit (s)", *imports("import_after_edit_s")],
        ["wheel size (kB)", *each(lambda r: f"{r['wheel_bytes'] / 1000:.1f}")],
        *(
            [["wheel size, shared utility (kB)", *each(lambda r: f"{r['shared_wheel_bytes'] / 1000:.1f}")]]
            if shared
            else []
        ),
        ["wheel files", *each(lambda r: str(len(r["files"])))],
        ["compile flags", *each(lambda r: "n/a" if r["compile_flags"] is None else " ".join(r["compile_flags"]))],
        ["libraries linked (DT_NEEDED)", *each(lambda r: "n/a" if r["needed"] is None else ", ".join(r["needed"]))],
        ["libgomp linked", *each(lambda r: {None: "n/a", True: "yes", False: "NO"}[r["libgomp"]])],
        ["SIMD square roots in _kernels (objdump)", *each(lambda r: _listed(r.get("simd_square_roots")))],
        ["build-file lines that choose an instruction set", *each(lambda r: str(r["dispatch_lines"]))],
        ["config lines", *each(lambda r: " + ".join(f"{n} {f}" for f, n in r["config_lines"].items()))],
    ]
    return out


def describe(effective: dict | None) -> str:
    """-O3, -g, visibility=default, -fwrapv, -DNDEBUG: the flags that decide, as the compiler takes them."""
    if effective is None:
        return "n/a"
    return " ".join(
        [
            effective["opt"],
            "-g" if effective["debug"] else "no -g",
            f"visibility={effective['visibility']}",
            "-fwrapv" if effective["wrapv"] else "no -fwrapv",
            "-DNDEBUG" if effective["ndebug"] else "no -DNDEBUG",
        ]
    )


def agree(data: dict, setting: str) -> bool | None:
    """Whether every backend compiled `setting` with the same -O, -g, visibility, -fwrapv and -DNDEBUG; None if unread."""
    found = [data["backends"][b]["flag_builds"][setting]["effective_flags"] for b in NAMES]
    return None if None in found else all(f == found[0] for f in found)


def _kb(change: float) -> str:
    """+337.7, or +0.0 where a few bytes less would print as -0.0."""
    return f"{round(change, 1) + 0.0:+.1f}"


def _debug(build: dict) -> str:
    if build["debug_bytes"] is None:
        return "n/a"
    return f"{build['debug_bytes'] / 1000:.1f} kB, {'symbol table' if build['symtab'] else 'stripped'}"


def flag_rows(data: dict) -> list[list[str]]:
    """The default build against the equal-flags build, and the price of -g, per backend."""
    b = data["backends"]
    modes = data["flag_modes"]

    def each(fn) -> list[str]:
        return [fn(b[k]) for k in NAMES]

    def times(r: dict, setting: str) -> list[float]:
        return r["times"][modes[setting]]

    def size(r: dict, setting: str) -> float:
        return r["flag_builds"][setting]["wheel_bytes"] / 1000

    out = [["", *(f"{k} ({b[k]['backend']})" for k in NAMES)]]
    for setting in SETTINGS:
        title = SETTING_TITLES[setting]
        out.append(
            [f"as compiled, {title}", *each(lambda r, s=setting: describe(r["flag_builds"][s]["effective_flags"]))]
        )
    for setting in SETTINGS:
        out.append([f"clean wheel build, {SETTING_TITLES[setting]} (s)", *_timed(data, modes[setting])])
    out.append(
        ["build time, default → equal flags", *each(lambda r: fmt_change(times(r, "default"), times(r, "equal")))]
    )
    out.append(
        ["**-g**: build time, equal flags → + -g", *each(lambda r: fmt_change(times(r, "equal"), times(r, "equal_g")))]
    )
    for setting in SETTINGS:
        out.append([f"wheel size, {SETTING_TITLES[setting]} (kB)", *each(lambda r, s=setting: f"{size(r, s):.1f}")])
    out.append(
        ["**-g**: wheel size, equal flags → + -g", *each(lambda r: f"{_kb(size(r, 'equal_g') - size(r, 'equal'))} kB")]
    )
    for setting in SETTINGS:
        out.append(
            [
                f"debug info in the extensions, {SETTING_TITLES[setting]}",
                *each(lambda r, s=setting: _debug(r["flag_builds"][s])),
            ]
        )
    out.append(
        [
            "compile flags, equal flags",
            *each(lambda r: _listed(r["flag_builds"]["equal"]["compile_flags"]).replace(", ", " ")),
        ]
    )
    return out


def markdown(data: dict) -> str:
    tools = ", ".join(f"{k} {v}" for k, v in data["tools"].items())
    reps = data["reps"]
    if data.get("smoke", reps < 2):
        runs = f"**smoke run: 1 repetition, no spread** (nothing below is a tie or a difference: {NO_SPREAD})"
    else:
        runs = f"median (min{DASH}max) of {reps} interleaved repetitions"
    verdicts = {True: "yes", False: "**NO**", None: "n/a"}
    same = ", ".join(f"{SETTING_TITLES[s]}: {verdicts[agree(data, s)]}" for s in SETTINGS)
    flags = "; ".join(f"{SETTING_TITLES[k]} `{v}`" for k, v in data["equal_flags"].items())
    return f"""# Compare

{data["date"]} · `{data["command"]}` · Python {data["python"]} · {runs}
(imports: median of 5 runs in each repetition) · {tools}

Clean wheel builds from a fresh copy of each template; "isolated" is what users get (a fresh build environment),
"no isolation" is the backend alone (`--full` measures pip and builds without isolation too). Editable installs
without isolation; the edit sets a module-level variable in the `.pyx`, and the next import is checked for it,
without reinstalling. Compile flags are read from the compile command of `_core.c` (setuptools' verbose log,
compile_commands.json for meson and CMake). "Config lines" count code, not comments. No build uses a compiler
cache (`CCACHE_DISABLE=1`: meson would take ccache from PATH by itself; `nox -s compare_ccache` times the cache).
The kernels' speed is `nox -s bench`'s; `nox -s summary` puts both side by side.

A time is the median with the range of the repetitions; the fastest is in **bold** only when its range is clear of
the runner-up's; otherwise every backend whose range overlaps the fastest's is marked "tie", and none is ranked.

{md_table(rows(data))}

## The default build against equal flags

Each backend as users get it, and built with the same flags: {flags}.
setuptools takes them through `CFLAGS`, which its distutils puts in place of Python's (setuptools 65 appended it);
meson through `-Dc_args`, after the buildtype's `-O3`; CMake through `CMAKE_C_FLAGS`, before Release's
`-O3 -DNDEBUG`. "As compiled" reads the compile command of one more build of each, the last of each kind of flag
winning. The same -O, -g, visibility, -fwrapv and -DNDEBUG in every column: {same}.
A change is called a tie when the two ranges overlap. The **-g** rows are the price of debug info alone: equal
flags against equal flags with `-g`.

{md_table(flag_rows(data))}
"""


def chart(data: dict, path: Path) -> None:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    modes = [*data["modes"], *(m for s, m in data["flag_modes"].items() if s != "default")]
    modes += [data["shared_mode"]] if "shared_mode" in data else []
    fig, ax = plt.subplots(figsize=(1.5 * len(modes) + 3, 4.5))
    width = 0.8 / len(NAMES)
    for i, backend in enumerate(NAMES):
        rec = data["backends"][backend]
        spreads = [rec["spread_s"][m] for m in modes]
        values = [s["median"] for s in spreads]
        # The error bars span the repetitions' min-max: a bar inside another's range is a tie.
        errors = [[s["median"] - s["min"] for s in spreads], [s["max"] - s["median"] for s in spreads]]
        errors = errors if data["reps"] > 1 else None
        xs = [j + i * width for j in range(len(modes))]
        ax.bar(
            xs,
            values,
            width,
            yerr=errors,
            capsize=2,
            label=f"{backend} ({rec['backend']})",
            color=BACKENDS[backend].color,
        )
        for x, v in zip(xs, values, strict=True):
            ax.text(x, v, f"{v:.1f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks([j + width for j in range(len(modes))], [m.replace(", ", ",\n") for m in modes], fontsize=8)
    runs = "1 run, no spread" if data["reps"] < 2 else f"median and min-max of {data['reps']} runs"
    ax.set_ylabel(f"seconds ({runs}; lower is better)")
    ax.set_title("Build time per backend, clean builds")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = instrument_parser("compare", __doc__, "compare")
    parser.add_argument("--full", action="store_true", help="also pip and builds without isolation")
    args = parser.parse_args(argv)
    uncached()
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    data, json_path = report("compare", measure, markdown, args)
    chart(data, args.out / "compare.png")
    print(f"wrote {json_path}, compare.md and compare.png")


if __name__ == "__main__":
    main()
