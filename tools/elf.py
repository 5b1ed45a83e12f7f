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
