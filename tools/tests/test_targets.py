"""The aarch64 wheel check names a wrong machine, suffix, tag or missing libgomp: negative controls on made-up wheels."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tools.inspect.dists import aarch64_problems

X86_ELF = Path("/bin/true")  # an x86-64 ELF on the machines these tests run on
# An aarch64 shared library that links nothing of ours, from gcc-aarch64-linux-gnu's sysroot.
ARM_ELF = Path("/usr/aarch64-linux-gnu/lib/libgomp.so.1")


def wheel(tmp_path: Path, elf: Path, member: str, tag: str) -> Path:
    path = tmp_path / f"pkg-0.1-{tag}.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(elf, f"pkg/{member}")
        zf.writestr("pkg-0.1.dist-info/WHEEL", f"Wheel-Version: 1.0\nTag: {tag}\n")
    return path


@pytest.mark.skipif(not X86_ELF.is_file(), reason="needs an x86-64 ELF at /bin/true")
def test_an_x86_wheel_is_named_on_every_count(tmp_path):
    found = aarch64_problems(
        wheel(tmp_path, X86_ELF, "_core.cpython-311-x86_64-linux-gnu.so", "cp311-cp311-linux_x86_64")
    )
    text = "\n".join(found)
    assert "not linux_aarch64" in text
    assert "not AArch64" in text
    assert "not named *.cpython-3XY-aarch64-linux-gnu.so" in text
    assert "does not link libgomp.so.1" in text


@pytest.mark.skipif(not ARM_ELF.is_file(), reason="needs gcc-aarch64-linux-gnu's libgomp")
def test_the_right_machine_and_tag_with_the_wrong_suffix(tmp_path):
    found = aarch64_problems(wheel(tmp_path, ARM_ELF, "_core.so", "cp311-cp311-linux_aarch64"))
    assert any("not named" in p for p in found)
    assert not any("not AArch64" in p or "linux_aarch64" in p for p in found)


@pytest.mark.parametrize("backend", ["meson", "cmake"])
def test_the_readme_shows_the_cross_build_the_session_runs(backend):
    """The template's DEVELOPING.md gives the aarch64 command as tools/make/cross.py runs it (setuptools: its script)."""
    from tools.make import cross
    from tools.make.render import ROOT
    from tools.registry.backends import BACKENDS

    readme = (ROOT / backend / "DEVELOPING.md").read_text()
    recipe = Path("$PWD") / BACKENDS[backend].cross_files[0]
    command = " ".join(arg.format(recipe=recipe) for arg in BACKENDS[backend].cross_args)
    assert command in readme
    assert "_PYTHON_HOST_PLATFORM=linux-aarch64" in readme
    assert cross.ROOT_PLACEHOLDER in (ROOT / backend / BACKENDS[backend].cross_files[0]).read_text()
