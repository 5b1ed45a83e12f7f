"""Measure what each backend costs and produces, side by side, in one run.

Run by `nox -s compare` in an environment that holds every template's build
requirements (for the builds without isolation) plus pip and uv;
`python -m tools.compare --help` lists the options.

Every timed step renders a fresh copy of the template first (untimed), so
each build is clean; the steps of all backends are interleaved in a shuffled
order in every repetition, and medians are reported.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from tools.render import BACKENDS, ROOT, render, variant

# Build files of each template: what a user copies and maintains.
CONFIG_FILES = {
    "setuptools": ["pyproject.toml", "setup.py"],
    "meson": ["pyproject.toml", "meson.build", "meson.options"],
    "cmake": ["pyproject.toml", "CMakeLists.txt"],
}
BACKEND_NAMES = {"setuptools": "setuptools", "meson": "meson-python", "cmake": "scikit-build-core"}
# Editable installs: meson-python needs no isolation and rebuilds on import by
# itself; scikit-build-core rebuilds on import only with editable.rebuild and
# a persistent build dir; setuptools never rebuilds.
EDITABLE_ARGS = {
    "setuptools": [],
    "meson": [],
    "cmake": ["-Ceditable.rebuild=true", "-Cbuild-dir=build/{wheel_tag}"],
}
# What a wheel of this package should hold, and nothing else.
EXPECTED = re.compile(r"[^/]+/(__init__\.py|_core\.pyi|py\.typed|twin\.py|_core\..+\.(so|pyd))|[^/]+\.dist-info/.+")
FLAG = re.compile(r"-O\w*|-g\w*|-f[\w=-]+|-m[\w=-]+|-DNDEBUG|-std=\S+|/O\w+|/openmp\S*|-s")


def run(cmd: list[str], cwd: Path | None = None, env: dict | None = None) -> tuple[float, str]:
    """Run cmd; return its wall time and its output; stop the compare if it fails."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode:
        sys.exit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return elapsed, proc.stdout + proc.stderr


def fresh(backend: str, work: Path, git: bool = False) -> Path:
    """A clean rendered copy of the backend's project, in a new folder."""
    dest = Path(tempfile.mkdtemp(dir=work, prefix=f"{backend}-"))
    return render(backend, dest, variant(backend), git=git)


def uv() -> str:
    found = shutil.which("uv")
    if not found:
        sys.exit("uv is not installed in this environment")
    return found


def wheel_steps(py: str) -> dict[str, callable]:
    """Each way of building a wheel from the source tree: (project, out) -> seconds."""

    def pip(isolated: bool):
        def step(project: Path, out: Path) -> float:
            iso = [] if isolated else ["--no-build-isolation"]
            return run([py, "-m", "pip", "wheel", "--no-deps", *iso, "-w", str(out), str(project)])[0]

        return step

    def uv_build(isolated: bool):
        def step(project: Path, out: Path) -> float:
            iso = [] if isolated else ["--no-build-isolation"]
            return run([uv(), "build", "--wheel", "--python", py, *iso, "-o", str(out), str(project)])[0]

        return step

    return {
        "pip isolated": pip(True),
        "pip no isolation": pip(False),
        "uv isolated": uv_build(True),
        "uv no isolation": uv_build(False),
    }


def sdist_step(py: str, backend: str, work: Path, record: dict) -> float:
    """Time an sdist build; record its size and whether a wheel builds from it."""
    project = fresh(backend, work, git=True)  # meson-python's sdist needs git
    out = project / "sdist-out"
    elapsed, _ = run([uv(), "build", "--sdist", "--python", py, "-o", str(out), str(project)])
    sdist = next(out.glob("*.tar.gz"))
    record["sdist_bytes"] = sdist.stat().st_size
    if "wheel_from_sdist" in record:  # one try is enough, and a build costs seconds
        return elapsed
    proc = subprocess.run(
        [uv(), "build", "--wheel", "--python", py, "-o", str(out), str(sdist)], capture_output=True, check=False
    )
    record["wheel_from_sdist"] = proc.returncode == 0
    return elapsed


def time_import(py: str, module: str, repeats: int = 5) -> float:
    """Median wall time of a fresh interpreter importing `module`."""
    return statistics.median(run([py, "-c", f"import {module}"])[0] for _ in range(repeats))


def editable_step(py: str, backend: str, work: Path, record: dict) -> float:
    """Install editable; then edit the .pyx and see whether the next import has the edit."""
    project = fresh(backend, work)
    name = variant(backend)
    run([py, "-m", "pip", "uninstall", "-y", name])
    install = [py, "-m", "pip", "install", "--no-deps", "--no-build-isolation", *EDITABLE_ARGS[backend]]
    elapsed, _ = run([*install, "-e", str(project)])
    record.setdefault("import_unchanged_s", []).append(time_import(py, name))
    pyx = project / "src" / name / "_core.pyx"
    pyx.write_text(pyx.read_text() + "\n_EDITED = True\n")
    probe = f"import {name}._core as c; print('edit seen:', hasattr(c, '_EDITED'))"
    t, out = run([py, "-c", probe])
    record["edit_visible"] = "edit seen: True" in out
    record.setdefault("import_after_edit_s", []).append(t)
    run([py, "-m", "pip", "uninstall", "-y", name])
    return elapsed


def inspect_build(py: str, backend: str, work: Path) -> dict:
    """One more build without isolation, kept, to read flags, contents and linkage."""
    project = fresh(backend, work)
    out = project / "wheel-out"
    build_dir = project / "inspect-build"
    extra = {
        "setuptools": ["-v"],
        "meson": [f"-Cbuild-dir={build_dir}"],
        "cmake": [f"-Cbuild-dir={build_dir}", "-Ccmake.define.CMAKE_EXPORT_COMPILE_COMMANDS=ON"],
    }[backend]
    _, log = run([py, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", *extra, "-w", str(out), str(project)])
    if backend == "setuptools":
        command = next(line for line in log.splitlines() if "_core.c" in line and " -c " in line)
    else:
        entries = json.loads((build_dir / "compile_commands.json").read_text())
        command = next(e["command"] for e in entries if e["file"].endswith(".c"))
    wheel = next(out.glob("*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        files = {i.filename: i.file_size for i in zf.infolist()}
        so = next(n for n in files if re.search(r"_core\..+\.(so|pyd)$", n))
        zf.extract(so, project / "unzipped")
    needed = []
    if shutil.which("readelf"):
        dyn = run(["readelf", "-d", str(project / "unzipped" / so)])[1]
        needed = re.findall(r"\(NEEDED\).*\[(.+?)\]", dyn)
    flags = [token for token in shlex.split(command) if FLAG.fullmatch(token)]
    return {
        "wheel_bytes": wheel.stat().st_size,
        "files": files,
        "unexpected_files": sorted(n for n in files if not EXPECTED.fullmatch(n)),
        "compile_flags": list(dict.fromkeys(flags)),
        "needed": needed,
        "libgomp": any("gomp" in n or "omp" in n for n in needed),
    }


def _docstring_lines(text: str) -> set[int]:
    """0-based numbers of the lines of a Python file's docstrings: documentation, like comments."""
    lines = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and ast.get_docstring(node) is not None:
            doc = node.body[0]
            lines.update(range(doc.lineno - 1, doc.end_lineno))
    return lines


def config_lines(backend: str) -> dict[str, int]:
    """Lines of each build file that are neither blank, nor comments, nor docstrings."""
    counts = {}
    for name in CONFIG_FILES[backend]:
        text = (ROOT / backend / name).read_text()
        docs = _docstring_lines(text) if name.endswith(".py") else set()
        counts[name] = sum(
            1
            for i, line in enumerate(text.splitlines())
            if line.strip() and not line.strip().startswith("#") and i not in docs
        )
    return counts


def runtime(reports: Path, work: Path) -> dict:
    """ns per element of each backend's kernels, from bench.json (or a quick bench run)."""
    bench = reports / "bench.json"
    if not bench.exists():
        from tools import bench as bench_tool

        print("no reports/bench.json: running a quick bench", flush=True)
        try:
            bench_tool.main(["--quick", "--no-peers", "--out", str(work / "bench")])
        except SystemExit as exc:  # no build installed: report no runtimes
            return {"source": f"none ({exc})", "command": "-", "date": "-"}
        bench = work / "bench" / "bench.json"
    data = json.loads(bench.read_text())
    out = {
        "source": str(bench.relative_to(ROOT) if bench.is_relative_to(ROOT) else "quick bench run"),
        "command": data["command"],
        "date": data["date"],
    }
    for r in data["results"]:
        if r["times"]:
            out.setdefault(r["family"], {})[r["name"].partition(" ")[2]] = (
                statistics.median(r["times"]) / r["size"] * 1e9
            )
    return out


def tool_versions(py: str) -> dict[str, str]:
    code = (
        "import importlib.metadata as m\n"
        "for d in ('pip','setuptools','Cython','meson-python','meson','scikit-build-core','cython-cmake','cmake','ninja'):\n"
        "    try: print(d, m.version(d))\n"
        "    except m.PackageNotFoundError: print(d, '-')\n"
    )
    versions = dict(line.split(" ", 1) for line in run([py, "-c", code])[1].splitlines())
    versions["uv"] = run([uv(), "--version"])[1].split()[1]
    versions["gcc"] = run(["gcc", "-dumpfullversion"])[1].strip() if shutil.which("gcc") else "-"
    return versions


def measure(args: argparse.Namespace) -> dict:
    py = sys.executable
    work = Path(tempfile.mkdtemp(prefix="compare-"))
    steps = wheel_steps(py)
    results = {b: {"backend": BACKEND_NAMES[b], "times": {}} for b in BACKENDS}
    tasks = [(b, mode) for b in BACKENDS for mode in [*steps, "sdist", "editable install"]]
    rng = random.Random(args.seed)
    try:
        for rep in range(args.reps):
            rng.shuffle(tasks)
            for i, (backend, mode) in enumerate(tasks, 1):
                print(f"[rep {rep + 1}/{args.reps}, {i}/{len(tasks)}] {backend}: {mode}", flush=True)
                rec = results[backend]
                if mode == "sdist":
                    t = sdist_step(py, backend, work, rec)
                elif mode == "editable install":
                    t = editable_step(py, backend, work, rec)
                else:
                    project = fresh(backend, work)
                    t = steps[mode](project, project / "wheel-out")
                rec["times"].setdefault(mode, []).append(t)
        for backend in BACKENDS:
            print(f"inspecting a {backend} build", flush=True)
            results[backend].update(inspect_build(py, backend, work))
            results[backend]["config_lines"] = config_lines(backend)
        speed = runtime(ROOT / "reports", work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    repro = ROOT / "reports" / "reproducible.json"
    repro_data = json.loads(repro.read_text())["backends"] if repro.exists() else {}
    for backend, rec in results.items():
        rec["reproducible"] = {
            ("wheel" if f["file"].endswith(".whl") else "sdist"): f["identical"] for f in repro_data.get(backend, [])
        }
        rec["median_s"] = {mode: statistics.median(ts) for mode, ts in rec["times"].items()}
        for key in ("import_unchanged_s", "import_after_edit_s"):
            rec[key] = statistics.median(rec[key])
        rec["runtime_ns"] = speed.get(backend, {})
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": " ".join(["nox -s compare", *(["--", *sys.argv[1:]] if sys.argv[1:] else [])]),
        "reps": args.reps,
        "python": sys.version.split()[0],
        "tools": tool_versions(py),
        "runtime_source": {k: speed[k] for k in ("source", "command", "date")},
        "backends": results,
    }


def rows(data: dict) -> list[tuple[str, ...]]:
    b = data["backends"]
    modes = ["pip isolated", "uv isolated", "pip no isolation", "uv no isolation", "sdist", "editable install"]

    def each(fn) -> tuple[str, ...]:
        return tuple(fn(b[k]) for k in BACKENDS)

    out = [("", *(f"{k} ({b[k]['backend']})" for k in BACKENDS))]
    out += [(f"{m} (s)", *each(lambda r, m=m: f"{r['median_s'][m]:.1f}")) for m in modes]
    out += [
        ("sdist size (kB)", *each(lambda r: f"{r['sdist_bytes'] / 1000:.1f}")),
        ("wheel builds from sdist", *each(lambda r: "yes" if r["wheel_from_sdist"] else "NO")),
        ("import, nothing changed (s)", *each(lambda r: f"{r['import_unchanged_s']:.2f}")),
        ("editable: .pyx edit seen on import", *each(lambda r: "yes" if r["edit_visible"] else "no")),
        ("editable: first import after edit (s)", *each(lambda r: f"{r['import_after_edit_s']:.2f}")),
        ("wheel size (kB)", *each(lambda r: f"{r['wheel_bytes'] / 1000:.1f}")),
        ("wheel files", *each(lambda r: str(len(r["files"])))),
        ("unexpected files in wheel", *each(lambda r: ", ".join(r["unexpected_files"]) or "none")),
        ("compile flags", *each(lambda r: " ".join(r["compile_flags"]))),
        ("libgomp linked", *each(lambda r: "yes" if r["libgomp"] else "NO")),
        ("config lines", *each(lambda r: " + ".join(f"{n} {f}" for f, n in r["config_lines"].items()))),
        *[
            (f"reproducible {kind} (SOURCE_DATE_EPOCH)", *each(lambda r, k=kind: _yes_no(r["reproducible"].get(k))))
            for kind in ("wheel", "sdist")
        ],
    ]
    kernels = sorted({k for r in b.values() for k in r["runtime_ns"]})
    out += [
        (f"{k} (ns/element)", *each(lambda r, k=k: f"{r['runtime_ns'][k]:.3f}" if k in r["runtime_ns"] else "-"))
        for k in kernels
    ]
    return out


def _yes_no(value: bool | None) -> str:
    return "not measured (nox -s reproducible)" if value is None else ("yes" if value else "no")


def markdown(data: dict) -> str:
    table = rows(data)
    lines = ["| " + " | ".join(table[0]) + " |", "|---" * len(table[0]) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in table[1:]]
    tools = ", ".join(f"{k} {v}" for k, v in data["tools"].items())
    src = data["runtime_source"]
    return f"""# Compare

{data["date"]} · `{data["command"]}` · Python {data["python"]} · median of {data["reps"]} interleaved repetitions
(imports: median of 5 runs in each repetition) · {tools}

Clean wheel builds from a fresh copy of each template; "isolated" is what users get (a fresh build environment),
"no isolation" is the backend alone. Editable installs without isolation; the edit appends a module-level
assignment to the `.pyx`. Compile flags are read from the compile command of `_core.c` (setuptools' verbose log,
compile_commands.json for meson and CMake). Kernel times from `{src["source"]}` (`{src["command"]}`, {src["date"]}).

{chr(10).join(lines)}
"""


def chart(data: dict, path: Path) -> None:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    modes = ["pip isolated", "uv isolated", "pip no isolation", "uv no isolation", "sdist", "editable install"]
    colors = {"setuptools": "#4c72b0", "meson": "#dd8452", "cmake": "#55a868"}
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / len(BACKENDS)
    for i, backend in enumerate(BACKENDS):
        rec = data["backends"][backend]
        values = [rec["median_s"][m] for m in modes]
        xs = [j + i * width for j in range(len(modes))]
        ax.bar(xs, values, width, label=f"{backend} ({rec['backend']})", color=colors[backend])
        for x, v in zip(xs, values, strict=True):
            ax.text(x, v, f"{v:.1f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks([j + width for j in range(len(modes))], modes, fontsize=8)
    ax.set_ylabel("seconds (median)")
    ax.set_title("Build time per backend, clean builds")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="nox -s compare --", description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=2, help="interleaved repetitions (default 2; 5 for a careful run)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the shuffled order")
    parser.add_argument("--out", type=Path, default=ROOT / "reports", help="where compare.json/.md/.png go")
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    data = measure(args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "compare.json").write_text(json.dumps(data, indent=2) + "\n")
    md = markdown(data)
    (args.out / "compare.md").write_text(md)
    chart(data, args.out / "compare.png")
    print(md)
    print(f"wrote {args.out / 'compare.json'}, compare.md and compare.png")


if __name__ == "__main__":
    main()
