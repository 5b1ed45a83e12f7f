"""Every compiled module that asks for OpenMP links an OpenMP runtime (Linux).

A module built without the OpenMP flags still builds and passes every other
test: its prange runs on one thread, silently (scikit-learn#29665). This
file knows nothing of the example package: which modules ask for OpenMP it
reads from their sources in src/ (a prange or a parallel block in the .pyx,
or an omp pragma or call in the C file of a header it declares with `cdef
extern from`), so it keeps checking a package moved in after the example
is gone. Run from the project (nox -s tests); where src/ is not beside
tests/ (cibuildwheel's copy), there is nothing to read and nothing runs.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest

PACKAGE = "mathcore"
SOURCES = Path(__file__).resolve().parents[1] / "src"
# gcc's libgomp, LLVM's libomp, Intel's libiomp; also auditwheel's vendored
# copies (libgomp-<8 hex>.so.1.0.0): "\b" matches before the "-".
OPENMP_RUNTIME = re.compile(r"lib(g|i)?omp\b")
ASKS_IN_CYTHON = re.compile(r"\bprange\(|\bparallel\(|^\s*cimport openmp\b", re.MULTILINE)
ASKS_IN_C = re.compile(r"#\s*pragma\s+omp\b|\bomp_\w+\s*\(")
DECLARED = re.compile(r"""cdef\s+extern\s+from\s+["']([^"']+)["']""")


def asks_for_openmp(pyx: Path) -> bool:
    """Whether the module of `pyx` uses OpenMP: in its Cython, or in the C behind a header it declares."""
    text = pyx.read_text(encoding="utf-8")
    if ASKS_IN_CYTHON.search(text):
        return True
    c_files = [
        (pyx.parent / header).with_suffix(suffix) for header in DECLARED.findall(text) for suffix in (".c", ".cpp")
    ]
    return any(ASKS_IN_C.search(c.read_text(encoding="utf-8")) for c in c_files if c.is_file())


def modules_asking() -> list[str]:
    """The dotted name of every compiled module whose sources ask for OpenMP."""
    pyx_files = sorted((SOURCES / PACKAGE).rglob("*.pyx"))
    return [".".join(p.relative_to(SOURCES).with_suffix("").parts) for p in pyx_files if asks_for_openmp(p)]


def needed(path: str) -> list[str]:
    """The shared libraries an ELF file asks the loader for (DT_NEEDED)."""
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile

    with Path(path).open("rb") as stream:
        sections = ELFFile(stream).iter_sections()
        return [tag.needed for s in sections if isinstance(s, DynamicSection) for tag in s.iter_tags("DT_NEEDED")]


@pytest.mark.skipif(sys.platform != "linux", reason="reads the modules' ELF dynamic section (Linux)")
@pytest.mark.parametrize("module", modules_asking())
def test_every_module_that_asks_for_openmp_links_it(module):
    origin = importlib.import_module(module).__spec__.origin
    libraries = needed(origin)
    assert any(map(OPENMP_RUNTIME.match, libraries)), (
        f"{module} uses OpenMP, but links no OpenMP runtime ({libraries}): its build lacks the OpenMP "
        "flags, so its parallel loops run on one thread (built without OpenMP on purpose? deselect this test)"
    )
