"""The Cython driver beside the meson and CMake templates (tools/cythonize.py): one copy, and what it promises."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tools.make.render import ROOT

DRIVER = ROOT / "meson" / "tools" / "cythonize.py"


def test_meson_and_cmake_ship_the_same_driver():
    assert DRIVER.read_bytes() == (ROOT / "cmake" / "tools" / "cythonize.py").read_bytes()


def _package(tmp: Path) -> Path:
    pkg = tmp / "src" / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "dep.pxd").write_text("cdef int twice(int x)\n")
    (pkg / "dep.pyx").write_text("cdef int twice(int x):\n    return 2 * x\n")
    (pkg / "user.pyx").write_text("from pkg.dep cimport twice\ndef f(int x):\n    return twice(x)\n")
    # Same module name in a subpackage, translated as C++: outputs must not collide.
    (pkg / "sub" / "user.pyx").write_text("def g():\n    return 1\n")
    return pkg


# Options as meson passes them after its Cython command: a directive, the shared utility module.
OPTIONS = ("-X", "linetrace=True", "--shared=pkg._cyutility")


def _command(tmp: Path, pkg: Path, options=OPTIONS) -> list:
    out = tmp / "build"
    sources = [pkg / "dep.pyx", pkg / "user.pyx", pkg / "sub" / "user.pyx"]
    outputs = [out / "pkg.dep.c", out / "pkg.user.c", out / "pkg.sub.user.cpp"]
    return [
        sys.executable,
        DRIVER,
        out / "cythonize.d",
        "cython",
        *options,
        "--sources",
        *sources,
        "--outputs",
        *outputs,
    ]


def _run(tmp: Path, pkg: Path, options=OPTIONS) -> tuple[subprocess.CompletedProcess, list[Path]]:
    out = tmp / "build"
    out.mkdir(exist_ok=True)
    cmd = _command(tmp, pkg, options)
    done = subprocess.run(cmd, cwd=out, capture_output=True, text=True, timeout=300, check=False)
    return done, cmd[cmd.index("--outputs") + 1 :]


def test_translates_once_writes_only_changed_c_and_names_every_input(tmp_path):
    pkg = _package(tmp_path)
    done, outputs = _run(tmp_path, pkg)
    assert done.returncode == 0, done.stderr
    assert all("__Pyx_TraceLine" in p.read_text() for p in outputs)
    assert "pkg._cyutility" in outputs[1].read_text()
    cplus = [("must be compiled with a C++ compiler" in p.read_text()) for p in outputs]
    assert cplus == [False, False, True]
    depfile = (tmp_path / "build" / "cythonize.d").read_text()
    assert depfile.startswith(f"{outputs[0]}:")
    for name in ("dep.pxd", "dep.pyx", "user.pyx", "Cython/__init__.py"):
        assert name in depfile
    # The `cython` script too: an installer that keeps the package's old file dates writes it anew.
    assert str(Path(shutil.which("cython")).resolve()) in depfile
    before = {p: p.stat().st_mtime_ns for p in outputs}
    # A comment in the .pxd: both dependents are translated again, but their C
    # text does not change, so no output is rewritten (ninja's restat then skips the compiles).
    os.utime(pkg / "dep.pyx")
    with (pkg / "dep.pxd").open("a") as pxd:
        pxd.write("# a comment\n")
    done, _ = _run(tmp_path, pkg)
    assert done.returncode == 0, done.stderr
    assert "Cythonizing pkg/user.pyx" in done.stdout
    assert {p: p.stat().st_mtime_ns for p in outputs} == before
    # A real edit rewrites its own C only.
    with (pkg / "user.pyx").open("a") as pyx:
        pyx.write("EDITED = 1\n")
    done, _ = _run(tmp_path, pkg)
    assert done.returncode == 0, done.stderr
    assert [p.stat().st_mtime_ns != before[p] for p in outputs] == [False, True, False]


def test_other_options_translate_every_module_again(tmp_path):
    """ninja runs the command again when its options change; the C must follow them, not the files' dates."""
    pkg = _package(tmp_path)
    done, outputs = _run(tmp_path, pkg)
    assert done.returncode == 0, done.stderr
    done, _ = _run(tmp_path, pkg)
    assert "Cythonizing" not in done.stdout
    done, _ = _run(tmp_path, pkg, options=("-X", "linetrace=True"))  # the shared utility module turned off
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Cythonizing") == 3
    assert "pkg._cyutility" not in outputs[1].read_text()


def _driver():
    import importlib.util

    spec = importlib.util.spec_from_file_location("cythonize_driver", DRIVER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("escaped", [True, False], ids=["cython-3.2.5+", "older"])
def test_cython_depfiles_with_spaces_are_read_and_ours_is_escaped(tmp_path, escaped):
    """Cython escapes spaces in its depfile from 3.2.5 on (cython/cython#7423); the templates accept 3.1."""
    driver = _driver()
    names = [tmp_path / "a dir" / "m.pyx", tmp_path / "plain" / "m.pxd"]
    listed = [str(n).replace(" ", "\\ ") if escaped else str(n) for n in names]
    made = tmp_path / "m.c"
    Path(f"{made}.dep").write_text("m.c: \\\n  " + " \\\n  ".join(listed) + "\n", encoding="utf-8")
    assert driver.read(made) == [n.resolve() for n in names]
    assert driver.escape(Path("/a b/$x#1")) == "/a\\ b/$$x\\#1"


def test_an_error_names_the_file_and_line_and_a_killed_run_translates_all_again(tmp_path):
    pkg = _package(tmp_path)
    (pkg / "user.pyx").write_text("def f():\n    return undefined_name\n")
    done, _ = _run(tmp_path, pkg)
    assert done.returncode != 0
    assert "pkg/user.pyx:2:11" in done.stdout + done.stderr
    (pkg / "user.pyx").write_text("def f():\n    return 1\n")
    (tmp_path / "build" / "cythonize" / "unfinished").touch()  # what a killed run leaves
    done, _ = _run(tmp_path, pkg)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Cythonizing") == 3


# ninja as a stand-in: the driver in a process group of its own, its output a
# pipe that this parent reads; `sh -c "... && true"` keeps a shell between
# them, as CMake's command line does. The parent writes the driver's pid.
_PARENT = """
import subprocess, sys
pid_file, shell, cmd = sys.argv[1], sys.argv[2] == "sh", sys.argv[3:]
if shell:
    cmd = ["sh", "-c", subprocess.list2cmdline(cmd) + " && true"]
child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, process_group=0)
if shell:  # the driver is the shell's child
    import time
    while not (kids := open(f"/proc/{child.pid}/task/{child.pid}/children").read().split()):
        time.sleep(0.01)
    open(pid_file, "w").write(kids[0])
else:
    open(pid_file, "w").write(str(child.pid))
sys.stdout.write(child.stdout.read().decode())
"""


def _heavy(pkg: Path) -> None:
    """Modules that take Cython a while, so that the kill lands during the translation."""
    body = "".join(
        f"def f{i}(double x, int n):\n    cdef int k\n    for k in range(n):\n        x += k * {i}\n    return x\n"
        for i in range(150)
    )
    for name in ("dep", "user"):
        (pkg / f"{name}.pyx").write_text((pkg / f"{name}.pyx").read_text() + body)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("shell", ["direct", "sh"])
def test_a_build_killed_during_the_translation_leaves_nothing_running_and_the_next_is_whole(tmp_path, shell):
    pkg = _package(tmp_path)
    _heavy(pkg)
    done, outputs = _run(tmp_path, pkg)
    assert done.returncode == 0, done.stderr
    clean = [p.read_bytes() for p in outputs]
    shutil.rmtree(tmp_path / "build")
    # The same command as _run, started by a parent that is then killed with SIGKILL.
    pid_file = tmp_path / "driver.pid"
    out = tmp_path / "build"
    out.mkdir()
    cmd = _command(tmp_path, pkg)
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, pid_file, shell, *map(str, cmd)], cwd=out)
    try:
        deadline = time.monotonic() + 120
        while not (out / "cythonize" / "unfinished").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert (out / "cythonize" / "unfinished").exists(), "the translation never started"
        assert parent.poll() is None, "the translation ended before the kill"
        parent.kill()
        parent.wait(timeout=10)
        driver = int(pid_file.read_text())
        deadline = time.monotonic() + 10
        while _alive(driver) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(driver), "the driver outlived its build"
    finally:
        if parent.poll() is None:
            parent.kill()
    done, outputs = _run(tmp_path, pkg)  # 300 s timeout: a lock left behind fails here
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Cythonizing") == 3
    assert [p.read_bytes() for p in outputs] == clean
