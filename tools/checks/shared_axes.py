"""Cython's shared utility module against every other build axis: `nox -s test_shared_axes`.

    python -m tools.checks.shared_axes [--axes AXIS ...] [--backends B ...] [--smoke] [--out DIR]

Each template's shared-utility switch (tools/registry/backends.py), turned on
together with one other axis, per backend; every combination is built from a
fresh copy and must hold `<package>._cyutility` and pass the suite:

- abi3: one Limited-API wheel, built by Python 3.12 (python3.12 on PATH); the
  utility module is named *.abi3.so like the others;
- clang: CC=clang with LLVM's OpenMP, required;
- no_openmp: the OpenMP switch off (the suite with --openmp=off);
- editable: the editable install a developer works in; one .pyx edited, then
  imported (meson-python, scikit-build-core rebuild then) or reinstalled
  (setuptools): the edited module must be rebuilt and `_cyutility` must not;
- aarch64: cross-compiled by the recipe beside the template; every module an
  AArch64 ELF; then a part of the suite in the arm64 root under qemu-user;
- sanitize: ASan and UBSan (tools/checks/sanitize.py), the suite under them;
- coverage: the editable build with line tracing (tools/instruments/coverage.py):
  every .pyx must be reported;
- reproducible: two checkouts at two paths, built with one SOURCE_DATE_EPOCH
  (tools/instruments/reproducible.py), must give the same wheel; where they
  differ, the same without the switch says whether the switch is the cause.

A combination that cannot run here (no python3.12, no clang, no arm64 root)
is skipped with the reason. --smoke takes each axis once, the backends in
turn, on a part of the suite: CI's run. Exit status 1 when one fails. Writes
reports/shared-axes.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace

from tools.checks import sanitize
from tools.inspect.dists import aarch64_problems
from tools.inspect.host import describe, machine
from tools.instruments import coverage, reproducible, steps
from tools.instruments.measure import command_line, md_table, write_report
from tools.instruments.scale import build_requires
from tools.make import cross, in_root
from tools.make.build import StepFailed, build, build_variant
from tools.make.envs import editable, in_venv, pytest_outcome, run_bounded, venv
from tools.make.in_root import test_packages
from tools.make.render import ROOT, render
from tools.registry.backends import NAMES, PLACEHOLDER, Switch
from tools.registry.backends import backend as backend_of
from tools.registry.variants import ABI3, ABI3_FLOOR, Variant

# In this order, --smoke gives each axis the next backend: editable falls to meson, one that rebuilds on import.
AXES = ("abi3", "editable", "clang", "no_openmp", "coverage", "aarch64", "sanitize", "reproducible")
# The axes that are fields of a variant, and the suite's --openmp option for each.
FIELDS = {"abi3": {"abi": ABI3}, "clang": {"compiler": "clang", "openmp": "on"}, "no_openmp": {"openmp": "off"}}
OPENMP_OPTION = {"clang": ["--openmp=on"], "no_openmp": ["--openmp=off"]}
DIST_ROOT = "build/shared-axes/dist"
SUITE = ["tests"]
PART = ["tests/test_core.py", "tests/test_variants.py"]
# Under qemu-user the whole suite takes the better part of an hour: the tests CI runs there.
EMULATED = [*PART, "-k", "large_ranges or agrees_with_twin or build_info or openmp or utility"]
# Line tracing makes the kernels some 50 times slower: the tests that reach every line cheaply.
TRACED = [f"tests/test_core.py::{t}" for t in ("test_small_ranges", "test_workers_split_blocks", "test_bad_input")]
TRACED += ["tests/test_core.py::test_build_info", "tests/test_variants.py"]


def shared_name(backend: str) -> str:
    """mathcore_meson_shared: the suite's shared-variant test runs on a package whose name ends in _shared."""
    return f"{PLACEHOLDER}_{backend}_shared"


def both(*switches: Switch) -> Switch:
    """One switch that turns on all of `switches`."""
    env: dict[str, str] = {}
    for s in switches:
        env.update(s.env)
    return Switch(tuple(arg for s in switches for arg in s.args), env)


def utility_modules(names: Sequence[str], package: str) -> list[str]:
    """The files among `names` (a wheel's or a folder's) that are `package`'s utility module."""
    return [
        n for n in names if n.replace("\\", "/").startswith(f"{package}/_cyutility.") and n.endswith((".so", ".pyd"))
    ]


def in_wheel(wheel: Path, package: str, abi3: bool = False) -> str | None:
    """What is wrong with the wheel's utility module (None: one, named as its ABI asks)."""
    with zipfile.ZipFile(wheel) as zf:
        found = utility_modules(zf.namelist(), package)
    if len(found) != 1:
        return f"{wheel.name}: {len(found)} {package}/_cyutility modules"
    if abi3 != (".abi3." in found[0]):
        return f"{found[0]}: named {'not ' if abi3 else ''}for the Limited API, unlike the build"
    return None


def pytest(py: str, tests: Sequence[str], env: dict[str, str] | None = None, timeout: float = 1800) -> dict:
    """The suite (or a part) over what `py`'s environment holds, in a child killed with its group at `timeout`."""
    cmd = [py, "-m", "pytest", "-p", "no:cacheprovider", "-q", *tests]
    status, output = run_bounded(cmd, cwd=ROOT, env=env or in_venv(py), timeout=timeout)
    summary, failed = pytest_outcome(output)
    return {
        "status": status,
        "summary": summary if status is not None else f"killed at {timeout:g} s",
        "failed": failed,
    }


def result(how: str, problems: Sequence[str], suite: dict | None = None, note: str = "") -> dict:
    bad = [*problems, *(suite["failed"] if suite else [])]
    if suite and suite["status"] != 0:
        bad.append(f"suite: {suite['summary']}")
    state = "failed" if bad else "passed"
    return {"state": state, "how": how, "suite": suite and suite["summary"], "problems": bad, "note": note}


def skipped(why: str) -> dict:
    return {"state": "skipped", "how": "", "suite": None, "problems": [], "note": why}


def find_python(version: str) -> str | None:
    """An interpreter of that version that runs (pyenv's shim for a version not selected does not)."""
    exe = shutil.which(f"python{version}")
    done = exe and subprocess.run([exe, "-c", "pass"], capture_output=True, check=False)
    return exe if done and done.returncode == 0 else None


def variant_axis(axis: str, backend: str, work: Path, tests: Sequence[str]) -> dict:
    """abi3, clang, no_openmp: a variant of the registry's axes, with utility="shared"; built, then its suite."""
    v = Variant(backend, utility="shared", dist_root=DIST_ROOT, **FIELDS[axis])
    python = frontend = sys.executable
    if axis == "abi3":
        if not (python := find_python(ABI3_FLOOR)):
            return skipped(f"no python{ABI3_FLOOR} on PATH: abi3 builds on the oldest Python it targets")
        made = work / f"venv-build-{ABI3_FLOOR}"
        frontend = str(made / "bin" / "python") if made.exists() else venv(made, ["build[uv]>=1.2"], python=python)
    if axis == "clang" and not shutil.which("clang"):
        return skipped("no clang: apt-get install clang libomp-dev")
    wheel = next(p for p in build_variant(v, ROOT, python=frontend) if p.suffix == ".whl")
    problems = [p for p in [in_wheel(wheel, v.name, abi3=axis == "abi3")] if p]
    py = venv(work / f"venv-{v.label}", [*test_packages(), str(wheel)], python=python)
    return result(v.switches(), problems, pytest(py, [*tests, *OPENMP_OPTION.get(axis, [])]))


def built_modules(project: Path) -> dict[str, set[tuple[str, int, int]]]:
    """Each compiled module of an editable install: its files (in src/, the build folder), inode and mtime of each."""
    found: dict[str, set[tuple[str, int, int]]] = {}
    for path in project.rglob("*.so"):
        stat = path.stat()
        found.setdefault(path.name.split(".")[0], set()).add((str(path), stat.st_ino, stat.st_mtime_ns))
    return found


def editable_axis(backend: str, work: Path, tests: Sequence[str]) -> dict:
    """The editable install with the switch; a .pyx edit rebuilds that module, not _cyutility; the suite over it."""
    spec, name = backend_of(backend), shared_name(backend)
    project = steps.fresh(backend, work, name=name)
    py = venv(work / f"venv-editable-{backend}", [*build_requires(project), *spec.dev_tools, *test_packages()])
    args, env = spec.shared_utility.named(name)
    editable(py, backend, project, args, env)
    # scikit-build-core's rebuild prints on stdout, which tests that read a child's first line take for its answer.
    # The suite finds builds with pkgutil, which sees no meson-python or scikit-build-core editable package
    # (their finders are on sys.meta_path) unless its folder is on the path; the import still goes through them.
    path = {} if backend == "setuptools" else {"PYTHONPATH": str(project / "src")}
    quiet = in_venv(py, {"SKBUILD_EDITABLE_VERBOSE": "0", **path})
    run_bounded([py, "-c", f"import {name}._core"], env=quiet, timeout=600)  # any rebuild the first import makes
    before = built_modules(project)
    steps.edit(project, name, "_core", stamp=1)
    if spec.rebuilds_on_import:
        how = f"{' '.join(args)} -e .; edit _core.pyx; import"
    else:
        editable(py, backend, project, args, env)
        how = f"{' '.join(f'{k}={v}' for k, v in env.items())} pip install -e . twice, _core.pyx edited between"
    seen, _ = run_bounded([py, "-c", f"import {name}._core as m; assert m._EDITED == 1"], env=quiet, timeout=600)
    after = built_modules(project)
    rebuilt = sorted(m for m in after if before.get(m) != after[m])
    problems = [] if seen == 0 else ["the edit to _core.pyx was not seen"]
    problems += [] if "_cyutility" in before else [f"no _cyutility module under {project.name}/"]
    note = f"rebuilt: {', '.join(rebuilt) or 'nothing'}"
    if "_core" not in rebuilt:
        problems.append(f"_core was not rebuilt ({note})")
    if "_cyutility" in rebuilt:
        # setuptools' editable install compiles every module again: its build_temp is a new temporary folder.
        why = "" if spec.rebuilds_on_import else ": setuptools' reinstall rebuilds every module"
        note += why
        if spec.rebuilds_on_import:
            problems.append(f"an edit to _core.pyx rebuilt _cyutility ({note})")
    return result(how, problems, pytest(py, tests, env=quiet), note)


def aarch64_axis(backend: str, _work: Path, tests: Sequence[str]) -> dict:
    """Cross-compiled with the shared switch; AArch64 modules, _cyutility among them; a part of the suite under qemu."""
    if reason := in_root.unavailable("aarch64"):
        return skipped(f"aarch64: {reason}")
    v = Variant(backend, utility="shared", target="aarch64", way="cross", dist_root="build/aarch64/shared-dist")
    cross.build_variant(v)
    wheel = v.wheels(ROOT)[-1]
    problems = [p for p in [in_wheel(wheel, v.name), *aarch64_problems(wheel)] if p]
    target = in_root.ensure("aarch64")
    py = in_root.venv(target, "python3", *test_packages(), f"{in_root.REPO}/{wheel.relative_to(ROOT).as_posix()}")
    done = in_root.run(target, [py, "-m", "pytest", *in_root.PYTEST, "-q", *tests], check=False, capture=True)
    summary, failed = pytest_outcome(done.stdout + done.stderr)
    suite = {"status": done.returncode, "summary": summary, "failed": failed}
    return result(f"{v.switches()} + {v.spec.cross_files[0]}", problems, suite)


def sanitize_axis(backend: str, work: Path, tests: Sequence[str]) -> dict:
    """ASan and UBSan with the shared switch: the suite under them, and no report."""
    preload = sanitize.runtime("libasan.so")
    if not preload:
        return skipped("gcc has no libasan here")
    spec, name = backend_of(backend), shared_name(backend)
    switch = both(spec.sanitize, spec.shared_utility)
    py, _ = sanitize.built(backend, work, switch, test_packages(), name=name)
    logs = work / f"asan-{backend}"
    deselect = ["-k", " and ".join(f"not {k}" for k in sanitize.DESELECTED)]
    ran = sanitize.suite(py, sanitize.sanitizer_env(logs, preload), [*tests, *deselect], logs, 3600)
    args, env = switch.named(name)
    how = " ".join([*(f"{k}={v}" for k, v in env.items()), *args])
    return result(how, [f"sanitizer: {r}" for r in ran["reports"]], ran)


def coverage_axis(backend: str, work: Path, tests: Sequence[str]) -> dict:
    """The coverage session's editable build with the shared switch: its tests pass, every .pyx is reported."""
    spec, name = backend_of(backend), shared_name(backend)
    args = SimpleNamespace(tests=tests, timeout=3600, subprocesses=False)
    got = coverage.measure_backend(backend, work, args, also=spec.shared_utility, name=name)
    problems = [f"{file}: not reported" for file, hit in got["files"].items() if not hit or not hit["percent"]]
    suite = {"status": got["pytest_status"], "summary": got["pytest"], "failed": got["failed"]}
    how = " ".join([*(f"{k}={v}" for k, v in got["switch"]["env"].items()), *got["switch"]["args"]])
    lines = ", ".join(f"{f} {h['percent']}%" for f, h in got["files"].items() if h)
    return result(how, problems, suite, note=lines)


def twice(backend: str, work: Path, switch: Switch, name: str) -> dict:
    """Two checkouts at two paths built with `switch` and one SOURCE_DATE_EPOCH: reproducible.compare of the wheels."""
    args, env = switch.named(name)
    base = work / f"twice-{name}"
    source = render(backend, base / "source", name)
    outs = []
    for run in ("1", "2"):
        project = shutil.copytree(source, base / f"checkout-{run}", symlinks=True)
        outs.append(base / f"dist-{run}")
        build(project, outs[-1], sdist=False, args=args, env={**env, "SOURCE_DATE_EPOCH": reproducible.epoch()})
    (base / "tmp").mkdir()
    one = next(outs[0].glob("*.whl"))
    return {**reproducible.compare(one, outs[1] / one.name, base / "tmp"), "wheel": one}


def reproducible_axis(backend: str, work: Path, _tests: Sequence[str]) -> dict:
    """`nox -s reproducible`'s test with the switch on; where the wheels differ, the same without it, as a control."""
    spec, name = backend_of(backend), shared_name(backend)
    shared = twice(backend, work, spec.shared_utility, name)
    args, env = spec.shared_utility.named(name)
    how = " ".join([*(f"{k}={v}" for k, v in env.items()), *args, "twice, two checkouts, one SOURCE_DATE_EPOCH"])
    problems = [p for p in [in_wheel(shared["wheel"], name)] if p]
    if shared["identical"]:
        return result(how, problems, note="identical wheels")
    control = twice(backend, work, Switch(), f"{PLACEHOLDER}_{backend}")
    without = "identical without the switch" if control["identical"] else "differs without it too"
    return result(how, [*problems, f"wheels differ: {'; '.join(shared['differences'])[:200]} ({without})"])


CHECKS: dict[str, Callable[[str, Path, Sequence[str]], dict]] = {
    **{axis: (lambda b, w, t, axis=axis: variant_axis(axis, b, w, t)) for axis in FIELDS},
    "editable": editable_axis,
    "aarch64": aarch64_axis,
    "sanitize": sanitize_axis,
    "coverage": coverage_axis,
    "reproducible": reproducible_axis,
}
# The tests each axis runs, whole and in a smoke run.
TESTS = {"aarch64": (EMULATED, EMULATED), "coverage": (TRACED, TRACED)}


def plan(axes: Sequence[str], backends: Sequence[str], smoke: bool) -> list[tuple[str, str]]:
    """(axis, backend) pairs to run: all of them, or each axis once with the backends in turn (--smoke)."""
    if smoke:
        return [(axis, backends[i % len(backends)]) for i, axis in enumerate(axes)]
    return [(axis, b) for axis in axes for b in backends]


def markdown(data: dict) -> str:
    names = [b for b in NAMES if any(b in r for r in data["results"].values())]

    def cell(r: dict | None) -> str:
        if r is None:
            return "not run"
        text = {"passed": f"passed ({r['suite']})" if r["suite"] else "passed", "skipped": "skipped"}.get(
            r["state"], "**FAILED**: " + "; ".join(r["problems"])[:300]
        )
        return f"{text}{'; ' + r['note'] if r['note'] else ''}"

    rows = [["axis", *names]] + [[axis, *(cell(by.get(b)) for b in names)] for axis, by in data["results"].items()]
    hows = sorted({(axis, b, r["how"]) for axis, by in data["results"].items() for b, r in by.items() if r["how"]})
    switches = "\n".join(f"- {axis}, {b}: `{how}`" for axis, b, how in hows)
    return f"""# The shared utility module against the other axes

{data["date"]} · `{data["command"]}` · Python {data["machine"]["python"]} · {describe(data["machine"])}

Each combination built from a fresh copy of the template with its shared-utility switch and the axis's
(tools/checks/shared_axes.py says what each checks); the suite's outcome in brackets.

{md_table(rows)}

How each was built:

{switches}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nox -s test_shared_axes --", description=__doc__.split("\n\n")[0])
    parser.add_argument("--axes", nargs="+", choices=AXES, default=list(AXES), help="default: all")
    parser.add_argument("--backends", nargs="+", choices=NAMES, default=list(NAMES), help="default: all three")
    parser.add_argument("--smoke", action="store_true", help="each axis once, the backends in turn, part of the suite")
    parser.add_argument("--out", type=Path, default=ROOT / "reports", help="where shared-axes.json and .md go")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="shared-axes-") as tmp:
        for axis, b in plan(args.axes, args.backends, args.smoke):
            whole, part = TESTS.get(axis, (SUITE, PART))
            print(f"--- {axis}, {b}", flush=True)
            t0 = time.perf_counter()
            try:
                got = CHECKS[axis](b, Path(tmp), part if args.smoke else whole)
            except (StepFailed, subprocess.CalledProcessError) as error:
                got = result("", [f"build: {error}"])
            got["seconds"] = round(time.perf_counter() - t0)
            results.setdefault(axis, {})[b] = got
            print(f"{axis}, {b}: {got['state']} {got['problems'] or ''} {got['note']} ({got['seconds']} s)", flush=True)
    data = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": command_line("test_shared_axes", sys.argv[1:] if argv is None else argv),
        "machine": machine(),
        "results": results,
    }
    path = write_report(args.out, "shared-axes", data, markdown(data))
    print(markdown(data))
    print(f"wrote {path} and shared-axes.md")
    return 1 if any(r["state"] == "failed" for by in results.values() for r in by.values()) else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
