"""Read compiled code: the libraries an ELF file asks the loader for (DT_NEEDED), its machine, its debug info, its square roots.

One place for the instruments and the checks. Needs pyelftools (and objdump
for the instructions); a file that is not ELF (a macOS .so, a Windows .pyd)
gives None, which reports print as "n/a".
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

ELF_MAGIC = b"\x7fELF"


def needed(source: Path | bytes) -> list[str] | None:
    """DT_NEEDED of an ELF file (a path, or its bytes), in file order; None if it is not ELF."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if data[:4] != ELF_MAGIC:
        return None
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile

    return [
        tag.needed
        for section in ELFFile(io.BytesIO(data)).iter_sections()
        if isinstance(section, DynamicSection)
        for tag in section.iter_tags()
        if tag.entry.d_tag == "DT_NEEDED"
    ]


def machine(data: bytes) -> str | None:
    """The ELF file's machine (EM_X86_64, EM_AARCH64), from its bytes; None if it is not ELF."""
    if data[:4] != ELF_MAGIC:
        return None
    from elftools.elf.elffile import ELFFile

    return ELFFile(io.BytesIO(data))["e_machine"]


def debug_info(path: Path) -> dict[str, int | bool] | None:
    """Bytes of the file's DWARF sections (.debug_*) and whether it keeps a symbol table (.symtab); None if not ELF.

    What makes one wheel four times another's: -g writes the first, and only
    a strip on install (scikit-build-core's default) drops both.
    """
    data = Path(path).read_bytes()
    if data[:4] != ELF_MAGIC:
        return None
    from elftools.elf.elffile import ELFFile

    sections = {s.name: s["sh_size"] for s in ELFFile(io.BytesIO(data)).iter_sections()}
    return {
        "debug_bytes": sum(size for name, size in sections.items() if name.startswith(".debug_")),
        "symtab": ".symtab" in sections,
    }


# Square-root instructions: x86's packed and scalar ones (xmm: two lanes of
# the baseline; ymm: four, AVX2; zmm: eight, AVX-512) and aarch64's fsqrt.
SQRT = re.compile(r"\b(v?sqrt[ps]d|fsqrt)\b\s+%?([xyz]mm)?", re.IGNORECASE)


def count_square_roots(assembly: str) -> dict[str, int]:
    """Each square-root instruction (with its register width) in `assembly`, and how often it stands there."""
    counts: dict[str, int] = {}
    for instruction, register in SQRT.findall(assembly):
        key = f"{instruction} %{register}" if register else instruction
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def square_roots(path: Path) -> dict[str, int] | None:
    """count_square_roots of the file's machine code (objdump -d); None without objdump or for a file that is not ELF."""
    with Path(path).open("rb") as f:
        if f.read(4) != ELF_MAGIC:
            return None
    if not shutil.which("objdump"):
        return None
    return count_square_roots(
        subprocess.run(["objdump", "-d", str(path)], capture_output=True, text=True, check=True).stdout
    )
