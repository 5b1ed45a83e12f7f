"""A downstream package that cimports ours builds and runs (#29): `nox -s test_downstream`.

    python -m tools.checks.downstream [--backends B ...] [--upstream-utility module|shared]
                                      [--downstream-utility module|shared]

Per backend, in a temporary folder:

- the upstream: a fresh copy of the template as `mathcore_<backend>_shared`
  (`mathcore_<backend>` with --upstream-utility module), its wheel built
  with the backend's shared-utility switch, installed in a new venv;
- the downstream: the same backend's template renamed `downstream_<backend>`,
  one module more, DOWNSTREAM_PYX, which cimports `block_sum` and
  `max_threads` from the upstream's `_kernels` and sums a range with them in
  a GIL-free loop; the upstream is in its [build-system] requires and its
  dependencies, as a real downstream project names it, and the isolated
  build finds the wheel through UV_FIND_LINKS (an index, for a real one).
  Its own shared switch is on unless --downstream-utility module. No
  backend needs a line more to find the upstream's .pxd: Cython searches
  sys.path for it, and the `cython` that setuptools, meson and CMake run is
  the isolated build environment's, where the upstream is installed;
- its wheel installed in that venv, and in a child process (bounded in time)
  the module called: its answer must equal the twin's exact sum, and each
  package built shared must have its own `_cyutility` in sys.modules.

Exit status 1 on any failure, with what failed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

from tools.instruments import steps
from tools.make.build import StepFailed, run, uv
from tools.make.envs import run_bounded, venv
from tools.make.render import ROOT, add_modules
from tools.registry.backends import NAMES, PLACEHOLDER
from tools.registry.backends import backend as backend_of

MODULE = "_uses_upstream"
START, NUM = 123, 2_500_000  # many blocks of 2**14, a partial last one, both signs of pos - 1e6
DOWNSTREAM_PYX = """\
# cython: language_level=3
from {upstream}._kernels cimport block_sum, max_threads


def total(long long start, long long num):
    \"\"\"The upstream's block_sum over start+1 ... num, block by block, without the GIL; and max_threads().\"\"\"
    cdef double result = 0.0
    cdef long long lo = start
    cdef int threads
    with nogil:
        while lo < num:
            result += block_sum(lo, min(lo + 16384, num))
            lo += 16384
        threads = max_threads()
    return result, threads
"""
CHILD = """\
import importlib, json, sys
up, down, module, start, num = sys.argv[1:]
result, threads = importlib.import_module(f"{down}.{module}").total(int(start), int(num))
utility = {p: sys.modules.get(f"{p}._cyutility") for p in (up, down)}
print(json.dumps({"result": result, "threads": threads,
                  "utility": {p: m and m.__file__ for p, m in utility.items()},
                  "same": utility[up] is not None and utility[up] is utility[down]}))
"""


def exact(start: int, num: int) -> int:
    """The twin's exact sum (shared/mathcore/twin.py), loaded from this checkout."""
    spec = importlib.util.spec_from_file_location("_twin", ROOT / "shared" / PLACEHOLDER / "twin.py")
    twin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(twin)
    return twin.exact(start, num)


def judge(seen: dict, upstream: str, downstream: str, shared: dict[str, bool], expected: int) -> list[str]:
    """What is wrong with the child's report `seen`; shared: package -> built with its own _cyutility."""
    problems = []
    if seen["result"] != expected:
        problems.append(f"{downstream}.{MODULE}.total({START}, {NUM}) = {seen['result']!r}, the twin says {expected}")
    if not (isinstance(seen["threads"], int) and seen["threads"] >= 1):
        problems.append(f"max_threads() through {upstream}._kernels = {seen['threads']!r}, not a count")
    for package in (upstream, downstream):
        loaded = seen["utility"].get(package)
        if shared[package] and not loaded:
            problems.append(f"{package}._cyutility is not in sys.modules, yet {package} was built shared")
        if not shared[package] and loaded:
            problems.append(f"{package}._cyutility was imported ({loaded}), yet {package} was built without it")
    if seen["same"] or (all(shared.values()) and seen["utility"][upstream] == seen["utility"][downstream]):
        problems.append(f"{upstream}._cyutility and {downstream}._cyutility are one module")
    return problems


def downstream_project(backend: str, work: Path, upstream: str, name: str) -> Path:
    """The template renamed `name`, with DOWNSTREAM_PYX and the upstream as a build and a run requirement."""
    project = steps.fresh(backend, work, name=name)
    (project / "src" / name / f"{MODULE}.pyx").write_text(DOWNSTREAM_PYX.format(upstream=upstream), encoding="utf-8")
    add_modules(project, backend, [MODULE])
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    # What a real downstream package does (as packages that cimport NumPy name numpy): the upstream in
    # [build-system] requires, so that an isolated build has its .pxd, and in dependencies for run time.
    text = text.replace('requires = ["', f'requires = ["{upstream}", "', 1)
    text = text.replace('requires-python = ">=3.10"\n', f'requires-python = ">=3.10"\ndependencies = ["{upstream}"]\n')
    pyproject.write_text(text, encoding="utf-8")
    return project


def check(backend: str, work: Path, upstream_shared: bool, downstream_shared: bool) -> list[str]:
    """Build the upstream and the downstream of `backend`, run the downstream; the problems found."""
    switch = backend_of(backend).shared_utility
    upstream = f"{PLACEHOLDER}_{backend}" + ("_shared" if upstream_shared else "")
    downstream = f"downstream_{backend}"
    wheels = work / "wheels"
    up_project = steps.fresh(backend, work, name=upstream)
    args, env = switch.named(upstream) if upstream_shared else ([], {})
    steps.wheel(sys.executable, up_project, wheels, args=args, env=env)
    py = venv(work / "venv", [str(next(wheels.glob(f"{upstream}-*.whl")))])
    down_project = downstream_project(backend, work, upstream, downstream)
    args, env = switch.named(downstream) if downstream_shared else ([], {})
    steps.wheel(
        sys.executable, down_project, down_project / "out", args=args, env={**env, "UV_FIND_LINKS": str(wheels)}
    )
    run(
        [
            uv(),
            "pip",
            "install",
            "--quiet",
            "--python",
            py,
            "--find-links",
            str(wheels),
            *(down_project / "out").glob("*.whl"),
        ]
    )
    status, output = run_bounded([py, "-c", CHILD, upstream, downstream, MODULE, START, NUM], cwd=work, timeout=120)
    if status != 0:
        return [f"the downstream's child {'timed out' if status is None else f'failed ({status})'}: {output[-2000:]}"]
    seen = json.loads(output.strip().splitlines()[-1])
    print(f"{backend}: {downstream}.{MODULE}.total = {seen['result']!r}, threads {seen['threads']}, {seen['utility']}")
    return judge(
        seen, upstream, downstream, {upstream: upstream_shared, downstream: downstream_shared}, exact(START, NUM)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.checks.downstream", description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", nargs="+", choices=NAMES, default=list(NAMES))
    parser.add_argument("--upstream-utility", choices=["module", "shared"], default="shared")
    parser.add_argument("--downstream-utility", choices=["module", "shared"], default="shared")
    args = parser.parse_args(argv)
    failed = False
    for backend in args.backends:
        with tempfile.TemporaryDirectory(prefix=f"downstream-{backend}-") as tmp:
            try:
                problems = check(
                    backend, Path(tmp), args.upstream_utility == "shared", args.downstream_utility == "shared"
                )
            except StepFailed as error:
                problems = [f"a build or install failed: {error}"]
        for problem in problems:
            print(f"{backend}: FAILED: {problem}", file=sys.stderr)
        print(f"{backend}: {'FAILED' if problems else 'ok'}", flush=True)
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
