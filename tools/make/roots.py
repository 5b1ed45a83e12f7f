"""Make, cache and run Debian roots (chroots) for tests that need another Debian or CPU.

Why this exists: some checks cannot run on the host as it is. An aarch64 wheel
has to be imported by an aarch64 Python (a root of Debian arm64, run by
qemu-user through binfmt_misc); a Python the host's Debian does not ship
(python3.14 in sid) needs a newer Debian; a "bare" check needs a Debian with
nothing but what a package declares. debootstrap makes such a root (minutes
natively, a quarter of an hour for arm64 under qemu) and chroot runs it, but
each session that did this by hand made the same mistakes: a half-made root
left behind by an interrupted run and then taken for a good one, pip that
cannot reach PyPI because the host's pip.conf and certificate are missing in
the root, bind mounts left behind by a killed test (a later `rm -rf` of the
cache then deletes the host folder through them), and a command that hangs
forever under emulation. This module does it once, correctly, with the
standard library only:

    root = Root("bookworm", "arm64", ("python3", "python3-venv"))
    if reason := unavailable(root.arch):
        pytest.skip(reason)
    ensure(root)                                  # cached after the first time
    run(root, ["python3", "-V"], binds={dist: Bind("/dist")}, timeout=600)

Command line: `python roots.py make SUITE ARCH PKG,PKG...` prints the root's
path (making it when needed); `python roots.py why ARCH` prints why roots of
ARCH cannot be made or run here, or "ok"; `python roots.py run SUITE ARCH
PKGS [--bind HOST:TARGET[:rw]] -- CMD...` runs a command in a root.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

FALLBACK_MIRROR = "http://deb.debian.org/debian"
# debootstrap's variant: minbase is dpkg, apt and the essential packages, no
# init system, the smallest root that apt can still extend.
VARIANT = "minbase"
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
# The environment a command in a root starts from: nothing of the host's, whose
# PIP_*, PYTHONPATH or VIRTUAL_ENV name host paths, except a proxy if any.
_BASE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LANG": "C.UTF-8",
}
_PASS_ENV = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "TERM")
# Device nodes that Python, pip and compilers open; bound from the host's /dev
# into a fresh tmpfs, so the root's own /dev never matters.
_DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
_STAMP = "etc/mathcore-root.json"


# Where host tools live that a non-login root shell's PATH may lack (debootstrap, chroot).
_SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")


def _host_path() -> str:
    """The PATH for host tools: the caller's, then the sbin folders it does not have."""
    parts = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    return os.pathsep.join(parts + [d for d in _SBIN if d not in parts])


def _which(tool: str) -> str | None:
    return shutil.which(tool, path=_host_path())


def _host_env() -> dict[str, str]:
    return {**os.environ, "PATH": _host_path()}


def _log(message: str) -> None:
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


def cache_dir() -> Path:
    """Where roots live: $MATHCORE_ROOTS, else ~/.cache/mathcore-roots.

    Outside every repository on purpose: a root is hundreds of MB of another
    system, never something to commit, and it is shared by all checkouts.
    """
    configured = os.environ.get("MATHCORE_ROOTS")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "mathcore-roots"


@dataclass(frozen=True)
class Root:
    """A Debian root: which suite, which architecture, which extra packages.

    The packages are part of the name (a short hash of the sorted set), so a
    root with other packages is another root, never a silent reuse.
    """

    suite: str
    arch: str = field(default_factory=host_arch)
    packages: tuple[str, ...] = ()
    cache: Path | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9-]*", self.suite):
            msg = f"not a Debian suite name: {self.suite!r}"
            raise ValueError(msg)
        if not re.fullmatch(r"[a-z0-9]+", self.arch):
            msg = f"not a Debian architecture: {self.arch!r}"
            raise ValueError(msg)
        for package in self.packages:
            if not re.fullmatch(r"[a-z0-9][a-z0-9+.-]*(:[a-z0-9]+)?", package):
                msg = f"not a Debian package name: {package!r}"
                raise ValueError(msg)
        # Normalized, so that ("b", "a") and ("a", "b", "a") are the same root.
        object.__setattr__(self, "packages", tuple(sorted(set(self.packages))))

    @property
    def key(self) -> str:
        """<suite>-<arch>-<hash>: the folder name, stable across sessions."""
        digest = hashlib.sha256(f"{VARIANT}:{','.join(self.packages)}".encode()).hexdigest()[:10]
        return f"{self.suite}-{self.arch}-{digest}"

    @property
    def path(self) -> Path:
        """The root's folder (it exists only once ensure() has finished)."""
        return (self.cache or cache_dir()) / self.key

    @property
    def foreign(self) -> bool:
        """Whether the host CPU cannot run this architecture's programs by itself."""
        host = host_arch()
        return self.arch != host and self.arch not in _NATIVE_TOO.get(host, set())

    def exists(self) -> bool:
        """Whether the root was made completely (the stamp is written before the final rename)."""
        return (self.path / _STAMP).is_file()


class Bind(NamedTuple):
    """A host folder or file shown at `target` inside a root, read-only unless `writable`."""

    target: str
    writable: bool = False


# --- can roots be used here? ------------------------------------------------


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
    return os.geteuid() == 0 and _which("update-binfmts") is not None and any(p.exists() for p in known)


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
        if _which(tool) is None:
            return f"no {tool} on PATH (Debian: apt-get install {package})"
    if arch not in _QEMU_ARCH and arch != host_arch():
        return f"unknown Debian architecture {arch!r}"
    if not Root("sid", arch).foreign:
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


def _enable_binfmt(arch: str) -> None:
    """Mount binfmt_misc and register qemu when they are missing and we may (root)."""
    if not Root("sid", arch).foreign:
        return
    if not (BINFMT / "status").exists():
        _log(f"binfmt_misc is not mounted: mounting it on {BINFMT}")
        subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)], check=True, env=_host_env())
    if _binfmt_entry(arch) is None and _which("update-binfmts"):
        _log("no qemu registration in binfmt_misc: running update-binfmts --enable")
        subprocess.run(["update-binfmts", "--enable"], check=False, env=_host_env())
    reason = unavailable(arch)
    if reason:
        raise RuntimeError(reason)


# --- making a root -------------------------------------------------------------


def default_mirror() -> str:
    """The Debian mirror that apt on this host uses (not its security or updates archive).

    Read from /etc/apt/sources.list.d/debian.sources (deb822 "URIs:") or
    /etc/apt/sources.list, so a host behind a local mirror or proxy keeps it;
    http://deb.debian.org/debian when neither says.
    """
    candidates: list[str] = []
    deb822 = Path("/etc/apt/sources.list.d/debian.sources")
    with contextlib.suppress(OSError):
        for stanza in re.split(r"\n\s*\n", deb822.read_text()):
            fields = {
                m.group(1).lower(): m.group(2).strip()
                for m in re.finditer(r"^([A-Za-z-]+):[ \t]*(.*)$", stanza, re.MULTILINE)
            }
            if "deb" in fields.get("types", "").split() and fields.get("enabled", "yes") != "no":
                suites = fields.get("suites", "").split()
                if any(not s.endswith(("-security", "-updates", "-backports")) for s in suites):
                    candidates += fields.get("uris", "").split()
    with contextlib.suppress(OSError):
        for line in Path("/etc/apt/sources.list").read_text().splitlines():
            words = re.sub(r"\[[^]]*\]", " ", line.split("#", 1)[0]).split()
            if len(words) >= 3 and words[0] == "deb" and not words[2].endswith(("-security", "-updates", "-backports")):
                candidates.append(words[1])
    for uri in candidates:
        if uri.startswith(("http://", "https://", "file:/")) and "security" not in uri:
            return uri.rstrip("/")
    return FALLBACK_MIRROR


def _pip_cert(pip_conf: Path) -> Path | None:
    """The certificate bundle that a pip.conf names (`cert = ...`), if any."""
    try:
        text = pip_conf.read_text()
    except OSError:
        return None
    match = re.search(r"^\s*cert\s*[=:]\s*(\S.*?)\s*$", text, re.MULTILINE)
    return Path(match.group(1)) if match else None


def _inside(root: Path, path: str | Path) -> Path:
    """`path` (absolute, as seen in the root) as a host path, refusing any escape.

    The host kernel follows symlinks in the root as host paths: an absolute
    link /etc/resolv.conf -> /run/... in the root would make a write (or a
    bind mount) land on the host. The parent folder is resolved and must stay
    under the root; the last component is checked by the caller.
    """
    relative = Path(str(path).lstrip("/"))
    if ".." in relative.parts:
        msg = f"{path}: '..' is not allowed in a path inside a root"
        raise ValueError(msg)
    host = root / relative
    parent = host.parent.resolve()
    if parent != root.resolve() and root.resolve() not in parent.parents:
        msg = f"{path} leads out of the root {root} (through a symlink)"
        raise ValueError(msg)
    return parent / host.name


def _copy_in(root: Path, source: Path, target: str | Path | None = None) -> None:
    """Copy a host file into the root at the same (or `target`) path, replacing a symlink there."""
    if not source.is_file():
        return
    inner = target or source
    relative = Path(str(inner).lstrip("/"))
    # Create the parent folders one at a time, each checked, so no link leads out.
    for depth in range(1, len(relative.parts)):
        _inside(root, Path(*relative.parts[:depth])).mkdir(exist_ok=True)
    dest = _inside(root, inner)
    data = source.read_bytes()
    if not dest.is_symlink() and dest.is_file() and dest.read_bytes() == data:
        return
    # Written beside it, then renamed over it: a command running in the root
    # never sees the file missing, and a symlink there is replaced, not followed.
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    tmp.chmod(0o644)
    tmp.replace(dest)


def _configure_network(root: Path) -> None:
    """Give the root the host's DNS and pip settings, so pip works there as on the host.

    pip.conf's `cert` is usually a bundle with a site's proxy certificate; a
    minbase root has no ca-certificates at all, so the file is copied too.
    """
    _copy_in(root, Path("/etc/resolv.conf"))
    pip_conf = Path("/etc/pip.conf")
    if pip_conf.is_file():
        _copy_in(root, pip_conf)
        cert = _pip_cert(pip_conf)
        if cert is not None and cert.is_absolute():
            _copy_in(root, cert)


def _mounts_under(path: Path) -> list[str]:
    """Mount points at or below `path`, deepest first (from /proc/self/mounts)."""
    prefix = str(path.resolve())
    points = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mounts").read_text().splitlines():
            point = line.split()[1].encode().decode("unicode_escape")
            if point == prefix or point.startswith(prefix + "/"):
                points.append(point)
    return sorted(points, key=len, reverse=True)


def _unmount_all(path: Path) -> None:
    """Unmount everything under `path` (lazily if busy); raise if something stays mounted."""
    for point in _mounts_under(path):
        if subprocess.run(["umount", point], check=False, capture_output=True, env=_host_env()).returncode != 0:
            subprocess.run(["umount", "--lazy", point], check=False, capture_output=True, env=_host_env())
    left = _mounts_under(path)
    if left:
        msg = f"still mounted under {path}: {', '.join(left)}"
        raise RuntimeError(msg)


def _remove_tree(path: Path) -> None:
    """Delete a (half-made) root, never through a mount: a bind there would delete host files."""
    if not path.exists():
        return
    _unmount_all(path)
    shutil.rmtree(path)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path`: two sessions making one root wait for each other."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure(root: Root, *, mirror: str | None = None, timeout: float = 3600) -> Path:
    """The root's path, made with debootstrap first if it is not cached.

    debootstrap writes into a temporary folder beside the final one; the root
    gets its stamp and then one rename puts it in place, so an interrupted run
    leaves only a temporary folder (deleted by the next run), never a half
    root that looks complete. The network settings (resolv.conf, pip.conf and
    its certificate) are refreshed on every call, since the host's may change.
    """
    reason = unavailable(root.arch)
    if reason:
        raise RuntimeError(reason)
    _enable_binfmt(root.arch)
    path = root.path
    if not root.exists():
        with _locked(path.parent / f".{root.key}.lock"):
            if not root.exists():  # another session may have made it while we waited
                _make(root, mirror or default_mirror(), timeout)
    _configure_network(path)
    return path


def _make(root: Root, mirror: str, timeout: float) -> None:
    path = root.path
    for stale in path.parent.glob(f".{root.key}.tmp-*"):
        _log(f"removing {stale}, left by an interrupted run")
        _remove_tree(stale)
    if path.exists():  # a folder without a stamp: not ours to trust
        _log(f"removing {path}: it has no stamp, so it is not a complete root")
        _remove_tree(path)
    tmp = path.parent / f".{root.key}.tmp-{os.getpid()}"
    command = ["debootstrap", f"--variant={VARIANT}", f"--arch={root.arch}"]
    if root.packages:
        command.append(f"--include={','.join(root.packages)}")
    command += [root.suite, str(tmp), mirror]
    _log(f"making {path}: {shlex.join(command)}")
    started = time.monotonic()
    try:
        _run_killable(command, timeout=timeout, env=_host_env())
        seconds = round(time.monotonic() - started, 1)
        _unmount_all(tmp)  # debootstrap mounts /proc and /sys while it runs
        stamp = {
            "suite": root.suite,
            "arch": root.arch,
            "packages": list(root.packages),
            "variant": VARIANT,
            "mirror": mirror,
            "debootstrap_seconds": seconds,
            "made": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        _inside(tmp, _STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
        tmp.rename(path)
        _log(f"made {path} in {seconds} s")
    except BaseException:
        _remove_tree(tmp)
        raise


def remove(root: Root) -> None:
    """Delete a cached root (refusing while anything is mounted in it)."""
    with _locked(root.path.parent / f".{root.key}.lock"):
        _remove_tree(root.path)


# --- running in a root ---------------------------------------------------------


def _run_killable(
    command: Sequence[str], *, timeout: float | None, env: Mapping[str, str] | None, capture: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run `command` in its own process group; on timeout or Ctrl-C kill the whole group.

    A command under qemu-user that deadlocks must not hang the session, and
    its children (pip's build, pytest's workers) must not outlive it.
    """
    process = subprocess.Popen(
        command,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.PIPE if capture else None,
        text=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except BaseException:
        _kill_group(process)
        raise
    return subprocess.CompletedProcess(list(command), process.returncode, stdout, stderr)


def _kill_group(process: subprocess.Popen[str]) -> None:
    """SIGTERM the process group, then SIGKILL it if it is still there after 5 s."""
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        else:
            break
    # Also the rest of the group, if the leader died first.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _mount_steps(path: Path, binds: Mapping[str | os.PathLike[str], str | Bind]) -> list[list[str]]:
    """The mount commands that prepare the root: /proc, /sys, a fresh /dev, then the binds."""
    steps = [
        ["mount", "-t", "proc", "proc", str(_inside(path, "/proc"))],
        ["mount", "-t", "sysfs", "-o", "ro,nosuid,nodev,noexec", "sysfs", str(_inside(path, "/sys"))],
        ["mount", "-t", "tmpfs", "-o", "mode=755,nosuid,size=64m", "dev", str(_inside(path, "/dev"))],
    ]
    for name in _DEVICES:
        steps.append(["touch", str(path / "dev" / name)])
        steps.append(["mount", "--bind", f"/dev/{name}", str(path / "dev" / name)])
    steps += [
        ["mkdir", "-p", str(path / "dev" / "shm"), str(path / "dev" / "pts")],
        # multiprocessing's locks (sem_open) live in /dev/shm.
        ["mount", "-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "shm", str(path / "dev" / "shm")],
        ["ln", "-s", "/proc/self/fd", str(path / "dev" / "fd")],
        ["ln", "-s", "/proc/self/fd/0", str(path / "dev" / "stdin")],
        ["ln", "-s", "/proc/self/fd/1", str(path / "dev" / "stdout")],
        ["ln", "-s", "/proc/self/fd/2", str(path / "dev" / "stderr")],
    ]
    for host, spec in binds.items():
        bind = spec if isinstance(spec, Bind) else Bind(spec)
        source = Path(host).resolve()
        if not source.exists():
            msg = f"cannot bind {host}: it does not exist"
            raise FileNotFoundError(msg)
        target = _inside(path, bind.target)
        if target.is_symlink():
            msg = f"cannot bind onto {bind.target} in the root: it is a symlink"
            raise ValueError(msg)
        relative = Path(bind.target.lstrip("/"))
        for depth in range(1, len(relative.parts)):
            _inside(path, Path(*relative.parts[:depth])).mkdir(exist_ok=True)
        if source.is_dir():
            target.mkdir(exist_ok=True)
        else:
            target.touch(exist_ok=True)
        steps.append(["mount", "--bind", str(source), str(target)])
        if not bind.writable:
            steps.append(["mount", "-o", "remount,bind,ro", str(target)])
    return steps


def _env(env: Mapping[str, str | None] | None) -> dict[str, str]:
    merged: dict[str, str | None] = dict(_BASE_ENV)
    merged.update({k: os.environ[k] for k in _PASS_ENV if k in os.environ})
    merged.update(env or {})
    return {k: v for k, v in merged.items() if v is not None}


def _namespaces_work() -> bool:
    """Whether unshare(1) can give a private mount namespace here (a container may refuse)."""
    if _which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "--fork", "--kill-child", "true"],
        capture_output=True,
        check=False,
        env=_host_env(),
    )
    return probe.returncode == 0


def run(
    root: Root,
    command: Sequence[str],
    *,
    binds: Mapping[str | os.PathLike[str], str | Bind] | None = None,
    env: Mapping[str, str | None] | None = None,
    cwd: str | None = None,
    timeout: float | None = 3600,
    check: bool = True,
    capture: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run `command` in the root with chroot, with /proc, /sys, /dev and `binds` mounted.

    `binds` maps a host path to a path in the root: a str is read-only,
    Bind(target, writable=True) is read-write. `env` is added to a clean
    environment (PATH, HOME=/root, LANG=C.UTF-8, proxies); a None value
    removes a variable. `cwd` is a path inside the root.

    The mounts are made in a private mount namespace (unshare) when the host
    allows it: they vanish with the command, even if this process is killed,
    so no stale bind can outlive a run. Else they are made on the host and
    unmounted in a finally. Either way, on timeout the whole process group is
    killed and subprocess.TimeoutExpired raised.
    """
    path = root.path
    if not root.exists():
        msg = f"{path} is not a complete root: call ensure() first"
        raise FileNotFoundError(msg)
    _enable_binfmt(root.arch)
    steps = _mount_steps(path, binds or {})
    inner = ["chroot", str(path), "/usr/bin/env"]
    if cwd is not None:
        inner.append(f"--chdir={cwd}")
    inner += list(command)
    environment = _env(env)
    if _namespaces_work():
        script = "set -e\n" + "\n".join(shlex.join(step) for step in steps) + f"\nexec {shlex.join(inner)}\n"
        wrapped = ["unshare", "--mount", "--propagation", "private", "--fork", "--kill-child", "sh", "-c", script]
        result = _run_killable(wrapped, timeout=timeout, env=environment, capture=capture)
    else:
        try:
            for step in steps:
                subprocess.run(step, check=True, capture_output=True, env=_host_env())
            result = _run_killable(inner, timeout=timeout, env=environment, capture=capture)
        finally:
            _unmount_all(path)
    if check and result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, list(command), result.stdout, result.stderr)
    return result


# --- command line ----------------------------------------------------------------


def _packages(text: str) -> tuple[str, ...]:
    return tuple(p for p in text.replace(" ", ",").split(",") if p)


def main(argv: Sequence[str] | None = None) -> int:
    """`make SUITE ARCH PKGS`, `why ARCH`, `run SUITE ARCH PKGS [--bind H:T[:rw]] [--cwd D] [--timeout S] -- CMD`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    make = verbs.add_parser("make", help="make the root if it is not cached; print its path")
    why = verbs.add_parser("why", help="print why roots of ARCH cannot be used here, or ok")
    why.add_argument("arch", nargs="?", default=None)
    runner = verbs.add_parser("run", help="run a command in a root (made when needed)")
    for sub in (make, runner):
        sub.add_argument("suite")
        sub.add_argument("arch")
        sub.add_argument("packages", nargs="?", default="", help="comma-separated Debian packages")
    runner.add_argument("--bind", action="append", default=[], help="HOST:TARGET or HOST:TARGET:rw")
    runner.add_argument("--cwd")
    runner.add_argument("--timeout", type=float, default=3600)
    # Everything after the first "--" is the command, whatever options it has.
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    command = argv[split + 1 :]
    if args.verb == "why":
        print(unavailable(args.arch) or "ok")
        return 0
    root = Root(args.suite, args.arch, _packages(args.packages))
    path = ensure(root)
    if args.verb == "make":
        print(path)
        return 0
    binds: dict[str | os.PathLike[str], str | Bind] = {}
    for spec in args.bind:
        host, _, rest = spec.partition(":")
        target, _, mode = rest.partition(":")
        binds[host] = Bind(target or host, writable=mode == "rw")
    return run(root, command or ["/bin/sh"], binds=binds, cwd=args.cwd, timeout=args.timeout, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
