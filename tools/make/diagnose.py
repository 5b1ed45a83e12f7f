"""Why a build failed: a full disk (its mount and room), a missing frontend, what the C toolchain lacks.

tools/make/build.py ends a failed build with this account; the probes run
the toolchain the way the backends use it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from tools.registry.backends import BACKENDS
from tools.registry.backends import backend as backend_of

# How a full disk reads in a build's output: Python's OSError, the C compiler's and the linker's messages, uv's.
FULL = re.compile(r"No space left on device|ENOSPC|\[Errno 28\]|os error 28|Disk quota exceeded")
NEARLY_FULL = 64 * 1024 * 1024  # bytes free under which a disk the build writes to is named even if no line said so


def full_line(said: str, line: str) -> str:
    """The line to quote for a full disk: the first that says so, or a later one that says it in words."""
    if FULL.search(line) and (not said or ("No space left" in line and "No space left" not in said)):
        return line.strip()
    return said


def _mount(path: Path) -> Path:
    path = path.resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


def _free(room: tuple) -> int:
    return room[0].free


def _mib(n: float) -> str:
    return f"{n / 1024 / 1024:.1f} MiB"


def disk_full(said: str, places: Sequence[Path]) -> str:
    """Why a build failed when a disk it writes to is full: each such folder, its mount and room; "" if none is.

    said: the build's first line naming ENOSPC ("" if none). A disk is named
    when the output said ENOSPC (then every disk of `places`, the fullest
    first), or when one has under 64 MiB free.
    """
    disks: dict[Path, list[Path]] = {}
    for place in places:
        disks.setdefault(_mount(Path(place)), []).append(Path(place))
    rooms = sorted(((shutil.disk_usage(mount), mount, folders) for mount, folders in disks.items()), key=_free)
    rooms = [(usage, mount, folders) for usage, mount, folders in rooms if said or usage.free < NEARLY_FULL]
    if not rooms:
        return ""
    where = "; ".join(
        f"{mount}: {_mib(usage.free)} free of {_mib(usage.total)} (holds {', '.join(map(str, folders))})"
        for usage, mount, folders in rooms
    )
    if said:
        head = f"the build ran out of disk space (No space left on device) on {where}; it said: {said[:200]}"
    else:
        head = f"a disk the build writes to is nearly full: {where}"
    return (
        f"{head}. Make room there, or build on another disk "
        "(TMPDIR for the frontend's temporary files; --root for build/ and dist/)."
    )


# --- what a failed build lacked -------------------------------------------------


def _package(project: Path) -> tuple[str, str]:
    """The backend and package name of a rendered project (from its build file and src/)."""
    backend = next((b.name for b in BACKENDS.values() if (project / b.build_files[0]).exists()), "unknown")
    packages = sorted(p.parent.name for p in project.glob("src/*/__init__.py"))
    return backend, packages[0] if packages else project.name


def _openmp_requested(backend: str, name: str, args: Sequence[str], environ: Mapping[str, str]) -> str | None:
    """The switch that asked for OpenMP explicitly, if any (the registry's "on" switch, or CMAKE_ARGS)."""
    if backend not in BACKENDS:
        return None
    on_args, on_env = backend_of(backend).openmp["on"].named(name)
    for key, value in on_env.items():
        if environ.get(key, "").lower() == value:
            return f"{key}={value}"
    # The same cache variable in CMAKE_ARGS, as -DNAME=ON or -DNAME:STRING=ON.
    defines = {"-D" + arg.removeprefix("-Ccmake.define.").upper() for arg in on_args if arg.startswith("-Ccmake.")}
    for arg in [*args, *shlex.split(environ.get("CMAKE_ARGS", ""))]:
        if arg in on_args or re.sub(r":\w+=", "=", arg.upper(), count=1) in defines:
            return arg
    return None


def _compiler(backend: str, environ: Mapping[str, str], default_cc: str | None) -> list[str] | None:
    """The C compiler command the backend will run, or None when there is none."""
    # All three backends take CC first; without it setuptools runs Python's
    # own compiler (sysconfig CC), meson and CMake look for cc, gcc, clang.
    if environ.get("CC"):
        command = shlex.split(environ["CC"])
    elif backend == "setuptools" and default_cc:
        command = shlex.split(default_cc)
    else:
        command = next(([cc] for cc in ("cc", "gcc", "clang") if shutil.which(cc)), ["cc"])
    return command if shutil.which(command[0]) else None


def _try(command: list[str], source: str, *flags: str) -> str | None:
    """Compile and link `source`: None on success, else the compiler's last line."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp, "probe.c")
        src.write_text(source)
        try:
            done = subprocess.run(
                [*command, str(src), "-o", str(Path(tmp, "probe")), *flags],
                check=False,
                capture_output=True,
                text=True,
                timeout=120,
            )
        except OSError as exc:
            return str(exc)
    lines = (done.stderr or done.stdout).strip().splitlines()
    return None if done.returncode == 0 else (lines[-1] if lines else f"exit status {done.returncode}")


def _python_facts(python: str) -> tuple[str, str | None]:
    """Python's include directory and its configured C compiler (sysconfig), as the build's Python sees them."""
    code = (
        "import json, sysconfig; print(json.dumps([sysconfig.get_paths()['include'], sysconfig.get_config_var('CC')]))"
    )
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    try:
        include, cc = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return "", None
    return include, cc


def _frontend_missing(frontend: str, python: str) -> tuple[str, str] | None:
    """(what, what to do) when the frontend itself is missing: `python -m build` without build, `-m pip` without pip."""
    module = {"build": "build", "pip": "pip"}.get(frontend)
    if module is None:
        return None
    # Not from this checkout's folder: its build/ would import as a namespace package named build.
    code = f"import importlib.util as u; s = u.find_spec({module!r}); print(bool(s and s.origin))"
    with tempfile.TemporaryDirectory() as elsewhere:
        done = subprocess.run([python, "-c", code], cwd=elsewhere, capture_output=True, text=True, check=False)
    if done.stdout.strip() == "True":
        return None
    what = f"the frontend: `{python} -m {module}` needs the {module} package, which that Python lacks"
    todo = (
        f"install it ({python} -m pip install {module}, or uv pip install --python {python} {module}; "
        "the nox build sessions install it)"
    )
    return what, todo


def diagnose(
    project: Path,
    args: Sequence[str],
    environ: Mapping[str, str],
    python: str = sys.executable,
    frontend: str = "build",
) -> str:
    """A short account of what the failed build lacked, and what to do about it."""
    backend, name = _package(Path(project))
    if sys.platform == "win32":  # the probes below speak POSIX compilers
        return f"building {name} failed: see the output above. A C compiler (Visual Studio Build Tools) is needed."
    missing: list[str] = []
    todo: list[str] = []
    # The frontend first: without it nothing was built, whatever the toolchain lacks besides.
    if lacking := _frontend_missing(frontend, python):
        missing.append(lacking[0])
        todo.append(lacking[1])
    include, default_cc = _python_facts(python)
    command = _compiler(backend, environ, default_cc)
    cc = environ.get("CC") or "cc"
    if command is None:
        missing.append(
            f"a C compiler: {cc!r} is not on PATH or not executable"
            if environ.get("CC")
            else "a C compiler: none of cc, gcc, clang is on PATH"
        )
        todo.append(
            "install one (Debian/Ubuntu: apt-get install build-essential; Fedora: dnf install gcc; "
            "macOS: xcode-select --install) or set CC to one; `cc --version` must answer"
        )
    elif error := _try(command, "int main(void) { return 0; }\n"):
        missing.append(f"a working C compiler: {shlex.join(command)} cannot build a program ({error})")
        todo.append(f"check `{shlex.join(command)} --version` and the compiler's installation, or set CC to another")
    elif error := _try(command, "#include <Python.h>\nint main(void) { return 0; }\n", "-c", f"-I{include}"):
        missing.append(f"Python's C headers: Python.h is not in {include} ({error})")
        todo.append("install them (Debian/Ubuntu: apt-get install python3-dev; Fedora: dnf install python3-devel)")
    elif (asked := _openmp_requested(backend, name, args, environ)) and (
        error := _try(command, "#include <omp.h>\nint main(void) { return omp_get_max_threads() < 1; }\n", "-fopenmp")
    ):
        off_args, off_env = backend_of(backend).openmp["off"].named(name)
        off = " ".join([*(f"{k}={v}" for k, v in off_env.items()), "python -m build", *off_args])
        missing.append(f"OpenMP, which {asked} requires: {shlex.join(command)} -fopenmp fails ({error})")
        todo.append(
            "install the compiler's OpenMP runtime (gcc: libgomp, Debian libgcc-*-dev; clang: libomp-dev; "
            f"macOS: brew install libomp), or build without OpenMP: {off}"
        )
    if not missing:
        return f"building {name} failed, and the C toolchain looks fine: the output above says why."
    lines = [
        f"building {name} failed for want of:",
        *(f"  - {m}" for m in missing),
        "what to do:",
        *(f"  - {t}" for t in todo),
    ]
    return "\n".join(lines)
