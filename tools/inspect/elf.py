"""The shared libraries an ELF file asks the dynamic loader for (its DT_NEEDED entries).

One place for compare, scale and the checks. Needs pyelftools; a file that is
not ELF (a macOS .so, a Windows .pyd) gives None, which reports print as "n/a".
"""

from __future__ import annotations

from pathlib import Path

ELF_MAGIC = b"\x7fELF"


def needed(path: Path) -> list[str] | None:
    """DT_NEEDED of the ELF file at `path`, in file order; None if it is not ELF."""
    with Path(path).open("rb") as f:
        if f.read(4) != ELF_MAGIC:
            return None
        f.seek(0)
        from elftools.elf.dynamic import DynamicSection
        from elftools.elf.elffile import ELFFile

        return [
            tag.needed
            for section in ELFFile(f).iter_sections()
            if isinstance(section, DynamicSection)
            for tag in section.iter_tags()
            if tag.entry.d_tag == "DT_NEEDED"
        ]


def simd_square_roots(path: Path) -> list[str] | None:
    """The packed square-root instructions in the file's machine code (objdump -d): which kernels it holds.

    `sqrtpd %xmm` is the baseline x86-64 kernel (two lanes), `vsqrtpd %ymm`
    the AVX2 one (four lanes), `vsqrtpd %zmm` the AVX-512 one (eight). None
    without objdump or for a file that is not ELF.
    """
    import re
    import shutil
    import subprocess

    with Path(path).open("rb") as f:
        if f.read(4) != ELF_MAGIC:
            return None
    if not shutil.which("objdump"):
        return None
    text = subprocess.run(["objdump", "-d", str(path)], capture_output=True, text=True, check=True).stdout
    found = {f"{m[1]} %{m[2]}" for m in re.finditer(r"\b(v?sqrtpd)\s+%?(xmm|ymm|zmm)", text)}
    return sorted(found)
