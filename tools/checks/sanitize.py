"""ASan and UBSan over the suite, a negative control they must catch, and TSan on request: `nox -s sanitize`.

    python -m tools.checks.sanitize [--backends B ...] [--tsan] [--out DIR]

Per backend, each from a fresh rendered copy of its template:

- a wheel built with its sanitize switch (tools/registry/backends.py) and
  OpenMP required, in a venv of its own; the suite run with gcc's ASan
  runtime preloaded (CPython is not built with it, and it must come first),
  less what cannot run under ASan (DESELECTED);
- the negative control: a copy with one more module, BAD_PYX, built the
  same way; each planted bug, called in a child process, must end it with
  the sanitizer's report, and in-bounds calls must pass. Where Python's
  -fwrapv defines signed overflow (setuptools), UBSan cannot see it: said so;
- with --tsan: clang with LLVM's OpenMP, -fsanitize=thread, the threaded
  tests under gcc's TSan runtime, with Archer (LLVM's OpenMP tool for TSan)
  where installed, then without it to show that TSan reports at all.

Exit status 1 when a suite fails or a sanitizer reports in it, a planted
bug goes unreported, or TSan with Archer reports a race. Writes
reports/sanitize.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools.inspect.host import describe, machine
from tools.instruments import steps
from tools.instruments.measure import command_line, md_table, write_report
from tools.make.build import BuildFailed
from tools.make.envs import pytest_outcome, run_bounded, venv
from tools.make.in_root import test_packages
from tools.make.render import ROOT, add_modules
from tools.registry.backends import NAMES, PLACEHOLDER, Switch, sanitizer
from tools.registry.backends import backend as backend_of

# -k expressions of the tests left out under ASan, and why.
DESELECTED = {
    "emulated_cpu": "qemu-x86_64 inherits LD_PRELOAD, so the emulated Python loads ASan: qemu grew past 20 GB, OOM-killed",
    "huge_workers_costs_no_memory": "its child caps its address space at 4 GiB; ASan's shadow memory needs terabytes",
}
# The tests that run threads or OpenMP teams, for TSan.
THREADED = ["tests/test_robust.py", "tests/test_core.py", "-k", "threaded or parallel or gil or many_threads"]
TSAN_FLAGS = "-fsanitize=thread -fno-omit-frame-pointer -g"
BAD_PYX = '''\
# cython: language_level=3, boundscheck=False, wraparound=False
"""Deliberate undefined behaviour: the sanitizer check's negative control. Never ship it."""
from libc.stdlib cimport free, malloc

cdef int table[4]

def heap_write(Py_ssize_t n, Py_ssize_t i):  # i == n: one past the end of a buffer sized at run time
    cdef int *buf = <int *> malloc(n * sizeof(int))
    buf[i] = 1
    cdef int value = buf[i]
    free(buf)
    return value

def global_write(Py_ssize_t i):  # i == 4: one past the end of a global array
    table[i] = 1
    return table[i]

def add(int a, int b):  # 2**31 - 1 + 1 overflows a C int: undefined, unless -fwrapv
    cdef int c = a + b
    return c
'''
# The planted bugs, then the same functions used correctly (which must pass).
BUGS = {
    "heap overflow": ("heap_write", 4, 4),
    "global overflow": ("global_write", 4),
    "signed overflow": ("add", 2**31 - 1, 1),
}
FINE = [("heap_write", 4, 3), ("global_write", 3), ("add", 1, 2)]
# A child calls MODULE.FUNCTION(*ints) from its arguments.
CALL = "import importlib as i, sys; m, f, *a = sys.argv[1:]; print(getattr(i.import_module(m), f)(*map(int, a)))"
REPORT = re.compile(r"^SUMMARY: \w+Sanitizer: .*|runtime error: .*|WARNING: ThreadSanitizer: .*", re.MULTILINE)


def runtime(library: str) -> str | None:
    """gcc's sanitizer runtime, which the runs preload; None where gcc has none (it prints the bare name)."""
    done = subprocess.run(["gcc", f"-print-file-name={library}"], capture_output=True, text=True, check=False)
    return done.stdout.strip() if Path(done.stdout.strip()).is_absolute() else None


def built(
    backend: str, work: Path, switch: Switch, packages: list[str], extra: str = "", name: str | None = None
) -> tuple[str, str]:
    """A fresh copy (with BAD_PYX if `extra`), its wheel built with `switch` and OpenMP required, in a new venv."""
    spec, name = backend_of(backend), name or f"{PLACEHOLDER}_{backend}"
    project = steps.fresh(backend, work, name=name)
    if extra:
        (project / "src" / name / f"{extra}.pyx").write_text(BAD_PYX, encoding="utf-8")
        add_modules(project, backend, [extra])
    args, env = switch.named(name)
    on_args, on_env = spec.openmp["on"].named(name)
    steps.wheel(sys.executable, project, project / "wheel-out", args=[*args, *on_args], env={**env, **on_env})
    wheel = next((project / "wheel-out").glob("*.whl"))
    return venv(project.parent / f"venv-{project.name}", [*packages, str(wheel)]), name


def reports(output: str, logs: Path) -> list[str]:
    """The sanitizer reports' headlines in the output and in the per-process log files."""
    texts = [output, *(p.read_text(errors="replace") for p in sorted(logs.glob("*")))]
    return [m.group(0).strip()[:200] for text in texts for m in REPORT.finditer(text)]


def suite(py: str, env: dict[str, str], pytest_args: list[str], work: Path, timeout: float) -> dict:
    cmd = [py, "-m", "pytest", "-p", "no:cacheprovider", "--capture=sys", "-q", *pytest_args]
    # --capture=sys: pytest's default fd capture swallows the report of a process that aborts.
    status, output = run_bounded(cmd, cwd=ROOT, env=env, timeout=timeout)
    summary, failed = pytest_outcome(output)
    return {"status": status, "summary": summary, "failed": failed, "reports": reports(output, work)}


def sanitizer_env(logs: Path, preload: str, tsan: bool = False, archer: str | None = None) -> dict[str, str]:
    """The environment of a run under ASan and UBSan, or TSan (with Archer as OpenMP's tool); reports go to `logs`."""
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LD_PRELOAD": preload}
    if not tsan:  # CPython's arenas and interned objects look like leaks at exit
        env["ASAN_OPTIONS"] = f"detect_leaks=0:log_path={logs}/asan"
        env["UBSAN_OPTIONS"] = f"print_stacktrace=1:halt_on_error=1:log_path={logs}/ubsan"
        return env
    # Every race, not only the first; Archer asks for ignore_noninstrumented_modules.
    options = "halt_on_error=0:report_signal_unsafe=0:ignore_noninstrumented_modules=1"
    return {
        **env,
        "TSAN_OPTIONS": f"{options}:log_path={logs}/tsan",
        **({"OMP_TOOL_LIBRARIES": archer} if archer else {}),
    }


def find_archer() -> str | None:
    """Archer for clang's libomp, where Debian's libomp5-N puts it (/usr/lib/llvm-N/lib); None if absent."""
    done = subprocess.run(["clang", "-dumpversion"], capture_output=True, text=True, check=False)
    path = Path(f"/usr/lib/llvm-{done.stdout.split('.')[0]}/lib/libarcher.so")
    return str(path) if done.returncode == 0 and path.exists() else None


def call(py: str, name: str, function: str, values: list[int], logs: Path, preload: str) -> tuple[int | None, list]:
    """_bad.function(*values) in a child under ASan: its exit status and the sanitizer reports."""
    env = sanitizer_env(logs, preload)
    status, output = run_bounded([py, "-c", CALL, f"{name}._bad", function, *map(str, values)], env=env, timeout=300)
    return status, reports(output, logs)


def check_backend(backend: str, work: Path, args: argparse.Namespace, preloads: dict) -> dict:
    switch = backend_of(backend).sanitize
    s_args, s_env = switch.named(f"{PLACEHOLDER}_{backend}")
    result: dict = {"switch": " ".join([*(f"{k}={v}" for k, v in s_env.items()), *s_args])}
    py, _ = built(backend, work, switch, list(test_packages()))
    logs = work / f"asan-{backend}"
    deselect = ["-k", " and ".join(f"not {k}" for k in DESELECTED)]
    print(f"{backend}: the suite under ASan and UBSan", flush=True)
    env = sanitizer_env(logs, preloads["asan"])
    result["suite"] = suite(py, env, [str(ROOT / "tests"), *deselect], logs, args.timeout)
    py, name = built(backend, work, switch, [], extra="_bad")
    result["negative"] = {}
    for bug, (function, *values) in BUGS.items():
        status, found = call(py, name, function, values, work / f"asan-{backend}-{function}", preloads["asan"])
        # setuptools compiles with Python's own CFLAGS, whose -fwrapv defines signed overflow.
        expected = not (bug == "signed overflow" and backend == "setuptools")
        result["negative"][bug] = {"status": status, "report": found[:1], "expected": expected}
    fine = [call(py, name, f, v, work / f"asan-{backend}-fine", preloads["asan"]) for f, *v in FINE]
    result["in_bounds_pass"] = all(status == 0 and not found for status, found in fine)
    if args.tsan:
        print(f"{backend}: the threaded tests under TSan (clang, libomp)", flush=True)
        py, _ = built(backend, work, sanitizer(backend, TSAN_FLAGS, cc="clang"), list(test_packages()))
        archer = find_archer()
        env = sanitizer_env(work / f"tsan-{backend}", preloads["tsan"], tsan=True, archer=archer)
        result["tsan"] = {**suite(py, env, THREADED, work / f"tsan-{backend}", args.timeout), "archer": archer}
        if archer:  # Without it TSan reports libomp's barriers as races: proof that it watches.
            env = sanitizer_env(work / f"tsan-{backend}-bare", preloads["tsan"], tsan=True)
            result["tsan"]["without_archer"] = len(
                suite(py, env, THREADED, work / f"tsan-{backend}-bare", 600)["reports"]
            )
    return result


def failures(backend: str, r: dict) -> list[str]:
    """What went wrong in one backend's result, in words."""
    bad = [] if r["suite"]["status"] == 0 else [f"{backend}: the suite under ASan: {r['suite']['summary']}"]
    bad += [f"{backend}: {line}" for line in r["suite"]["failed"]]
    bad += [f"{backend}: sanitizer report in the suite: {line}" for line in r["suite"]["reports"]]
    for bug, n in r["negative"].items():
        if n["expected"] and (n["status"] == 0 or not n["report"]):
            bad.append(f"{backend}: the planted {bug} was not reported (exit status {n['status']})")
    bad += [] if r["in_bounds_pass"] else [f"{backend}: the negative control's in-bounds calls failed"]
    if "tsan" in r and r["tsan"]["archer"] and (r["tsan"]["reports"] or r["tsan"]["status"] != 0):
        bad.append(f"{backend}: TSan with Archer: {r['tsan']['summary']}, {len(r['tsan']['reports'])} reports")
    if r.get("tsan", {}).get("without_archer") == 0:
        bad.append(f"{backend}: TSan reported nothing even without Archer: is it running?")
    return bad


def markdown(data: dict) -> str:
    b, names = data["backends"], list(data["backends"])

    def neg(n: dict) -> str:
        if n["report"]:
            return f"caught: `{n['report'][0][:90]}`"
        return "not reported, as expected (-fwrapv)" if not n["expected"] else f"NOT CAUGHT (exit {n['status']})"

    def run(r: dict, what: str) -> str:
        return f"{r['summary']}, {len(r['reports'])} {what}"

    def archer(r: dict) -> str:
        if not r["archer"]:
            return "none: libomp's synchronisation unseen, so no verdict"
        return f"{Path(r['archer']).name}; without it: {r['without_archer']} warnings (libomp unseen)"

    rows = [
        ["", *names],
        ["switch", *(f"`{b[n]['switch']}`" for n in names)],
        ["suite under ASan + UBSan", *(run(b[n]["suite"], "sanitizer reports") for n in names)],
        *([f"planted {bug}", *(neg(b[n]["negative"][bug]) for n in names)] for bug in BUGS),
        ["in-bounds calls", *("pass" if b[n]["in_bounds_pass"] else "FAIL" for n in names)],
    ]
    if all("tsan" in b[n] for n in names):
        rows.append(["TSan (clang, libomp), threaded tests", *(run(b[n]["tsan"], "warnings") for n in names)])
        rows.append(["Archer", *(archer(b[n]["tsan"]) for n in names)])
    deselected = "\n".join(f"- `{k}`: {why}" for k, why in DESELECTED.items())
    verdict = "".join(f"\n- {f}" for f in data["failures"]) or " none"
    return f"""# Sanitizers

{data["date"]} · `{data["command"]}` · Python {data["machine"]["python"]} · {describe(data["machine"])},
load {data["machine"]["load_average"]}

Wheels built with each backend's sanitize switch (tools/registry/backends.py) and OpenMP required; run with
`LD_PRELOAD=$(gcc -print-file-name=libasan.so)`, `ASAN_OPTIONS=detect_leaks=0`,
`UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1`, pytest `--capture=sys`. Left out under ASan:

{deselected}

{md_table(rows)}

Failures:{verdict}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nox -s sanitize --", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--backends", nargs="+", choices=NAMES, default=list(NAMES), help="default: all three")
    parser.add_argument("--tsan", action="store_true", help="also clang + libomp with TSan on the threaded tests")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a suite run is killed")
    parser.add_argument("--out", type=Path, default=ROOT / "reports", help="where sanitize.json and .md go")
    args = parser.parse_args(argv)
    preloads = {kind: runtime(f"lib{kind}.so") for kind in ("asan", "tsan")}
    if not preloads["asan"] or (args.tsan and not preloads["tsan"]):
        sys.exit(f"gcc's sanitizer runtimes are needed (libasan, and libtsan for --tsan): found {preloads}")
    results, failed = {}, []
    with tempfile.TemporaryDirectory(prefix="sanitize-") as tmp:
        for backend in args.backends:
            try:
                results[backend] = check_backend(backend, Path(tmp), args, preloads)
            except BuildFailed as error:
                print(error, file=sys.stderr)
                return 1
            failed += failures(backend, results[backend])
    data = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": command_line("sanitize", sys.argv[1:]),
        "machine": machine(),
        "deselected": DESELECTED,
        "backends": results,
        "failures": failed,
    }
    path = write_report(args.out, "sanitize", data, markdown(data))
    print(markdown(data))
    print(f"wrote {path} and sanitize.md")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
