"""Free-threaded CPython (3.14t and later): find one, and what `nox -s test_freethreaded` runs on it.

`find` (tools/inspect/pythons.py) looks on PATH, among pyenv's and uv's
interpreters, and asks each whether it was built with Py_GIL_DISABLED.

    python -m tools.checks.freethreaded find     the interpreter, or nothing
    python -m tools.checks.freethreaded test [--smoke] [--busy-runs N] [PYTEST ARGS]

`test` makes venvs of the interpreter under build/freethreaded/: one with
each backend built with the default compiler, with the shared utility
module and with clang (where clang is on PATH), one with each backend's
OpenMP off. In each it checks that the GIL stays off after importing every
build, runs the suite, then tests/test_core.py with every test run by 4
threads at once (pytest-run-parallel), the Ctrl-C tests on a busy machine
(tools/checks/signals.py, --busy-runs N, default 3), and times the twin's
threads. Run here on CPython 3.14.7t (docs/pythons.md says how it was built).
"""

from __future__ import annotations

import shutil
import subprocess
import sys

from tools.inspect.probes import NS_PER_ELEMENT
from tools.inspect.pythons import find, venv_python

NOT_FOUND = (
    "no free-threaded CPython >= 3.14 (python3.14t) on PATH, in pyenv or in uv's interpreters: "
    "nothing built or tested for it here"
)

# After importing each build: is the GIL still off? A module that does not
# declare itself free-threading compatible (Cython: freethreading_compatible)
# makes the interpreter turn the GIL on at import, with a RuntimeWarning only.
GIL_CHECK = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
    if sys._is_gil_enabled():
        sys.exit(f"importing {name} turned the GIL on: its modules do not declare free-threading support")
    print(f"{name}: imported, the GIL is still off")
"""

# The twin's threads, timed: pure Python, which free-threading lets scale
# with the cores (with the GIL, threads only take turns). Median of 5 calls.
TWIN_THREADS = (
    NS_PER_ELEMENT
    + """
import importlib, json, sys

twin = importlib.import_module(sys.argv[1]).twin
cores = twin._available_cores()
N = 2_000_000

serial = ns(twin.do_math, N)
threads = ns(lambda start, num: twin.do_math_threaded(start, num, cores), N)
print(json.dumps({
    "python": sys.version, "gil_enabled": sys._is_gil_enabled(), "cores": cores,
    "twin do_math (ns/element)": round(serial, 2),
    f"twin do_math_threaded x{cores} (ns/element)": round(threads, 2),
    "speedup": round(serial / threads, 2),
}))
"""
)


# CI's smoke run (--smoke): one backend, the core's tests and the Ctrl-C
# tests once; the whole session takes some 20 minutes on 2 cores (every
# build runs an uncompiled Cython there).
SMOKE_BACKEND = "meson"
SMOKE_TESTS = ("tests/test_core.py", "tests/test_robust.py", "-q")


def _variants(smoke: bool) -> dict[str, list]:
    """The builds tested on the free-threaded Python, by the venv they are installed in together."""
    from tools.registry.variants import default_builds, select

    if smoke:
        return {"venv": default_builds(backend=SMOKE_BACKEND)}
    together = default_builds() + select(utility="shared")
    if shutil.which("clang"):
        together += select(compiler="clang")
    else:
        print("no clang on PATH: its builds are left out", flush=True)
    return {"venv": together, "venv-no-openmp": select(openmp="off")}


def test(python: str, pytest_args: list[str], packages: list[str], busy_runs: int, smoke: bool) -> int:
    """Build the variants for `python` in venvs of their own under build/freethreaded/, and test them there."""
    from tools.make.build import BuildFailed, build_variant
    from tools.make.render import ROOT

    work = ROOT / "build" / "freethreaded"

    def run(*cmd: str) -> None:
        print(f"$ {' '.join(cmd)}", flush=True)
        subprocess.run(cmd, check=True, cwd=ROOT)

    try:
        for folder, variants in _variants(smoke).items():
            venv = work / folder
            shutil.rmtree(venv, ignore_errors=True)
            run(python, "-m", "venv", str(venv))
            py = venv_python(venv)
            run(py, "-m", "pip", "install", "--quiet", *packages, "pytest-run-parallel>=0.7")
            for v in variants:
                build_variant(v, work, python=py)
            run(py, "-m", "pip", "install", "--quiet", *(str(w) for v in variants for w in v.wheels(work)))
            run(py, "-c", GIL_CHECK, *(v.name for v in variants))
            if folder == "venv-no-openmp":
                run(py, "-m", "pytest", "--openmp=off", "-q", *pytest_args)
                continue
            if smoke:
                run(py, "-m", "pytest", *SMOKE_TESTS, *pytest_args)
                run(sys.executable, "-m", "tools.checks.signals", "--python", py, "--runs", "1")
                continue
            # The whole suite (tests/test_robust.py calls every function from 16
            # threads at once), then each test of test_core.py run by 4 threads at once.
            run(py, "-m", "pytest", *pytest_args)
            run(py, "-m", "pytest", "tests/test_core.py", "--parallel-threads=4", "-q", *pytest_args)
            # Ctrl-C with every core busy: where an uninterruptible wait shows (tools/checks/signals.py).
            if busy_runs:
                run(sys.executable, "-m", "tools.checks.signals", "--python", py, "--runs", str(busy_runs))
            run(py, "-c", TWIN_THREADS, variants[0].name)
    except (subprocess.CalledProcessError, BuildFailed) as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["find"]:
        print(find() or "")
        sys.exit(0)
    if sys.argv[1:2] == ["test"] and (found := find()):
        # What the test group and the build group install, passed by the session after --packages;
        # --busy-runs N: the Ctrl-C tests N times on a busy machine (default 3); --smoke: CI's run.
        args = sys.argv[2:]
        cut = args.index("--packages") if "--packages" in args else len(args)
        pytest_args, packages, busy_runs = args[:cut], args[cut + 1 :], 3
        smoke = "--smoke" in pytest_args
        if smoke:
            pytest_args.remove("--smoke")
        if "--busy-runs" in pytest_args:
            at = pytest_args.index("--busy-runs")
            busy_runs = int(pytest_args[at + 1])
            del pytest_args[at : at + 2]
        sys.exit(test(found, pytest_args, packages, busy_runs, smoke))
    sys.exit(
        NOT_FOUND if sys.argv[1:2] == ["test"] else "usage: python -m tools.checks.freethreaded find | test [ARGS]"
    )
