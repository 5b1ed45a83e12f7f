"""Read what a build wrote: the files of a wheel and an sdist, its extension modules and what they link.

One reader for the checks and the instruments. The command line answers the
sessions' one question about wheels they have not installed yet:

    python -m tools.inspect.dists installable WHEEL ...

prints those of the wheels that this Python can install (packaging's tags):
abi3 wheels need CPython 3.12+, and a build made by another Python is for that
Python only.
"""

from __future__ import annotations

import re
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from tools.inspect import elf
from tools.registry.backends import PLACEHOLDER

# An extension module's file name: _core.cpython-311-x86_64-linux-gnu.so, _core.abi3.so, _core.cp312-win_amd64.pyd.
EXTENSION = re.compile(r"(?P<module>[^/.]+)\.[^/]*\.(so|pyd)$")


def module_of(path: str) -> str | None:
    """The module name of an extension's file name or path, or None if it is not one."""
    match = EXTENSION.search(path)
    return match["module"] if match else None


def wheel_files(wheel: Path) -> dict[str, int]:
    """Every member of the wheel and its size."""
    with zipfile.ZipFile(wheel) as zf:
        return {info.filename: info.file_size for info in zf.infolist() if not info.is_dir()}


def sdist_files(sdist: Path) -> list[str]:
    """Every file of the sdist, relative to its top folder (name-version/)."""
    with tarfile.open(sdist) as tar:
        return sorted(m.name.partition("/")[2] for m in tar.getmembers() if m.isfile())


def _normalize(text: bytes, name: str) -> bytes:
    """Put the placeholder name back, as tools/make/render.py took it out."""
    lower, upper = name.encode(), name.upper().encode()
    return text.replace(lower, PLACEHOLDER.encode()).replace(upper, PLACEHOLDER.upper().encode())


def sdist_package(sdist: Path, name: str) -> dict[str, bytes]:
    """The package files of an sdist, <root>/src/<name>/..., by their path in the package, name put back to the placeholder."""
    found = {}
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            parts = member.name.split("/")
            if member.isfile() and parts[1:3] == ["src", name]:
                found["/".join(parts[3:])] = _normalize(tar.extractfile(member).read(), name)
    return found


def wheel_package(wheel: Path, name: str) -> dict[str, bytes]:
    """The package files of a wheel, an extension as `<module>.<extension>` (each compiler writes its own bytes)."""
    found = {}
    with zipfile.ZipFile(wheel) as whl:
        for path in whl.namelist():
            head, _, rest = path.partition("/")
            if head != name or not rest or rest.endswith("/"):
                continue
            if module := module_of(rest):
                found[f"{rest.rpartition('/')[0]}/{module}.<extension>".lstrip("/")] = b""
            else:
                found[rest] = _normalize(whl.read(path), name)
    return found


def extension_libs(wheel: Path) -> dict[str, list[str] | None]:
    """Each extension module in the wheel -> the libraries it links (DT_NEEDED; None if not ELF)."""
    libs = {}
    with zipfile.ZipFile(wheel) as zf, tempfile.TemporaryDirectory() as tmp:
        for member in zf.namelist():
            if module := module_of(member):
                libs[module] = elf.needed(Path(zf.extract(member, tmp)))
    return dict(sorted(libs.items()))


def extract_extension(wheel: Path, module: str, dest: Path) -> Path:
    """Unpack one extension module of the wheel into `dest`."""
    with zipfile.ZipFile(wheel) as zf:
        member = next(n for n in zf.namelist() if module_of(n) == module)
        return Path(zf.extract(member, dest))


AARCH64_SUFFIX = re.compile(r"\.cpython-3\d+-aarch64-linux-gnu\.so$")


def aarch64_problems(wheel: Path) -> list[str]:
    """What makes `wheel` not an aarch64 Linux wheel of OpenMP-linked modules (empty when it is one)."""
    found = []
    tag = wheel.name.removesuffix(".whl").split("-", 2)[2]
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/WHEEL"))
        tags = [line.split(": ", 1)[1] for line in zf.read(meta).decode().splitlines() if line.startswith("Tag:")]
        if not tag.endswith("-linux_aarch64") or tags != [tag]:
            found.append(f"{wheel.name}: tagged {tag} (WHEEL: {tags}), not linux_aarch64")
        modules = [n for n in zf.namelist() if n.endswith(".so")]
        if not modules:
            found.append(f"{wheel.name}: no extension module")
        for name in modules:
            data = zf.read(name)
            if elf.machine(data) != "EM_AARCH64":
                found.append(f"{name}: machine {elf.machine(data)}, not AArch64")
            if not AARCH64_SUFFIX.search(name):
                found.append(f"{name}: not named *.cpython-3XY-aarch64-linux-gnu.so")
            # Cython's shared utility module runs no prange: it needs no runtime.
            if "libgomp.so.1" not in (libs := elf.needed(data) or []) and "/_cyutility." not in name:
                found.append(f"{name}: does not link libgomp.so.1 ({libs})")
    return found


def installable(wheels: list[str]) -> list[str]:
    """Those of `wheels` that this Python can install (needs packaging)."""
    from packaging.tags import sys_tags
    from packaging.utils import parse_wheel_filename

    here = set(sys_tags())
    return [w for w in wheels if parse_wheel_filename(Path(w).name)[3] & here]


if __name__ == "__main__":
    if sys.argv[1:2] != ["installable"]:
        sys.exit("usage: python -m tools.inspect.dists installable WHEEL ...")
    print(*installable(sys.argv[2:]), sep="\n")
