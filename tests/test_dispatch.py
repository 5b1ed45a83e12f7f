"""Runtime CPU dispatch: the kernel each build picks, forced, and on emulated CPUs.

Each build holds its loop three times on x86-64 (baseline, AVX2 + FMA,
AVX-512) and picks the fastest the CPU runs at import. The qemu tests run
this interpreter and the installed builds as an older CPU (Nehalem: no
AVX2, where AVX2 code dies of SIGILL) and as one with AVX2 but no AVX-512
(Haswell; qemu-user emulates no AVX-512).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.children import run_child

X86_64_LINUX = sys.platform == "linux" and platform.machine() == "x86_64"
# What each kernel needs of the CPU, as /proc/cpuinfo names the flags.
NEEDS = {
    "baseline": set(),
    "avx2": {"avx2", "fma"},
    "avx512": {"avx2", "fma", "avx512f", "avx512cd", "avx512dq", "avx512bw", "avx512vl"},
}


def _forced(build) -> str | None:
    """The kernel <PACKAGE>_KERNEL forces for this build, as CI does on its extra passes."""
    return os.environ.get(f"{build.__name__.upper()}_KERNEL")


def _cpu_flags() -> set[str]:
    text = Path("/proc/cpuinfo").read_text()
    return set(next(line for line in text.splitlines() if line.startswith("flags")).split(":")[1].split())


def _best(flags: set[str]) -> str:
    return next(kernel for kernel in reversed(NEEDS) if NEEDS[kernel] <= flags)


def test_kernel_is_listed(build):
    info = build.build_info()
    assert info["kernels"][0] == "baseline"
    assert info["kernel"] in info["kernels"]
    if _forced(build):
        assert info["kernel"] == _forced(build)


@pytest.mark.skipif(not X86_64_LINUX, reason="reads x86-64 CPU flags from /proc/cpuinfo")
def test_kernel_matches_this_cpu(build):
    """On x86-64 with gcc or clang: the fastest kernel this CPU has the instructions for, unless forced."""
    info = build.build_info()
    assert info["kernels"] == ["baseline", "avx2", "avx512"]
    assert info["kernel"] == (_forced(build) or _best(_cpu_flags()))


def _import_with(build, kernel: str) -> subprocess.CompletedProcess[str]:
    """Import the build in a child with <PACKAGE>_KERNEL=kernel; it prints its kernel and whether its sums are exact."""
    code = (
        f"import {build.__name__} as m; "
        "print(m.build_info()['kernel'], all(f(-5, 300_007) == m.twin.exact(-5, 300_007) "
        "for f in (m.do_math, m.do_math_threaded, m.do_math_parallel)))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, f"{build.__name__.upper()}_KERNEL": kernel},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("kernel", list(NEEDS))
def test_each_kernel_forced(build, kernel):
    """Forced, each kernel gives exact answers where the CPU has its instructions, and a clear error where not."""
    if kernel not in build.build_info()["kernels"]:
        pytest.skip(f"this build holds no {kernel} kernel (not x86-64 with gcc or clang)")
    if not X86_64_LINUX:
        pytest.skip("reads x86-64 CPU flags from /proc/cpuinfo")
    done = _import_with(build, kernel)
    if NEEDS[kernel] <= _cpu_flags():
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.split() == [kernel, "True"]
    else:
        # The refusal comes before any instruction of that kernel runs: no SIGILL (-4), a ValueError.
        assert done.returncode == 1, f"exit status {done.returncode}\n{done.stderr[-2000:]}"
        assert (
            f"ValueError: {build.__name__.upper()}_KERNEL={kernel}, but this module or CPU cannot run it" in done.stderr
        )


def test_unknown_kernel_is_refused(build):
    done = _import_with(build, "avx1024")
    assert done.returncode != 0
    variable = f"{build.__name__.upper()}_KERNEL"
    assert f"ValueError: {variable} must be auto, baseline, avx2 or avx512, not 'avx1024'" in done.stderr


# Under emulation Python runs some 20 times slower: small sums, a generous limit.
EMULATED = """
import importlib, json, sys
build = importlib.import_module(sys.argv[1])
ranges = [(0, 10), (-5, 300_007), (999_000, 1_001_001), (2**40, 2**40 + 1_003)]
got = {name: [getattr(build, name)(a, b) == build.twin.exact(a, b) for a, b in ranges]
       for name in ("do_math", "do_math_threaded", "do_math_parallel")}
print(json.dumps({"kernel": build.build_info()["kernel"], "exact": got}))
"""
QEMU = shutil.which("qemu-x86_64")


@pytest.mark.skipif(not X86_64_LINUX or QEMU is None, reason="needs qemu-x86_64 (Debian: apt-get install qemu-user)")
@pytest.mark.parametrize(("cpu", "kernel"), [("Nehalem", "baseline"), ("Haswell", "avx2")])
def test_emulated_cpu(build, cpu, kernel):
    """The same wheel on an emulated CPU without AVX2 and one with it: exact answers, the right kernel."""
    forced = _forced(build)
    if forced and forced != "baseline":
        pytest.skip(f"{forced} forced: the emulated CPU may lack it")
    # A SIGILL here (exit status -4) is AVX2 code run on a CPU that lacks it.
    report = run_child(EMULATED, build.__name__, command=[QEMU, "-cpu", cpu], timeout=300)
    assert report["kernel"] == (forced or kernel)
    assert all(all(v) for v in report["exact"].values()), report["exact"]
