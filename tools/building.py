"""Run `python -m build` for a rendered project; explain a failure in a few lines.

A build that fails for want of a C compiler, of Python's headers or of an
OpenMP that was asked for ends in a long backend traceback. `build` probes
the toolchain the way the backends use it and ends the session with what is
missing and what to do.
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

import nox

# The OpenMP switch of each template lives with the variants (tools/variants.py
# runs where nox is not installed: compare_compilers builds with it too).
from tools.variants import openmp_switch


def _switch_text(backend: str, name: str, state: str) -> str:
    args, env = openmp_switch(backend, name, state)
    return " ".join(
        [*(f"{k}={v}" for k, v in env.items()), f"nox -s build_{backend}", *(["--", *args] if args else [])]
    )


def build(
    session: nox.Session,
    backend: str,
    name: str,
    project: Path,
    out: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    python: str = "python",
) -> None:
    """sdist, then wheel from it, of `project` into `out` by `python` (the session's); on failure, say why and stop."""
    try:
        session.run(python, "-m", "build", "--installer=uv", "--outdir", str(out), str(project), *args, env=env)
    except nox.command.CommandFailed:
        facts = session.run(
            python,
            "-c",
            "import json, sysconfig; "
            "print(json.dumps([sysconfig.get_paths()['include'], sysconfig.get_config_var('CC')]))",
            silent=True,
            log=False,
        )
        include, default_cc = json.loads(str(facts).strip().splitlines()[-1])
        session.error(diagnose(backend, name, args, {**os.environ, **(env or {})}, include, default_cc))


def _openmp_requested(backend: str, name: str, args: Sequence[str], environ: Mapping[str, str]) -> str | None:
    """The switch that asked for OpenMP explicitly, if any."""
    if backend == "setuptools":
        key = f"{name.upper()}_OPENMP"
        return f"{key}=on" if environ.get(key, "").lower() == "on" else None
    pattern = {"meson": r"-Dopenmp=enabled", "cmake": r"OPENMP(:BOOL|:STRING)?=(ON|TRUE|YES|1)\b"}[backend]
    for arg in [*args, environ.get("CMAKE_ARGS", "")]:
        if re.search(pattern, arg, re.IGNORECASE):
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


def diagnose(
    backend: str,
    name: str,
    args: Sequence[str],
    environ: Mapping[str, str],
    include: str,
    default_cc: str | None,
) -> str:
    """A short account of what the failed build lacked, and what to do about it."""
    if sys.platform == "win32":  # the probes below speak POSIX compilers
        return f"building {name} failed: see the output above. A C compiler (Visual Studio Build Tools) is needed."
    missing, todo = [], []
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
        missing.append(f"OpenMP, which {asked} requires: {shlex.join(command)} -fopenmp fails ({error})")
        todo.append(
            "install the compiler's OpenMP runtime (gcc: libgomp, Debian libgcc-*-dev; clang: libomp-dev; "
            f"macOS: brew install libomp), or build without OpenMP: {_switch_text(backend, name, 'off')}"
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
