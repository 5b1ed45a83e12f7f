"""Free-threaded CPython (3.14t and later): find one, and what `nox -s test_freethreaded` runs on it.

`find` looks on PATH (python3.14t ... and a `python3`/`python` that is
free-threaded, as actions/setup-python's "3.14t" provides), among pyenv's
installed versions (3.14.0t ...) and in uv's (`uv python find`, which only
looks and never downloads). Every candidate is asked whether it was built
with Py_GIL_DISABLED: a name proves nothing.

    python -m tools.checks.freethreaded find     the interpreter, or nothing
    python -m tools.checks.freethreaded test [PYTEST ARGS]

`test` makes a venv of the interpreter under build/freethreaded/, builds
each backend for it, checks that the GIL stays off after importing each
build, runs the suite, then tests/test_core.py with every test run by 4
threads at once (pytest-run-parallel), and times the twin's threads.

NOT RUN HERE: this machine has no free-threaded interpreter, so only the
"none found" path has run (see the README).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tools.inspect.probes import NS_PER_ELEMENT

# Free-threading is supported (no longer experimental) from 3.14 on (PEP 779).
MINORS = range(14, 20)
NOT_FOUND = (
    "no free-threaded CPython >= 3.14 (python3.14t) on PATH, in pyenv or in uv's interpreters: "
    "nothing built or tested for it here"
)

# Is the interpreter free-threaded, and new enough? Prints "yes" or "no".
_ASK = (
    "import sys, sysconfig; "
    "print('yes' if sysconfig.get_config_var('Py_GIL_DISABLED') and sys.version_info >= (3, 14) else 'no')"
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


def _is_freethreaded(python: str) -> bool:
    try:
        done = subprocess.run([python, "-c", _ASK], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.stdout.strip() == "yes"


def _output(*cmd: str) -> str:
    """A command's standard output, or "" when it fails or is missing."""
    try:
        done = subprocess.run(list(cmd), capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout if done.returncode == 0 else ""


def candidates() -> Iterator[str]:
    """Interpreters that may be free-threaded, most specific first (unchecked)."""
    for minor in MINORS:
        if found := shutil.which(f"python3.{minor}t"):
            yield found
    for name in ("python3", "python"):
        if found := shutil.which(name):
            yield found
    if shutil.which("pyenv"):
        root = Path(_output("pyenv", "root").strip())
        for version in _output("pyenv", "versions", "--bare", "--skip-aliases").split():
            if match := re.fullmatch(r"3\.(\d+)\.\d+t", version):
                yield str(root / "versions" / version / "bin" / f"python3.{match[1]}t")
    if shutil.which("uv"):
        for minor in MINORS:
            if found := _output("uv", "python", "find", "--no-project", f"3.{minor}t").strip():
                yield found


def find() -> str | None:
    """The first free-threaded CPython >= 3.14 found, or None."""
    seen = set()
    for python in candidates():
        if python in seen or not Path(python).exists():
            continue
        seen.add(python)
        if _is_freethreaded(python):
            return python
    return None


def venv_python(venv: Path) -> str:
    """The interpreter of a virtual environment made by `python -m venv`."""
    return str(venv / ("Scripts" if os.name == "nt" else "bin") / ("python.exe" if os.name == "nt" else "python"))


def _variants() -> dict[str, list]:
    """The builds tested on the free-threaded Python, by the venv they are installed in together."""
    from tools.registry.variants import default_builds, select

    together = default_builds() + select(utility="shared")
    if shutil.which("clang"):
        together += select(compiler="clang")
    else:
        print("no clang on PATH: its builds are left out", flush=True)
    return {"venv": together, "venv-no-openmp": select(openmp="off")}


def test(python: str, pytest_args: list[str], packages: list[str], busy_runs: int) -> int:
    """Build the variants for `python` in venvs of their own under build/freethreaded/, and test them there."""
    from tools.make.build import BuildFailed, build_variant
    from tools.make.render import ROOT

    work = ROOT / "build" / "freethreaded"

    def run(*cmd: str) -> None:
        print(f"$ {' '.join(cmd)}", flush=True)
        subprocess.run(cmd, check=True, cwd=ROOT)

    try:
        for folder, variants in _variants().items():
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
        # --busy-runs N: the Ctrl-C tests N times on a busy machine (default 3).
        args = sys.argv[2:]
        cut = args.index("--packages") if "--packages" in args else len(args)
        pytest_args, packages, busy_runs = args[:cut], args[cut + 1 :], 3
        if "--busy-runs" in pytest_args:
            at = pytest_args.index("--busy-runs")
            busy_runs = int(pytest_args[at + 1])
            del pytest_args[at : at + 2]
        sys.exit(test(found, pytest_args, packages, busy_runs))
    sys.exit(
        NOT_FOUND if sys.argv[1:2] == ["test"] else "usage: python -m tools.checks.freethreaded find | test [ARGS]"
    )
