"""What this host offers roots: its architecture, its tools, and qemu through binfmt_misc for foreign ones."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

# The Debian architecture of each machine name that platform.machine() gives.
_DEBIAN_ARCH = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "i686": "i386",
    "i386": "i386",
    "armv7l": "armhf",
    "ppc64le": "ppc64el",
    "s390x": "s390x",
    "riscv64": "riscv64",
}
# qemu's name for each Debian architecture (its binfmt entry is qemu-<name>).
_QEMU_ARCH = {
    "amd64": "x86_64",
    "arm64": "aarch64",
    "armhf": "arm",
    "armel": "arm",
    "i386": "i386",
    "ppc64el": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
    "mips64el": "mips64el",
}
# Architectures that the host's CPU runs without emulation.
_NATIVE_TOO = {"amd64": {"i386"}, "arm64": {"armhf", "armel"}}
BINFMT = Path("/proc/sys/fs/binfmt_misc")
# Where host tools live that a non-login root shell's PATH may lack (debootstrap, chroot).
_SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")


def host_path() -> str:
    """The PATH for host tools: the caller's, then the sbin folders it does not have."""
    parts = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    return os.pathsep.join(parts + [d for d in _SBIN if d not in parts])


def which(tool: str) -> str | None:
    return shutil.which(tool, path=host_path())


def host_env() -> dict[str, str]:
    return {**os.environ, "PATH": host_path()}


def log(message: str) -> None:
    sys.stderr.write(f"roots: {message}\n")
    sys.stderr.flush()


def host_arch() -> str:
    """The host's Debian architecture (amd64, arm64, ...)."""
    machine = platform.machine().lower()
    if machine in _DEBIAN_ARCH:
        return _DEBIAN_ARCH[machine]
    dpkg = shutil.which("dpkg")
    if dpkg:
        return subprocess.run([dpkg, "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()
    return machine


def is_foreign(arch: str) -> bool:
    """Whether the host CPU cannot run `arch`'s programs by itself."""
    host = host_arch()
    return arch != host and arch not in _NATIVE_TOO.get(host, set())


def _binfmt_entry(arch: str) -> dict[str, str] | None:
    """The kernel's binfmt_misc entry for qemu-<arch>, as key -> value, or None."""
    qemu = _QEMU_ARCH.get(arch, arch)
    entry = BINFMT / f"qemu-{qemu}"
    try:
        lines = entry.read_text().splitlines()
    except OSError:
        return None
    fields = {"state": lines[0].strip() if lines else ""}
    for line in lines[1:]:
        key, _, value = line.partition(" ")
        fields[key] = value.strip()
    return fields


def _binfmt_can_be_enabled(arch: str) -> bool:
    """Whether ensure() could mount binfmt_misc and register qemu itself."""
    qemu = _QEMU_ARCH.get(arch, arch)
    known = [Path("/usr/share/binfmts") / f"qemu-{qemu}", Path("/var/lib/binfmts") / f"qemu-{qemu}"]
    return os.geteuid() == 0 and which("update-binfmts") is not None and any(p.exists() for p in known)


def unavailable(arch: str | None = None) -> str | None:
    """Why roots of `arch` cannot be made or run here, in one line; None when they can.

    Meant for a skip: on macOS, on a laptop without root or without
    debootstrap, a session says why and moves on instead of failing.
    """
    arch = arch or host_arch()
    if sys.platform != "linux":
        return f"Debian roots need Linux (debootstrap, chroot, mount); this is {sys.platform}"
    if os.geteuid() != 0:
        return f"Debian roots need root (debootstrap, chroot and mount); running as uid {os.geteuid()}"
    for tool, package in (("debootstrap", "debootstrap"), ("chroot", "coreutils"), ("mount", "mount")):
        if which(tool) is None:
            return f"no {tool} on PATH (Debian: apt-get install {package})"
    if arch not in _QEMU_ARCH and arch != host_arch():
        return f"unknown Debian architecture {arch!r}"
    if not is_foreign(arch):
        return None
    qemu = _QEMU_ARCH[arch]
    if not (BINFMT / "status").exists():
        if _binfmt_can_be_enabled(arch):
            return None  # ensure() mounts binfmt_misc and enables qemu
        return (
            f"{arch} programs need qemu-{qemu} through binfmt_misc, which is not mounted "
            "(as root: mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; update-binfmts --enable)"
        )
    entry = _binfmt_entry(arch)
    if entry is None:
        if _binfmt_can_be_enabled(arch):
            return None
        return f"no binfmt_misc registration for qemu-{qemu} (Debian: apt-get install qemu-user-static binfmt-support)"
    if entry["state"] != "enabled":
        return f"the binfmt_misc entry qemu-{qemu} is disabled (update-binfmts --enable qemu-{qemu})"
    interpreter = entry.get("interpreter", "")
    if "F" not in entry.get("flags", "") and not _is_static(Path(interpreter)):
        return (
            f"qemu-{qemu} is registered without the F flag and {interpreter} is not static, so it cannot "
            "run inside a chroot (Debian: apt-get install qemu-user-static)"
        )
    return None


def _is_static(path: Path) -> bool:
    """Whether an ELF file has no program interpreter (a static binary)."""
    try:
        data = path.read_bytes()[:4096]
    except OSError:
        return False
    return data[:4] == b"\x7fELF" and b"ld-linux" not in data


def enable_binfmt(arch: str) -> None:
    """Mount binfmt_misc and register qemu when they are missing and we may (root)."""
    if not is_foreign(arch):
        return
    if not (BINFMT / "status").exists():
        log(f"binfmt_misc is not mounted: mounting it on {BINFMT}")
        subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)], check=True, env=host_env())
    if _binfmt_entry(arch) is None and which("update-binfmts"):
        log("no qemu registration in binfmt_misc: running update-binfmts --enable")
        subprocess.run(["update-binfmts", "--enable"], check=False, env=host_env())
    reason = unavailable(arch)
    if reason:
        raise RuntimeError(reason)
