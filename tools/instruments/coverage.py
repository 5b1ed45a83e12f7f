"""Line coverage of the core's Cython and Python by the repository's suite, per backend: `nox -s coverage`.

    python -m tools.instruments.coverage [--backends B ...] [--subprocesses] [--tests PATH ...] [--out DIR]

For each backend: a fresh rendered copy of its template (`mathcore_<backend>`),
a virtual environment of its own, an editable install built with the
backend's coverage switch (tools/registry/backends.py: line tracing, on
CPython 3.13+ too), the generated C linked next to each .pyx (the
Cython.Coverage plugin reads it there), then the suite (tests/, rootdir this
repository, so that the tests import the installed build) under `coverage
run` with the plugin. Reported: the line coverage of _core.pyx, _kernels.pyx
and twin.py, the lines missed, the switch, the suite's outcome. Writes
reports/coverage.{json,md}. --subprocesses also measures the children the
tests start (coverage's `patch = subprocess`), slower.

"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tools.inspect.host import describe, machine
from tools.instruments import steps
from tools.instruments.measure import command_line, md_table, report, workdir
from tools.instruments.scale import build_requires
from tools.make.build import run
from tools.make.envs import editable, in_venv, pytest_outcome, run_bounded, venv
from tools.make.in_root import test_packages
from tools.make.render import ROOT, modules
from tools.registry.backends import NAMES, PLACEHOLDER, Switch
from tools.registry.backends import backend as backend_of

FILES = ("_core.pyx", "_kernels.pyx", "twin.py")
# What did not work while the recipes were made (docs/devloop.md), and the upstream issue.
NOT_WORKING = [
    ("meson 1.12.1 accepts -Dcython_args and ignores it: no line tracing", "mesonbuild/meson#15989"),
    ("CPython 3.13+, Cython's default CYTHON_USE_SYS_MONITORING=1: no .pyx reported", "coveragepy/coveragepy#1790"),
    (
        "COVERAGE_CORE=sysmon (the default from 3.14): plugins do not run, no .pyx reported",
        "coveragepy/coveragepy#1790",
    ),
    ("without the generated C next to the .pyx the plugin claims no file", "cython/cython#6186"),
]


def link_c(project: Path, name: str, backend: str) -> dict[str, str]:
    """Link the C of each module next to its .pyx, where Cython.Coverage looks; each module -> where its C is.

    setuptools wrote it there already (its coverage switch); meson and CMake
    keep it in their build folder, named <package>.<module>.c by tools/cythonize.py.
    """
    found = {}
    for module in modules(project, backend):
        target = project / "src" / name / f"{module}.c"
        if not target.exists():
            built = list(project.glob(f"build/**/{name}.{module}.c"))
            if not built:
                continue
            target.symlink_to(os.path.relpath(max(built, key=lambda p: p.stat().st_mtime), target.parent))
        found[module] = str(target.resolve().relative_to(project))
    return found


def rcfile(path: Path, name: str, subprocesses: bool) -> Path:
    """coverage's configuration: Cython's plugin, the package's files, the data file beside it."""
    lines = ["[run]", "plugins = Cython.Coverage", f"source_pkgs = {name}", f"data_file = {path.parent / '.coverage'}"]
    # A shared utility module built with the trace defines traces a line of a
    # _cyutility.pyx that does not exist; unomitted, every report stops on it.
    lines.append("omit = */_cyutility.pyx")
    if subprocesses:  # every process writes its own file; `coverage combine` joins them
        lines += ["parallel = true", "patch = subprocess, _exit, fork", "concurrency = thread, multiprocessing"]
    path.write_text("\n".join([*lines, "[report]", "show_missing = true", ""]), encoding="utf-8")
    return path


def ranges(lines: Sequence[int]) -> str:
    """[132, 136, 137] -> "132, 136-137"."""
    spans: list[list[int]] = []
    for line in sorted(lines):
        if spans and line == spans[-1][1] + 1:
            spans[-1][1] = line
        else:
            spans.append([line, line])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans) or "none"


def measure_backend(backend: str, work: Path, args, also: Switch | None = None, name: str | None = None) -> dict:
    """One backend's editable build with its coverage switch (and `also`'s settings), the suite under coverage."""
    spec = backend_of(backend)
    name = name or f"{PLACEHOLDER}_{backend}"
    project = steps.fresh(backend, work, name=name)
    requires = [*build_requires(project), *spec.dev_tools, *test_packages(), "coverage>=7.10"]
    py = venv(project.parent / f"venv-{backend}", requires)
    switch_args, switch_env = spec.coverage.named(name)
    if also is not None:
        also_args, also_env = also.named(name)
        switch_args, switch_env = [*switch_args, *also_args], {**switch_env, **also_env}
    print(f"{backend}: editable install with {' '.join([*(f'{k}={v}' for k, v in switch_env.items()), *switch_args])}")
    build_s = editable(py, backend, project, switch_args, switch_env)
    c_files = link_c(project, name, backend)
    rc = rcfile(project.parent / f"coveragerc-{backend}", name, args.subprocesses)
    # From the project's root: setuptools' trace names a .pyx relative to it
    # (src/<name>/_core.pyx), meson's and CMake's relative to src/ (<name>/_core.pyx),
    # which coverage looks up on sys.path (not for setuptools: build_info() would read
    # the egg-info its editable install leaves in src/). Only 3.14+ needs COVERAGE_CORE:
    # its default, sysmon, runs no plugins (coveragepy/coveragepy#1790).
    env = in_venv(py, {"COVERAGE_CORE": "ctrace", **({} if backend == "setuptools" else {"PYTHONPATH": "src"})})
    # scikit-build-core's rebuild on import prints a line on stdout, which the
    # tests that read their child's first line take for its answer.
    env["SKBUILD_EDITABLE_VERBOSE"] = "0"
    coverage = [py, "-m", "coverage"]
    tests = [str(ROOT / t) for t in args.tests]
    suite = [*coverage, "run", f"--rcfile={rc}", "-m", "pytest", *tests, "-p", "no:cacheprovider", "-q"]
    print(f"{backend}: the suite under coverage (at most {args.timeout:g} s)", flush=True)
    t0 = time.perf_counter()
    status, output = run_bounded(suite, cwd=project, env=env, timeout=args.timeout)
    tests_s = time.perf_counter() - t0
    if args.subprocesses:
        run_bounded([*coverage, "combine", f"--rcfile={rc}"], cwd=project, env=env, timeout=600)
    out = project.parent / f"coverage-{backend}.json"
    run_bounded([*coverage, "json", f"--rcfile={rc}", "-o", str(out)], cwd=project, env=env, timeout=600)
    measured = json.loads(out.read_text(encoding="utf-8"))["files"] if out.exists() else {}
    files = {}
    for file in FILES:
        hit = next((v for k, v in measured.items() if Path(k).name == file), None)
        files[file] = hit and {
            "percent": round(hit["summary"]["percent_covered"], 1),
            "statements": hit["summary"]["num_statements"],
            "missing": hit["missing_lines"],
        }
    versions = steps.tool_versions(py)
    versions["coverage"] = run([py, "-m", "coverage", "--version"])[1].split()[2]
    return {
        "mode": "editable",
        "tools": {k: v for k, v in versions.items() if v != "-"},
        "switch": {"args": switch_args, "env": switch_env},
        "c_files": c_files,
        "files": files,
        "pytest": pytest_outcome(output)[0]
        if status is not None and status >= 0
        else f"killed ({status or 'timeout'})",
        "pytest_status": status,
        "failed": pytest_outcome(output)[1],
        "build_s": round(build_s, 1),
        "tests_s": round(tests_s, 1),
    }


def measure(args) -> dict:
    results = {}
    with workdir("coverage-") as work:
        for backend in args.backends:
            results[backend] = measure_backend(backend, work, args)
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": command_line("coverage", sys.argv[1:]),
        "machine": machine(),
        "subprocesses": args.subprocesses,
        "backends": results,
        "not_working": NOT_WORKING,
    }


def markdown(data: dict) -> str:
    b = data["backends"]
    names = list(b)

    def switch(r: dict) -> str:
        return " ".join(
            [*(f"`{k}={v}`" for k, v in r["switch"]["env"].items()), *(f"`{a}`" for a in r["switch"]["args"])]
        )

    def cell(info: dict | None) -> str:
        return "not measured" if info is None else f"{info['percent']:.1f} % of {info['statements']}"

    def missed(n: str, file: str) -> str:
        return ranges((b[n]["files"][file] or {}).get("missing", []))

    rows = [
        ["", *names],
        *([file, *(cell(b[n]["files"][file]) for n in names)] for file in FILES),
        *([f"{file}: lines missed", *(missed(n, file) for n in names)] for file in FILES),
        ["switch", *(switch(b[n]) for n in names)],
        ["generated C read from", *(", ".join(b[n]["c_files"].values()) or "none" for n in names)],
        ["suite", *(b[n]["pytest"] for n in names)],
        ["build, suite (s)", *(f"{b[n]['build_s']:.0f}, {b[n]['tests_s']:.0f}" for n in names)],
        ["tools", *(", ".join(f"{k} {v}" for k, v in b[n]["tools"].items()) for n in names)],
    ]
    issues = "\n".join(f"- {what} ({issue})" for what, issue in data["not_working"])
    failed = "".join(f"\n- {n}: {line}" for n in names for line in b[n]["failed"]) or " none"
    children = "and the processes it starts" if data["subprocesses"] else "(not the processes it starts)"
    return f"""# Coverage

{data["date"]} · `{data["command"]}` · Python {data["machine"]["python"]} · {describe(data["machine"])},
load {data["machine"]["load_average"]}

Line coverage by the repository's suite {children}, of an editable install of each template built with its
coverage switch (tools/registry/backends.py), Cython.Coverage reading the generated C linked next to each .pyx.

{md_table(rows)}

Tests that failed:{failed}

What did not work:

{issues}
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="nox -s coverage --", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--out", type=Path, default=ROOT / "reports", help="where coverage.json and .md go")
    parser.add_argument("--backends", nargs="+", choices=NAMES, default=list(NAMES), help="default: all three")
    parser.add_argument("--subprocesses", action="store_true", help="measure the tests' child processes too")
    parser.add_argument(
        "--tests", nargs="+", default=["tests"], help="test files or folders, from this repository (default: tests)"
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a suite run is killed")
    args = parser.parse_args(argv)
    _, json_path = report("coverage", measure, markdown, args)
    print(f"wrote {json_path} and coverage.md")


if __name__ == "__main__":
    main()
