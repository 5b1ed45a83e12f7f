"""The checks on a project built by its own noxfile: which tests ran, what the dists hold, develop, coverage, strays."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

from tools.checks.new.numpy_example import MODULE
from tools.checks.new.runner import DOCS, NAME, Failed, docs, log, replace, run, run_nox, tool
from tools.registry.backends import backend as backend_of

LINKAGE_TEST = "test_every_module_links_the_openmp_it_reports"
ASKS_TEST = "test_every_module_that_asks_for_openmp_links_it"
# Each backend's names: a generated project names no other backend, comments included.
BACKEND_NAMES = {
    "setuptools": re.compile(r"setuptools", re.IGNORECASE),
    "meson": re.compile(r"\bmeson|mesonpy", re.IGNORECASE),
    "cmake": re.compile(r"cmake|scikit-build|scikit_build", re.IGNORECASE),
}


def check_refuses_uncommitted(project: Path) -> None:
    """A meson project's `build` stops on a changed file and on a new one, and says why and what to do."""
    pyx, new_file = project / "src" / NAME / f"{MODULE}.pyx", project / "src" / NAME / "notes.txt"
    original = pyx.read_text(encoding="utf-8")
    pyx.write_text(original + "# not committed\n", encoding="utf-8")
    new_file.write_text("not committed either\n", encoding="utf-8")
    try:
        output = run_nox(project, "build", capture=True)
    finally:
        pyx.write_text(original, encoding="utf-8")
        new_file.unlink()
    expected = ["uncommitted changes", f"{MODULE}.pyx", "notes.txt", "left out of the sdist", "git stash"]
    if missing := [text for text in expected if text not in output]:
        msg = f"`nox -s build` on uncommitted changes did not refuse as it should (no {missing}):\n{output}"
        raise Failed(msg)
    log("meson: `nox -s build` refuses uncommitted changes, and says why")


def check_results(junit: Path) -> None:
    """The new module's tests ran and passed, and so did the checks that every module links its OpenMP."""
    cases = ET.parse(junit).getroot().iter("testcase")
    # A case that passed has no <failure>, <error> nor <skipped> inside.
    bad = {"failure", "error", "skipped"}
    results = {f"{case.get('classname')}::{case.get('name')}": [c.tag for c in case if c.tag in bad] for case in cases}
    ours = {test: outcome for test, outcome in results.items() if test.startswith(f"tests.test{MODULE}::")}
    linkage = {test: outcome for test, outcome in results.items() if f"::{LINKAGE_TEST}[" in test}
    # tests/test_openmp.py, which stays when the example goes: one case per module that asks for OpenMP.
    asks = {test: outcome for test, outcome in results.items() if f"::{ASKS_TEST}[" in test}
    wanted = {f"{ASKS_TEST}[{NAME}.{module}]" for module in ("_core", "_kernels", MODULE)}
    if not ours or not linkage or {test.partition("::")[2] for test in asks} != wanted:
        msg = (
            f"expected the tests of tests/test{MODULE}.py, tests/test_core.py::{LINKAGE_TEST} and {sorted(wanted)} "
            f"to run (they check that {MODULE} links OpenMP like _core): ran {sorted(results)}"
        )
        raise Failed(msg)
    linkage |= asks
    if failed := {test: outcome for test, outcome in {**ours, **linkage}.items() if outcome}:
        msg = f"not passed: {failed}"
        raise Failed(msg)
    log(f"passed: {len(ours)} tests of {MODULE}, and {', '.join(sorted(linkage))}")


def check_dists(project: Path) -> None:
    """The sdist has the module, its stub and test; the wheel, which was built from it, the module and stub."""
    dist = project / "dist"
    sdists, wheels = sorted(dist.glob("*.tar.gz")), sorted(dist.glob("*.whl"))
    if len(sdists) != 1 or len(wheels) != 1:
        msg = f"expected an sdist and a wheel in {dist}, found {sorted(p.name for p in dist.iterdir())}"
        raise Failed(msg)
    with tarfile.open(sdists[0]) as sdist:
        in_sdist = {name.partition("/")[2] for name in sdist.getnames()}
    with zipfile.ZipFile(wheels[0]) as wheel:
        in_wheel = set(wheel.namelist())
    missing = [
        f
        for f in (f"src/{NAME}/{MODULE}.pyx", f"src/{NAME}/{MODULE}.pyi", f"tests/test{MODULE}.py")
        if f not in in_sdist
    ]
    if f"{NAME}/{MODULE}.pyi" not in in_wheel:
        missing.append(f"{NAME}/{MODULE}.pyi in the wheel")
    if not any(re.fullmatch(rf"{NAME}/{MODULE}\..+\.(so|pyd)", name) for name in in_wheel):
        missing.append(f"the compiled {NAME}/{MODULE} in the wheel")
    if missing:
        msg = f"missing from {sdists[0].name} or {wheels[0].name}: {missing}"
        raise Failed(msg)
    log(f"built {sdists[0].name}, {wheels[0].name}: both have {MODULE} and its stub")


def check_develop(project: Path, backend: str) -> None:
    """`nox -s develop`, then an edit to a .pyx shows on the next import (setuptools: after `develop` again)."""
    run_nox(project, "develop")
    venv = project / ".nox" / "develop"
    # As after `source .nox/develop/bin/activate`, from outside the project.
    env = {**os.environ, "VIRTUAL_ENV": str(venv), "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    probe = f"import {NAME}.{MODULE} as m; print(m.array_sum.__doc__)"
    pyx = project / "src" / NAME / f"{MODULE}.pyx"
    original = pyx.read_text(encoding="utf-8")
    # setuptools compiles at install time only: its DEVELOPING.md says to run `develop` again.
    again = backend == "setuptools"
    edited = "Edited, then `nox -s develop` again." if again else "Edited, then imported: no reinstall."
    replace(pyx, "Sum a contiguous float64 array on all cores.", edited)
    try:
        if again:
            run_nox(project, "develop")
        seen = subprocess.run(
            [venv / "bin" / "python", "-c", probe],
            cwd=project.parent,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        pyx.write_text(original, encoding="utf-8")
    if edited not in seen.stdout:
        msg = f"the editable install did not show the edit to {pyx.name}:\n{seen.stdout}{seen.stderr}"
        raise Failed(msg)
    log(f"develop: an edit to {pyx.name} shows on import: {edited!r}")


def check_coverage(project: Path, required: set[str]) -> None:
    """`nox -s coverage` reports the lines of every .pyx, `required` among them (a C++ module's too)."""
    output = run_nox(project, "coverage", capture=True)
    measured = dict(re.findall(rf"^src/{NAME}/(\w+)\.pyx\s+\d+\s+\d+\s+(\d+)%", output, re.MULTILINE))
    pyx = {p.stem for p in (project / "src" / NAME).rglob("*.pyx")}
    if "Session coverage was successful" not in output or not required <= set(measured) <= pyx:
        msg = f"`nox -s coverage` did not report the lines of {sorted(required)} (found {measured}):\n{output[-3000:]}"
        raise Failed(msg)
    left = sorted(p.name for p in (project / "src" / NAME).iterdir() if p.suffix in {".c", ".cpp"} and p.stem in pyx)
    if left:
        msg = f"`nox -s coverage` left Cython's C beside the .pyx files: {left}"
        raise Failed(msg)
    log(f"coverage: {', '.join(f'{module}.pyx {percent} %' for module, percent in measured.items())}")


def check_twine(project: Path) -> None:
    """`twine check --strict` on the sdist and the wheel: the PyPI page (the README) renders, the metadata is whole."""
    run(tool("twine"), "check", "--strict", *map(str, sorted((project / "dist").glob("*"))))
    log("twine check --strict: the sdist and the wheel pass")


def check_strays(project: Path) -> None:
    """What Python and Cython leave beside the sources stays out of a wheel built from the tree, as from the sdist.

    A C file that Cython generated beside a .pyx (a coverage run, cython by
    hand) and __pycache__/ folders are planted in src/; a wheel built
    straight from the tree must hold the same files as the one `nox -s build`
    built from the sdist, and the contents check must name the stray C.
    """
    package = project / "src" / NAME
    stray = package / "_core.c"
    stray.write_text("/* Generated by Cython 3.1.4 */\n/* left beside _core.pyx by a coverage run */\n")
    run(sys.executable, "-m", "compileall", "-q", str(package))
    out = project.parent / "wheel-from-tree"
    try:
        run(tool("uv"), "build", "--wheel", "--python", sys.executable, "--out-dir", str(out), str(project))
        (tree_wheel,) = out.glob("*.whl")
        check = [sys.executable, "tools/check_contents.py", "dist", "--all-tracked", "--tree-wheel", str(tree_wheel)]
        done = subprocess.run(check, cwd=project, capture_output=True, text=True, check=False)
    finally:
        stray.unlink()
        shutil.rmtree(out, ignore_errors=True)
    note = f"src/{NAME}/_core.c is C that Cython generated from _core.pyx, left beside it: delete it"
    if done.returncode != 0 or note not in done.stderr:
        msg = f"with strays planted in src/{NAME}/, the wheel from the tree differs or the check is silent:\n"
        raise Failed(msg + done.stdout + done.stderr)
    log(
        f"strays in src/{NAME}/ (_core.c, __pycache__/): the wheel from the tree holds what the one from the sdist holds"
    )
    log(f"tools/check_contents.py: NOTE {note}")


SHARED_ROW = "| Cython's utility code in one module"  # the docs' row of "Build options" for the switch


def shared_switch(project: Path) -> tuple[str, list[str], dict[str, str]]:
    """The docs' switch for the shared utility module as written; as arguments for the frontend, or environment."""
    rows = [line for line in docs(project).splitlines() if line.startswith(SHARED_ROW)]
    switches = re.findall(r"`([^`]+)`", rows[0].split(" | ")[1]) if len(rows) == 1 else []
    if len(switches) != 1:
        msg = f"the docs' Build options show no one switch for the shared utility module: {rows}"
        raise Failed(msg)
    switch = switches[0]
    # setuptools has no build options: its switches are VARIABLE=value, read by setup.py.
    return (switch, [switch], {}) if switch.startswith("-") else (switch, [], dict([switch.split("=", 1)]))


def check_shared(project: Path, backend: str) -> None:
    """The docs' switch for the shared utility module, as a user passes it to `nox -s build`: the project's tests pass.

    The switch is taken from the docs' row as written (an argument for
    the frontend, or VARIABLE=value for setup.py) and must be the one the
    repository's own builds use (tools/registry/backends.py). The wheel must
    hold <name>/_cyutility; it goes into the `tests` session's environment,
    whose tests then run against it.
    """
    switch, args, env = shared_switch(project)
    expected = backend_of(backend).shared_utility.named(NAME)
    if (args, env) != expected:
        msg = f"the docs' switch {switch!r} is not the one the builds here use, {expected}: update DEVELOPING.md"
        raise Failed(msg)
    run_nox(project, "build", "--", *args, env=env)
    (wheel,) = (project / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as whl:
        utility = [n for n in whl.namelist() if re.fullmatch(rf"{NAME}/_cyutility\..+\.(so|pyd)", n)]
    if not utility:
        msg = f"{wheel.name}, built with {switch}, holds no {NAME}/_cyutility"
        raise Failed(msg)
    python = str(project / ".nox" / "tests" / "bin" / "python")
    run(tool("uv"), "pip", "install", "--python", python, "--reinstall", "--no-deps", str(wheel))
    probe = f"import {NAME}; assert {NAME}.build_info()['shared_utility'], {NAME}.build_info()"
    run(python, "-c", probe)
    done = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project, check=False)
    if done.returncode != 0:
        msg = f"the project's tests failed against {wheel.name}, built with {switch}"
        raise Failed(msg)
    log(f"{switch}: {wheel.name} holds {utility[0]}; the project's tests pass against it")


def check_own_backend_only(project: Path, backend: str) -> None:
    """No file of the project names another backend, comments included (the core and its suite are shared)."""
    listed = subprocess.run(["git", "ls-files"], cwd=project, capture_output=True, text=True, check=True)
    others = [pattern for name, pattern in BACKEND_NAMES.items() if name != backend]
    found = [
        f"{file}:{number}: {line.strip()}"
        for file in listed.stdout.splitlines()
        # The core's build_info() and the suite know all three backends; the docs are checked by their own steps.
        if not file.startswith(("src/", "tests/")) and file not in DOCS
        for number, line in enumerate((project / file).read_text(encoding="utf-8").splitlines(), 1)
        if any(pattern.search(line) for pattern in others)
    ]
    if found:
        msg = f"the {backend} project names other backends:\n  " + "\n  ".join(found)
        raise Failed(msg)
    log(f"no file of the project names a backend other than {backend}")
