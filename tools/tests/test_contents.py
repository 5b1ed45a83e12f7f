"""The package-files check names every file a backend left out: the negative controls, on archives made here."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from tools.checks.contents import missing, source_files

FILES = {
    "pkg/__init__.py": "",
    "pkg/_core.pyx": "from ._kernels cimport block_sum\n",
    "pkg/_kernels.pyx": "",
    "pkg/_kernels.pxd": "cdef double block_sum(long long, long long) noexcept nogil\n",
    "pkg/_core.pyi": "",
    "pkg/py.typed": "",
    "pkg/selftest/__init__.py": "",
    "pkg/selftest/cases.json": "{}",
}
EXTENSIONS = ["pkg/_core.cpython-311-x86_64-linux-gnu.so", "pkg/_kernels.cpython-311-x86_64-linux-gnu.so"]


def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for name, text in FILES.items():
        (root / "src" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "src" / name).write_text(text)
    (root / "src" / "pkg" / "__pycache__").mkdir()
    (root / "src" / "pkg" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"")  # not a source
    return root


def sdist(tmp_path: Path, leave_out: str = "") -> Path:
    path = tmp_path / "pkg-0.1.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name in [f"src/{n}" for n in FILES if n != leave_out] + ["pyproject.toml"]:
            info = tarfile.TarInfo(f"pkg-0.1/{name}")
            tar.addfile(info, io.BytesIO(b""))
    return path


def wheel(tmp_path: Path, leave_out: str = "", add: str = "") -> Path:
    path = tmp_path / "pkg-0.1-cp311-cp311-linux_x86_64.whl"
    shipped = [n for n in FILES if not n.endswith(".pyx")] + EXTENSIONS + ["pkg-0.1.dist-info/RECORD", add]
    with zipfile.ZipFile(path, "w") as whl:
        for name in filter(None, shipped):
            if name != leave_out:
                whl.writestr(name, "")
    return path


def test_sources_are_the_package_files(tmp_path):
    assert source_files(project(tmp_path)) == {"pkg": sorted(FILES)}


def test_a_complete_build_passes(tmp_path):
    assert missing(project(tmp_path), sdist(tmp_path), wheel(tmp_path)) == []


@pytest.mark.parametrize("lost", ["pkg/_kernels.pxd", "pkg/selftest/__init__.py", "pkg/selftest/cases.json"])
def test_a_file_left_out_of_the_wheel_is_named(tmp_path, lost):
    (problem,) = missing(project(tmp_path), sdist(tmp_path), wheel(tmp_path, leave_out=lost))
    assert problem.endswith(f"lacks {lost}")


@pytest.mark.parametrize("lost", ["pkg/_kernels.pxd", "pkg/_core.pyx", "pkg/selftest/cases.json"])
def test_a_file_left_out_of_the_sdist_is_named(tmp_path, lost):
    (problem,) = missing(project(tmp_path), sdist(tmp_path, leave_out=lost), wheel(tmp_path))
    assert problem == f"pkg-0.1.tar.gz lacks src/{lost}"


def test_a_module_not_compiled_is_named(tmp_path):
    (problem,) = missing(project(tmp_path), sdist(tmp_path), wheel(tmp_path, leave_out=EXTENSIONS[1]))
    assert problem.endswith("lacks the compiled module of pkg/_kernels.pyx")


def test_a_module_compiled_in_place_in_the_sdist_is_named(tmp_path):
    path = sdist(tmp_path)
    with tarfile.open(path, "w:gz") as tar:  # the complete sdist, plus what an in-place build left
        for name in [f"src/{n}" for n in FILES] + ["src/pkg/_core.cpython-312-x86_64-linux-gnu.so"]:
            tar.addfile(tarfile.TarInfo(f"pkg-0.1/{name}"), io.BytesIO(b""))
    (problem,) = missing(project(tmp_path), path, wheel(tmp_path))
    assert (
        problem
        == "pkg-0.1.tar.gz holds src/pkg/_core.cpython-312-x86_64-linux-gnu.so, which is not a file of the package"
    )


def test_a_stray_file_in_the_wheel_is_named(tmp_path):
    (problem,) = missing(project(tmp_path), sdist(tmp_path), wheel(tmp_path, add="pkg/__pycache__/x.cpython-311.pyc"))
    assert "holds pkg/__pycache__/x.cpython-311.pyc" in problem
