"""Build the core with each backend, test every build against its twin, time and compare them.

nox                         the main job: build, test, a smoke run of bench and compare, summary
nox -s bench compare        their full runs, which the smoke run stands in for; then nox -s summary
nox -s build_meson test     one backend, then the tests
nox -s build test           all three backends, then the tests
nox -s build_clang test     all three built with clang and LLVM's OpenMP too, then every build tested
nox -s build_abi3 test_abi3 all three as one abi3 wheel each, tested on Python 3.12 and 3.13
nox -s lint test_tools      ruff, cython-lint, the templates agree; the tools' own tests (no build needed)
nox -s build check          wheel and sdist checks (every package file shipped), stubtest against every build
nox -s test_pythons         one backend built and tested on each Python 3.10-3.13 found
nox -s test_freethreaded    all three built and tested on a free-threaded CPython, where there is one
nox -s coverage sanitize    the suite under coverage.py (.pyx lines too), and under ASan+UBSan

Every session is a few lines: it installs what it needs and runs a tool,
`python -m tools.<room>.<tool>`; the builds are the variants of
tools/registry/variants.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))  # the sessions are parametrized by tools/registry, which imports nothing else
from tools.registry.backends import ABI3_FLOOR, NAMES
from tools.registry.targets import TARGETS
from tools.registry.variants import ABI3, Variant, default_builds, select

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
# test_pythons runs on the interpreters this machine has: a missing one is
# skipped with nox's "interpreter not found" line, on CI too (where nox would
# otherwise error), and nox does not try to download one.
nox.options.error_on_missing_interpreters = False
nox.options.download_python = "never"
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")


def group(name: str) -> list[str]:
    return nox.project.dependency_groups(PYPROJECT, name)


# The build sessions keep their venv: nox would otherwise delete and remake it
# when a second build starts in this checkout, under the first one's feet (its
# next `python -m build` then fails: No module named 'packaging', seen by
# `nox -s faults`); kept, the second reaches build/.lock and refuses at once.
BUILD_VENV = True


def build_variants(session: nox.Session, variants: list[Variant], *args: str, root: Path | None = None) -> None:
    """Render each variant's template and build its sdist, then a wheel from that sdist (tools/make/build.py)."""
    session.install(*group("build"))
    where = ["--root", str(root)] if root else []
    session.run("python", "-m", "tools.make.build", *(v.label for v in variants), *where, "--", *args)


def wheels_for_this_python(session: nox.Session, wheels: list[Path], hint: str) -> list[str]:
    """Those of `wheels` that the session's Python installs (the others are named); stop with `hint` if none."""
    found = [str(w) for w in wheels]
    if not found:
        session.error(hint)
    session.install("packaging")
    out = session.run("python", "-m", "tools.inspect.dists", "installable", *found, silent=True, log=False, stderr=None)
    installable = str(out).split()
    for path in sorted(set(found) - set(installable)):
        session.log(f"left out, not for this Python: {Path(path).relative_to(ROOT)}")
    if not installable:
        session.error(f"no wheel here is for this Python (see above): build for it, or run with theirs. {hint}")
    return installable


def built_wheels(session: nox.Session) -> list[str]:
    """The wheels under dist/ (the variants tested together) that this session's Python installs."""
    wheels = [w for v in select(dist_root="dist") for w in v.wheels(ROOT)]
    hint = "no wheel under dist/: run `nox -s build` (or build_setuptools, build_meson, build_cmake, build_clang) first"
    return wheels_for_this_python(session, wheels, hint)


@nox.session(default=False, reuse_venv=BUILD_VENV)
def build_setuptools(session: nox.Session) -> None:
    """Build mathcore_setuptools (sdist, then wheel from it) into dist/setuptools/."""
    build_variants(session, default_builds(backend="setuptools"), *session.posargs)


@nox.session(default=False, reuse_venv=BUILD_VENV)
def build_meson(session: nox.Session) -> None:
    """Build mathcore_meson (sdist, then wheel from it) into dist/meson/."""
    build_variants(session, default_builds(backend="meson"), *session.posargs)


@nox.session(default=False, reuse_venv=BUILD_VENV)
def build_cmake(session: nox.Session) -> None:
    """Build mathcore_cmake (sdist, then wheel from it) into dist/cmake/."""
    build_variants(session, default_builds(backend="cmake"), *session.posargs)


@nox.session(reuse_venv=BUILD_VENV)
def build(session: nox.Session) -> None:
    """Build all three backends with the default compiler into dist/<backend>/."""
    build_variants(session, default_builds(), *session.posargs)


# Not in the main job (it must stay within 8 minutes here): `nox -s build_clang test`.
@nox.session(default=False, reuse_venv=BUILD_VENV)
def build_clang(session: nox.Session) -> None:
    """Build all three backends with clang and LLVM's OpenMP (libomp) into dist/<backend>-clang/."""
    build_variants(session, select(compiler="clang"), *session.posargs)


# Not in the main job either: it needs Python 3.12, the oldest CPython an
# abi3 wheel of the Limited API 3.12 installs on. `nox -s test` on 3.12 or
# later tests these wheels with the others; test_abi3 tests them on 3.12 and 3.13.
@nox.session(python=ABI3_FLOOR, default=False, reuse_venv=BUILD_VENV)
def build_abi3(session: nox.Session) -> None:
    """Build all three backends as one abi3 wheel each (CPython 3.12 and later) into dist/<backend>-abi3/."""
    build_variants(session, select(abi=ABI3), *session.posargs)


@nox.session
def test(session: nox.Session) -> None:
    """Install every wheel under dist/ (each variant's folder) and run pytest over each build and the twin."""
    wheels = built_wheels(session)
    session.install(*group("test"), *wheels)
    session.run("pytest", *session.posargs)


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Time every build against the others, the twin, NumPy and Numba; write reports/bench.*."""
    wheels = built_wheels(session)
    session.install(*group("bench"), *wheels)
    session.run("python", "-m", "tools.instruments.bench", *session.posargs)


def install_build_requires(session: nox.Session) -> None:
    """Every template's build-system.requires: builds without isolation and editable installs need them."""
    for backend in NAMES:
        session.install(*nox.project.load_toml(ROOT / backend / "pyproject.toml")["build-system"]["requires"])


@nox.session(default=False)
def compare(session: nox.Session) -> None:
    """Measure each backend's build times, sizes, flags and OpenMP linkage; write reports/compare.*."""
    session.install(*group("compare"))
    install_build_requires(session)
    session.run("python", "-m", "tools.instruments.compare", *session.posargs)


@nox.session(default=False)
def summary(session: nox.Session) -> None:
    """Join the reports the instruments wrote (bench, compare, scale, ...) into reports/summary.md, per backend."""
    session.run("python", "-m", "tools.instruments.summary", *session.posargs)


# The main job ends with a smoke run of the instruments: every step once,
# every answer checked, every report written and marked a smoke run. The
# full runs (compare's three repetitions, bench's seven rounds) take longer
# than a first look should: nox -s bench compare summary.
@nox.session(python=False)
def smoke(session: nox.Session) -> None:
    """Queue bench --quick, compare --quick and summary: the main job's smoke run (full: nox -s bench compare summary)."""
    session.log("a smoke run, next: bench --quick, compare --quick, summary; full runs: nox -s bench compare summary")
    session.notify("bench", ["--quick", *session.posargs])
    session.notify("compare", ["--quick", *session.posargs])
    session.notify("summary", [])


# Not in the main job: it builds every backend once more with each compiler.
@nox.session(default=False)
def compare_compilers(session: nox.Session) -> None:
    """Each backend by gcc and by clang: build time, wheel size, OpenMP runtime, fork after OpenMP, speed."""
    session.install(*group("compare"))
    session.run("python", "-m", "tools.instruments.compilers", *session.posargs)


@nox.session(python=ABI3_FLOOR, default=False)
def compare_abi(session: nox.Session) -> None:
    """Each backend built for Python 3.12 and as one abi3 wheel: tag, configuration, build time, size, speed."""
    session.install(*group("compare"))
    session.run("python", "-m", "tools.instruments.abi", *session.posargs)


@nox.session(default=False)
def scale(session: nox.Session) -> None:
    """Time wheel builds, the edit loop (.pyx and .pxd) and imports against the number of modules; reports/scale.*."""
    session.install(*group("scale"))
    install_build_requires(session)
    session.run("python", "-m", "tools.instruments.scale", *session.posargs)


@nox.session(default=False)
def scale_jobs(session: nox.Session) -> None:
    """Time the clean wheel with ninja's own jobs and one per core (or --against phases), wall and CPU; reports/scale-jobs.*."""
    session.install(*group("scale"))
    session.run("python", "-m", "tools.instruments.scale.jobs", *session.posargs)


@nox.session(default=False)
def reproducible(session: nox.Session) -> None:
    """Build each backend's sdist and wheel twice with SOURCE_DATE_EPOCH; compare the bytes."""
    session.install(*group("build"))
    session.run("python", "-m", "tools.instruments.reproducible", *session.posargs)


# --- new: start a project of your own from one template ----------------------


@nox.session(venv_backend="none", default=False)
def new(session: nox.Session) -> None:
    """Copy a template into a new project: nox -s new -- BACKEND DEST [--name NAME] [--force] [--no-git]."""
    session.run(sys.executable, "-m", "tools.make.new", *session.posargs, external=True)


@nox.session(default=False)
@nox.parametrize("backend", NAMES)
def test_new(session: nox.Session, backend: str) -> None:
    """Generate `fastsum` from one template, move a package's shapes into it as its README says, build, test, develop."""
    session.install(*group("new"))
    session.run("python", "-m", "tools.checks.new", backend)


@nox.session(default=False)
def test_rebuild(session: nox.Session) -> None:
    """In a project made by `new`, per backend: after one edited .pyx the rebuild compiles that module's C only."""
    session.install(*group("new"))
    session.run("python", "-m", "tools.checks.rebuild", *session.posargs)


# --- checks ----------------------------------------------------------------


@nox.session(default=False)
def lint(session: nox.Session) -> None:
    """Run ruff (lint and format check), cython-lint on the .pyx and .pxd, and check the templates agree."""
    session.install(*group("lint"))
    session.run("ruff", "check", *session.posargs)
    session.run("ruff", "format", "--check")
    session.run(
        "cython-lint", *sorted(str(p) for pattern in ("*.pyx", "*.pxd") for p in ROOT.glob(f"shared/**/{pattern}"))
    )
    session.run("python", "-m", "tools.checks.templates")


@nox.session(default=False)
def test_tools(session: nox.Session) -> None:
    """The tools' own tests (tools/tests/): pure logic and the checks' negative controls, no build needed."""
    session.install(*group("tools"))
    session.run("pytest", "tools/tests", *session.posargs)


@nox.session(default=False)
def check_workflows(session: nox.Session) -> None:
    """Check this repository's GitHub Actions files without GitHub: check-jsonschema, zizmor --offline."""
    session.install(*group("workflows"))
    github = ROOT / ".github"
    workflows = sorted(map(str, github.glob("workflows/*.yml")))
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)
    session.run("check-jsonschema", "--builtin-schema", "vendor.dependabot", str(github / "dependabot.yml"))
    # Its own configuration named: only .github/ here, not tools/make/new_project/.github/ (checked by test_new).
    session.run("zizmor", "--offline", "--config", str(github / "zizmor.yml"), *workflows)


@nox.session(default=False)
def check(session: nox.Session) -> None:
    """Check dist/ (twine, check-wheel-contents, every package file shipped, auditwheel, abi3audit), then stubtest."""
    wheels = built_wheels(session)
    session.install(*group("check"), *wheels)
    session.run("python", "-m", "tools.checks.dists")
    modules = [v.name for v in default_builds()]  # tools.checks.dists has checked that all three are there
    allowlist = "--allowlist=tools/checks/stubtest-allowlist.txt"
    session.run("python", "-m", "mypy.stubtest", *modules, allowlist, *session.posargs)


@nox.session(python=False, default=False)
def build_errors(session: nox.Session) -> None:
    """Check that build sessions explain a missing C compiler or OpenMP (on a copy of the repo)."""
    session.run(sys.executable, "-m", "tools.checks.build_errors", *session.posargs, external=True)


@nox.session(python=False, default=False)
def faults(session: nox.Session) -> None:
    """Interrupt, double, misplace and starve each backend's build; judge what is left: reports/faults.* (`-- --smoke`)."""
    session.run(sys.executable, "-m", "tools.checks.faults", *session.posargs, external=True)


# --- the development loop: coverage, a compiler cache, sanitizers -------------


@nox.session(default=False)
def coverage(session: nox.Session) -> None:
    """Each backend's editable build with line tracing, the suite under coverage.py: .pyx lines; reports/coverage.*."""
    session.install(*group("compare"))  # uv makes their environments; tqdm shows progress
    session.run("python", "-m", "tools.instruments.coverage", *session.posargs)


@nox.session(default=False)
def compare_ccache(session: nox.Session) -> None:
    """Each backend's clean builds with a cold, then a warm ccache, interleaved: hits and times; reports/ccache.*."""
    session.install(*group("compare"))  # uv makes their environments; tqdm shows progress
    session.run("python", "-m", "tools.instruments.ccache", *session.posargs)


@nox.session(default=False)
def sanitize(session: nox.Session) -> None:
    """The suite on ASan+UBSan builds, planted bugs that must be caught, TSan with `-- --tsan`; reports/sanitize.*."""
    session.install(*group("compare"))  # uv makes their environments; tqdm shows progress
    session.run("python", "-m", "tools.checks.sanitize", *session.posargs)


# --- other Pythons and ABIs ---------------------------------------------------


@nox.session(python=PYTHONS[PYTHONS.index(ABI3_FLOOR) :], default=False)
def test_abi3(session: nox.Session) -> None:
    """Install the abi3 wheels under dist/ into this Python, the same files on each, and run pytest over them."""
    wheels = [str(w) for v in select(abi=ABI3) for w in v.wheels(ROOT)]
    if not wheels:
        session.error("no abi3 wheel under dist/: run `nox -s build_abi3` first")
    session.install(*group("test"), *wheels)
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHONS, default=False)
def test_pythons(session: nox.Session) -> None:
    """Build one backend (meson, or `-- cmake|setuptools`) for this Python into build/py<X.Y>/ and test it."""
    pytest_args = list(session.posargs)
    backend = pytest_args.pop(0) if pytest_args and pytest_args[0] in NAMES else "meson"
    where = ROOT / "build" / f"py{session.python}"
    build_variants(session, default_builds(backend=backend), root=where)
    session.install(*group("test"), *(str(w) for v in default_builds(backend=backend) for w in v.wheels(where)))
    session.run("pytest", *pytest_args)


@nox.session(default=False)
def test_signals(session: nox.Session) -> None:
    """Run the Ctrl-C tests over every wheel under dist/ again and again, with every core kept busy beside them."""
    session.install(*group("test"), *built_wheels(session))
    session.run("python", "-m", "tools.checks.signals", *session.posargs)


@nox.session(python=False, default=False)
def test_freethreaded(session: nox.Session) -> None:
    """Build each backend for a free-threaded CPython (3.14t) found here, test it with threads; else say so."""
    tool = [sys.executable, "-m", "tools.checks.freethreaded"]
    if not session.run(*tool, "find", silent=True, external=True).strip():
        if os.environ.get("FREETHREADED_REQUIRED") == "1":  # CI that provides one
            session.error("no free-threaded CPython found, and FREETHREADED_REQUIRED=1")
        session.skip("no free-threaded CPython >= 3.14 on PATH, in pyenv or in uv's interpreters: nothing to test")
    session.run(*tool, "test", *session.posargs, "--packages", *group("build"), *group("test"), external=True)


@nox.session(default=False)
def bench_freethreaded(session: nox.Session) -> None:
    """Time each build and the twin with 1 and 2 threads on 3.14t, 3.14t -X gil=1 and 3.13, and their builds."""
    session.install(*group("compare"))
    session.run("python", "-m", "tools.instruments.freethreading", *session.posargs)


# --- where users run it: repaired wheels, a bare machine, the newest Pythons ---


def skip_without_root(session: nox.Session, target: str) -> None:
    """End the session in one line where Debian roots of `target` cannot be made here (no root, debootstrap, binfmt)."""
    why = session.run(sys.executable, "-m", "tools.make.in_root", "why", target, silent=True, external=True).strip()
    if why != "ok":
        session.skip(f"{target}: {why}")


# aarch64 is built for the CPython of Debian 12's arm64 root (3.11): the
# wheels' tags are the building Python's.
AARCH64_PYTHON = TARGETS["aarch64"].python_version


@nox.session(python=AARCH64_PYTHON, default=False)
def build_aarch64(session: nox.Session) -> None:
    """Cross-compile each backend's aarch64 wheel with the recipe beside its template into build/aarch64/dist/."""
    skip_without_root(session, "aarch64")
    session.install(*group("build"))
    session.run("python", "-m", "tools.make.cross", *session.posargs)


@nox.session(python=False, default=False)
def build_aarch64_emulated(session: nox.Session) -> None:
    """Build each backend's aarch64 wheel (or `-- BACKEND ...`) inside an arm64 root under qemu-user."""
    skip_without_root(session, "aarch64")
    session.run(sys.executable, "-m", "tools.make.cross", "--way", "emulated", *session.posargs, external=True)


@nox.session(default=False)
def test_aarch64(session: nox.Session) -> None:
    """Check every aarch64 wheel built (machine, suffix, tag, libgomp), then run the suite on them in the arm64 root."""
    skip_without_root(session, "aarch64")
    session.install("pyelftools>=0.31")
    session.run("python", "-m", "tools.checks.aarch64", *session.posargs)


@nox.session(python=AARCH64_PYTHON, default=False)
def compare_targets(session: nox.Session) -> None:
    """Each backend's aarch64 wheel cross-compiled and emulated, interleaved: time, size, recipe; reports/targets.*."""
    skip_without_root(session, "aarch64")
    session.install(*group("build"), *group("compare"))
    session.run("python", "-m", "tools.instruments.targets", *session.posargs)


@nox.session(default=False)
def repair(session: nox.Session) -> None:
    """auditwheel repair every wheel under dist/ into build/repaired/ (OpenMP runtime vendored); reports/repair.*."""
    session.install(*group("check"))
    session.run("python", "-m", "tools.instruments.repair", *session.posargs)


@nox.session(default=False)
def test_runtimes(session: nox.Session) -> None:
    """Three OpenMP runtimes in one process (vendored libgomp, the system's libgomp, libomp): exact, limited, no hang."""
    wheels = [
        *sorted((ROOT / "build" / "repaired" / "meson").glob("*.whl")),
        *(w for v in default_builds(backend="cmake") for w in v.wheels(ROOT)),
        *(w for v in select(backend="meson", compiler="clang") for w in v.wheels(ROOT)),
    ]
    if len(wheels) != 3:
        session.error("needs build/repaired/meson, dist/cmake and dist/meson-clang: nox -s build build_clang repair")
    session.install(*group("test"), *map(str, wheels))
    session.run("pytest", "tests/test_runtimes.py", *session.posargs)


@nox.session(default=False)
def compare_pools(session: nox.Session) -> None:
    """multiprocessing's start methods and pool shapes: the runner each worker uses and its speed; reports/pools.*."""
    wheels = built_wheels(session)
    session.install(*group("compare"), *wheels)
    session.run("python", "-m", "tools.instruments.pools", *session.posargs)


@nox.session(python=False, default=False)
def test_bare(session: nox.Session) -> None:
    """On a Debian root with Python only: wheels as built fail to import, the repaired ones pass the suite."""
    skip_without_root(session, "bare")
    session.run(sys.executable, "-m", "tools.checks.bare", *session.posargs, external=True)


@nox.session(python=False, default=False)
def test_newest(session: nox.Session) -> None:
    """Build every backend with CPython 3.14 and 3.15 (a Debian unstable root) and run the whole suite on each."""
    skip_without_root(session, "newest")
    session.run(sys.executable, "-m", "tools.checks.newest", *session.posargs, external=True)


# --- Cython's shared utility module ---------------------------------------------


@nox.session(default=False, reuse_venv=BUILD_VENV)
def build_shared(session: nox.Session) -> None:
    """Build all three backends with Cython's utility code in one module, <package>._cyutility, into build/shared/dist/."""
    build_variants(session, select(utility="shared"), *session.posargs)


@nox.session(default=False)
def test_shared(session: nox.Session) -> None:
    """Run the whole suite on the wheels in build/shared/dist/, all three in one environment."""
    wheels = [w for v in select(utility="shared") for w in v.wheels(ROOT)]
    hint = "no wheel under build/shared/dist/: run `nox -s build_shared` first"
    session.install(*group("test"), *wheels_for_this_python(session, wheels, hint))
    session.run("pytest", *session.posargs)


@nox.session(default=False)
def test_downstream(session: nox.Session) -> None:
    """A package that cimports ours, both shared-utility builds, gets the twin's exact sum; each its own _cyutility."""
    session.install(*group("compare"))  # uv makes their environments
    session.run("python", "-m", "tools.checks.downstream", *session.posargs)


# On the arm64 root's CPython, which the cross build takes its tags from; abi3 finds python3.12 on PATH.
@nox.session(python=AARCH64_PYTHON, default=False)
def test_shared_axes(session: nox.Session) -> None:
    """The shared utility module with abi3, clang, OpenMP off, editable, aarch64, sanitizers, coverage; reports/shared-axes.*."""
    session.install(*group("build"), *group("compare"))
    session.run("python", "-m", "tools.checks.shared_axes", *session.posargs)


# --- robustness: builds without OpenMP ------------------------------------------


@nox.session(default=False, reuse_venv=BUILD_VENV)
@nox.parametrize("backend", NAMES, ids=list(NAMES))
def build_no_openmp(session: nox.Session, backend: str) -> None:
    """Build mathcore_<backend>_no_openmp with its OpenMP switch off into build/no-openmp/dist/."""
    build_variants(session, select(backend=backend, openmp="off"), *session.posargs)


@nox.session(default=False)
def test_no_openmp(session: nox.Session) -> None:
    """Run the whole suite on the wheels in build/no-openmp/dist/, asserting they lack OpenMP."""
    wheels = [w for v in select(openmp="off") for w in v.wheels(ROOT)]
    hint = "no wheel under build/no-openmp/dist/: run `nox -s build_no_openmp` first"
    session.install(*group("test"), *wheels_for_this_python(session, wheels, hint))
    session.run("pytest", "--openmp=off", *session.posargs)
