"""The machine a figure was measured on: CPU model, family and instruction sets, cores, load, Python.

Every report names it next to its figures: the same kernel runs twice as
fast on a CPU with AVX-512 as on one with AVX2 only, and a loaded machine
gives noisy timings.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

# The x86-64 instruction-set levels a kernel or the C reference may be built for, as /proc/cpuinfo spells their flags.
LEVELS = {
    "x86-64-v3": ("avx2", "fma"),
    "x86-64-v4": ("avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"),
}


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo (Linux); empty elsewhere."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    fields = {}
    for line in text.split("\n\n")[0].splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def cpu_flags() -> set[str]:
    """The CPU's feature flags as the kernel reports them (x86: avx2, avx512f ...; aarch64: asimd ...)."""
    info = _cpuinfo()
    return set((info.get("flags") or info.get("Features") or "").split())


def has_level(level: str) -> bool:
    """Whether this CPU (and the kernel, which lists only what the OS enabled) supports an x86-64 level."""
    return platform.machine() in {"x86_64", "AMD64"} and set(LEVELS[level]) <= cpu_flags()


def best_level() -> str:
    """The highest x86-64 level this CPU supports: x86-64-v4, -v3, or "portable"."""
    return next((level for level in reversed(LEVELS) if has_level(level)), "portable")


def machine(cores: int | None = None) -> dict:
    """What a report says about the machine it ran on."""
    info = _cpuinfo()
    cpu = info.get("model name") or platform.processor() or platform.machine()
    return {
        "cpu": cpu,
        "cpu_family": info.get("cpu family"),
        "cpu_model": info.get("model"),
        "instruction_sets": best_level(),
        "cores": cores or os.cpu_count() or 1,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
    }


def describe(info: dict) -> str:
    """One line: "AMD EPYC (family 25), AVX2 (x86-64-v3), 2 cores"."""
    family = f" (family {info['cpu_family']})" if info.get("cpu_family") else ""
    level = {"x86-64-v4": "AVX-512 (x86-64-v4)", "x86-64-v3": "AVX2 (x86-64-v3)"}.get(
        info["instruction_sets"], "no AVX2"
    )
    return f"{info['cpu']}{family}, {level}, {info['cores']} cores"
