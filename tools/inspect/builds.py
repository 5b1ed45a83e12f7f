"""Read one kept build as a maintainer would: the flags its compiler ran with, and what its wheel holds.

compare builds each backend once more with its build folder kept
(tools/instruments/compare/setups.py); this reads what that build left: the
command that compiled `_core.c` (setuptools' verbose log, compile_commands.json
for meson and CMake), what gcc and clang make of its flags, and the wheel's
files, linkage, SIMD square roots and debug info.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

from tools.inspect import elf
from tools.inspect.dists import extension_libs, extract_extension, wheel_files

FLAG = re.compile(r"-O\w*|-g\w*|-f[\w=-]+|-m[\w=-]+|-DNDEBUG|-std=\S+|/O\w+|/openmp\S*|-s")
# -g and its levels and formats turn debug info on; -g0 turns it off. A later one wins.
DEBUG = re.compile(r"-g(\d|gdb\d?|dwarf(-\d)?)?")


def compile_command(backend: str, log: str, build_dir: Path) -> list[str] | None:
    """The command that compiled _core.c, split; None where it cannot be read (then reported as n/a).

    setuptools prints it in its verbose log (MSVC's cl spells -c as /c);
    meson and CMake write compile_commands.json, except CMake's Visual
    Studio generators, the default on Windows.
    """
    if backend == "setuptools":
        found = [line for line in log.splitlines() if "_core.c" in line and re.search(r"\s[-/]c\s", line)]
        command = found[0] if found else None
    else:
        path = build_dir / "compile_commands.json"
        entries = json.loads(path.read_text()) if path.exists() else []
        command = next((e["command"] for e in entries if e["file"].endswith(".c") and "command" in e), None)
    if command is None:
        return None
    try:
        return shlex.split(command, posix=os.name != "nt")  # Windows paths keep their backslashes
    except ValueError:  # unbalanced quotes in a command line of another shell
        return None


def effective_flags(flags: list[str] | None) -> dict | None:
    """What gcc and clang make of a compile command's flags, where the last of each kind wins; None if unread.

    -O level, debug info, symbol visibility, -fwrapv and -DNDEBUG: the flags
    in which the backends' defaults differ (EQUAL_FLAGS makes them agree).
    """
    if flags is None:
        return None
    found = {"opt": "-O0", "debug": False, "visibility": "default", "wrapv": False, "ndebug": False}
    for flag in flags:
        if re.fullmatch(r"-O\w*", flag):
            found["opt"] = "-O2" if flag == "-O" else flag
        elif flag == "-g0" or DEBUG.fullmatch(flag):
            found["debug"] = flag != "-g0"
        elif flag.startswith("-fvisibility="):
            found["visibility"] = flag.partition("=")[2]
        elif flag in ("-fwrapv", "-fno-wrapv"):
            found["wrapv"] = flag == "-fwrapv"
        elif flag == "-DNDEBUG":
            found["ndebug"] = True
    return found


def read(backend: str, wheel: Path, log: str, build_dir: Path, scratch: Path) -> dict:
    """A kept build's wheel size and files, compile flags, linkage, SIMD square roots and debug info.

    `log` is the build's output, `build_dir` its kept build folder; the
    extension modules are unpacked into `scratch` to be read.
    """
    libs = extension_libs(wheel)
    needed = libs.get("_core")
    unzipped = {m: extract_extension(wheel, m, scratch) for m in libs}
    roots = elf.square_roots(unzipped["_kernels"])
    square_roots = None if roots is None else sorted(k for k in roots if "pd" in k)  # the SIMD ones
    command = compile_command(backend, log, build_dir)
    flags = None if command is None else [token for token in command if FLAG.fullmatch(token)]
    debug = [elf.debug_info(path) for path in unzipped.values()]
    return {
        "wheel_bytes": wheel.stat().st_size,
        "files": wheel_files(wheel),
        # In command order, repeats dropped after the first; `effective` reads them all, in order.
        "compile_flags": None if flags is None else list(dict.fromkeys(flags)),
        "effective_flags": effective_flags(flags),
        "extension_libs": libs,
        "needed": needed,
        "libgomp": None if needed is None else any("omp" in n for n in needed),
        "simd_square_roots": square_roots,
        # Summed over the extension modules; None where they are not ELF.
        "debug_bytes": None if None in debug else sum(d["debug_bytes"] for d in debug),
        "symtab": None if None in debug else any(d["symtab"] for d in debug),
    }
