"""tools/inspect/phases.py: the wrapper logs and passes the exit status through; read() splits time into phases."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tools.inspect import phases


def _log(tmp_path, *lines):
    (tmp_path / phases.LOG).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def test_read_partitions_wall_time_and_adds_up_work(tmp_path):
    _log(
        tmp_path,
        "cc\t101.0\t101.5\tcc -c sanitycheckc.c -o meson-private/x.o",
        "cython\t102.0\t104.0\t_core.pyx -o _core.pyx.c",
        "cython\t102.0\t103.0\t_kernels.pyx -o _kernels.pyx.c",
        "cc\t103.0\t106.0\tcc -O3 -g -c _kernels.pyx.c -o _kernels.o",
        "cc\t104.0\t105.0\tcc -O3 -c _core.pyx.c -o _core.o",
        "cc\t106.0\t107.0\tcc -shared _core.o -o _core.cpython-311-x86_64-linux-gnu.so",
    )
    got = phases.read(tmp_path, [], 100.0, 110.0)
    assert got["wall"] == {"setup": 1.0, "configure": 1.0, "cython": 1.0, "compile": 3.0, "link": 1.0, "pack": 3.0}
    assert sum(got["wall"].values()) == pytest.approx(10.0)
    assert got["work"]["cython"] == 3.0
    assert got["work"]["compile"] == 4.0
    assert got["jobs_max"] == 2
    assert got["flags"]["compile"] == ["-O3", "-g"]


def test_in_process_cython_is_the_gap_before_the_first_compile(tmp_path):
    """setuptools: the OpenMP probe, then cythonize in-process, then the compiles."""
    _log(
        tmp_path,
        "cc\t101.0\t101.2\tcc -fopenmp -c /tmp/x/omp.c -o /tmp/x/omp.o",
        "cc\t101.2\t101.4\tcc /tmp/x/omp.o -o /tmp/x/omp -fopenmp",
        "cc\t103.0\t104.0\tcc -c build/temp/_core.c -o build/temp/_core.o",
        "cc\t104.0\t104.5\tcc -shared build/temp/_core.o -o build/lib/p/_core.cpython-311-x86_64-linux-gnu.so",
    )
    got = phases.read(tmp_path, [], 100.0, 105.0)
    assert got["work"]["configure"] == pytest.approx(0.4)
    assert got["work"]["cython"] == pytest.approx(1.6)
    assert got["wall"]["pack"] == pytest.approx(0.5)


def test_probes_and_sanity_checks_are_configure(tmp_path):
    """Calls as meson and CMake made them here: their Cython and C checks are configuring, not the build."""
    _log(
        tmp_path,
        "cython\t1.0\t1.1\t-V",
        "cython\t1.1\t2.0\t--fast-fail -o sanity_check_for_cython.c sanity_check_for_cython.pyx -3",
        "cc\t2.0\t2.2\t-o sanity_check_for_cython.so sanity_check_for_cython.c -fPIC -shared",
        "cc\t2.2\t2.3\t-v -o CMakeFiles/cmTC_ceadc.dir/CMakeCCompilerABI.c.o -c /x/Modules/CMakeCCompilerABI.c",
        "cc\t2.3\t2.4\t-fopenmp -o a.o -c /b/CMakeFiles/CMakeScratch/TryCompile-W/OpenMPTryFlag.c",
        "cython\t3.0\t4.0\t-M /p/src/pkg/_core.pyx --output-file /p/bk/src/pkg/_core.c",
        "cc\t4.0\t5.0\t-O2 -g -fPIC -O3 -g0 -c /p/bk/src/pkg/_core.c -o CMakeFiles/_core.dir/_core.c.o",
        "cc\t4.5\t5.5\t-O3 -c ../src/pkg/helper.c -o h.o",
        "cc\t5.5\t6.0\t-shared -o _core.cpython-311-x86_64-linux-gnu.so CMakeFiles/_core.dir/_core.c.o h.o",
    )
    got = phases.read(tmp_path, ["pkg._core"], 0.0, 7.0)
    assert got["work"]["configure"] == pytest.approx(1.4)
    assert got["work"]["cython"] == pytest.approx(1.0)
    assert got["work"]["compile"] == pytest.approx(2.0)
    assert got["work"]["link"] == pytest.approx(0.5)
    assert got["wall"] == pytest.approx(
        {"setup": 1.0, "configure": 2.0, "cython": 1.0, "compile": 1.5, "link": 0.5, "pack": 1.0}
    )
    assert got["jobs_max"] == 2
    # the last -O and -g given are the ones the compiler obeys
    assert got["flags"]["compile"] == ["-fPIC", "-O3", "-g0"]


def test_the_shared_utility_module_is_cython_and_compile(tmp_path):
    """meson and CMake write _cyutility.c with `cython --generate-shared`, then compile it as a module."""
    _log(
        tmp_path,
        "cython\t1.0\t2.0\t--generate-shared=/b/src/pkg/_cyutility.c",
        "cc\t2.0\t4.0\t-O3 -c /b/src/pkg/_cyutility.c -o _cyutility.c.o",
        "cc\t4.0\t4.5\t-shared -o _cyutility.cpython-311-x86_64-linux-gnu.so _cyutility.c.o",
    )
    got = phases.read(tmp_path, ["_core", "_cyutility"], 0.0, 5.0)
    assert {p: s for p, s in got["work"].items() if s} == pytest.approx({"cython": 1.0, "compile": 2.0, "link": 0.5})


def test_broken_lines_are_left_out(tmp_path):
    _log(tmp_path, "cc\t1.0", "cc\t-c x.c\t1.0\t2.0", "cc\t1.0\t2.0\t-c x.c -o x.o")
    assert phases.read(tmp_path, [], 0.0, 3.0)["events"] == 1


def test_no_log_is_all_setup(tmp_path):
    assert phases.read(tmp_path, [], 0.0, 2.0)["wall"]["setup"] == 2.0


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_wrapper_logs_each_call_and_keeps_its_exit_status(tmp_path):
    _, env = phases.instrument("setuptools", tmp_path / "log")
    (tmp_path / "ok.c").write_text("int f(void) { return 1; }\n", encoding="utf-8")
    (tmp_path / "bad.c").write_text("int f(void) { return }\n", encoding="utf-8")
    ok = subprocess.run([env["CC"], "-c", "ok.c", "-o", "ok.o"], cwd=tmp_path, check=False)
    bad = subprocess.run([env["CC"], "-c", "bad.c", "-o", "bad.o"], cwd=tmp_path, capture_output=True, check=False)
    assert ok.returncode == 0
    assert bad.returncode != 0
    assert (tmp_path / "ok.o").exists()
    got = phases.read(tmp_path / "log", [], 0.0, 4e9)
    assert got["events"] == 2
    assert got["work"]["compile"] > 0


def test_peak_memory_sees_a_grandchild_and_disk_usage_adds_up(tmp_path):
    pytest.importorskip("psutil")
    hold = "b = bytearray(80 << 20); import time; time.sleep(0.6)"
    grandchild = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {hold!r}])"
    with phases.PeakMemory() as peak:
        subprocess.run([sys.executable, "-c", grandchild], check=True)
    assert peak.peak_bytes > 80 << 20
    (tmp_path / "a").write_bytes(b"x" * 1000)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "b").write_bytes(b"y" * 24)
    (tmp_path / "link").symlink_to(tmp_path / "a")
    assert phases.disk_usage(tmp_path) == 1024 + len(str(tmp_path / "a"))


def test_the_cython_driver_s_span_is_cython_and_its_c_is_a_module_s(tmp_path):
    """meson and CMake translate in tools/cythonize.py, out of the wrapper's reach; its C is named <pkg>.<module>.c."""
    _log(
        tmp_path,
        "cython\t0.5\t1.0\t--version",
        "cc\t3.0\t5.0\t-O3 -c ../pkg._core.c -o _core.cpython-311-x86_64-linux-gnu.so.p/meson-generated_.._pkg._core.c.o",
        "cc\t5.0\t5.5\t-shared -o _core.cpython-311-x86_64-linux-gnu.so x.o",
    )
    got = phases.read(tmp_path, ["_core"], 0.0, 6.0)
    assert {p: s for p, s in got["work"].items() if s} == pytest.approx(
        {"configure": 0.5, "cython": 2.0, "compile": 2.0, "link": 0.5}
    )
