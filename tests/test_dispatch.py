"""Runtime CPU dispatch: the kernel each build picks, forced, and on emulated CPUs.

Each build holds its loop twice, for the baseline and for AVX2 + FMA, and
picks at import. The qemu tests run this interpreter and the installed
builds as an older CPU (Nehalem: no AVX2, where AVX2 code dies of SIGILL)
and as one with AVX2 (Haswell).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

X86_64_LINUX = sys.platform == "linux" and platform.machine() == "x86_64"


def _forced(build) -> bool:
    """Whether <PACKAGE>_KERNEL=baseline is set for this build, as CI does on its second pass."""
    return os.environ.get(f"{build.__name__.upper()}_KERNEL") == "baseline"


def _cpu_flags() -> set[str]:
    text = Path("/proc/cpuinfo").read_text()
    return set(next(line for line in text.splitlines() if line.startswith("flags")).split(":")[1].split())


def test_kernel_is_listed(build):
    info = build.build_info()
    assert info["kernels"][0] == "baseline"
    assert info["kernel"] in info["kernels"]
    if _forced(build):
        assert info["kernel"] == "baseline"


@pytest.mark.skipif(not X86_64_LINUX, reason="reads x86-64 CPU flags from /proc/cpuinfo")
def test_kernel_matches_this_cpu(build):
    """On x86-64 with gcc or clang: the AVX2 kernel exactly when this CPU has AVX2 and FMA, unless forced."""
    info = build.build_info()
    assert info["kernels"] == ["baseline", "avx2"]
    want = "avx2" if {"avx2", "fma"} <= _cpu_flags() and not _forced(build) else "baseline"
    assert info["kernel"] == want


def test_unknown_kernel_is_refused(build):
    variable = f"{build.__name__.upper()}_KERNEL"
    done = subprocess.run(
        [sys.executable, "-c", f"import {build.__name__}"],
        env={**os.environ, variable: "avx512"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert f"ValueError: {variable} must be auto or baseline, not 'avx512'" in done.stderr


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
    child = subprocess.Popen(
        [QEMU, "-cpu", cpu, sys.executable, "-c", EMULATED, build.__name__],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = child.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        pytest.fail(f"no answer within 300 s under qemu -cpu {cpu}")
    # A SIGILL here is AVX2 code run on a CPU that lacks it.
    assert child.returncode == 0, f"exit status {child.returncode} under -cpu {cpu}\n{err[-3000:]}"
    report = json.loads(out.strip().splitlines()[-1])
    assert report["kernel"] == ("baseline" if _forced(build) else kernel)
    assert all(all(v) for v in report["exact"].values()), report["exact"]
