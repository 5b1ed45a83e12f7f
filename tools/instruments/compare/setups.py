"""What compare times: each mode's step on a fresh copy of a template, and the one more build it keeps to read."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from tools.inspect import builds
from tools.inspect.dists import sdist_files
from tools.instruments import steps
from tools.make.build import run, uv
from tools.registry.backends import BACKENDS, EQUAL_FLAGS, PLACEHOLDER
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
# The flags settings each backend is built with: its own, then each of EQUAL_FLAGS.
SETTINGS = ("default", *EQUAL_FLAGS)
SETTING_TITLES = {"default": "default", "equal": "equal flags", "equal_g": "equal flags + -g"}
# The timed clean wheel build of each setting: the user's path (uv, isolated), as "uv isolated" is for the default.
FLAG_MODES = {"default": "uv isolated", "equal": "uv isolated, equal flags", "equal_g": "uv isolated, equal flags + -g"}
# The clean wheel build with the template's shared-utility switch: Cython's utility code in <package>._cyutility.
SHARED_MODE = "uv isolated, shared utility"


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


def step(py: str, backend: str, mode: str, work: Path, record: dict) -> Callable[[], float]:
    """The timed step of `mode` for `backend`: it returns its seconds, and notes what it saw in `record`."""
    if mode == "sdist":
        return lambda: sdist_step(py, backend, work, record)
    if mode == "editable install":
        return lambda: editable_step(py, backend, work, record)
    if mode in FLAG_MODES.values() and mode != FLAG_MODES["default"]:
        setting = next(s for s, m in FLAG_MODES.items() if m == mode)
        return lambda: steps.variant_wheel(py, Variant(backend, flags=setting), work)[0]
    if mode == SHARED_MODE:
        return lambda: shared_step(py, backend, work, record)
    return lambda: wheel_step(py, backend, mode, work)


def kept_build(py: str, backend: str, work: Path, setting: str = "default") -> dict:
    """One more build without isolation, with `setting`'s flags, its folder kept, read by tools/inspect/builds.py."""
    project = steps.fresh(backend, work)
    out = project / "wheel-out"
    build_dir = project / "inspect-build"
    extra = [arg.format(build_dir=build_dir) for arg in BACKENDS[backend].inspect_args]
    args, env = Variant(backend, flags=setting).settings()
    cmd = [py, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", *extra, *args, "-w", str(out), str(project)]
    _, log = run(cmd, env={**os.environ, **env})
    return builds.read(backend, next(out.glob("*.whl")), log, build_dir, project / "unzipped")
