"""Run a command in a root: chroot with /proc, /sys, a fresh /dev and the binds asked for, in a private mount namespace where the host allows it."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from tools.make.roots.cache import Root
from tools.make.roots.guards import inside, run_killable, unmount_all
from tools.make.roots.host import enable_binfmt, host_env, which

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


class Bind(NamedTuple):
    """A host folder or file shown at `target` inside a root, read-only unless `writable`."""

    target: str
    writable: bool = False


def _mount_steps(path: Path, binds: Mapping[str | os.PathLike[str], str | Bind]) -> list[list[str]]:
    """The mount commands that prepare the root: /proc, /sys, a fresh /dev, then the binds."""
    steps = [
        ["mount", "-t", "proc", "proc", str(inside(path, "/proc"))],
        ["mount", "-t", "sysfs", "-o", "ro,nosuid,nodev,noexec", "sysfs", str(inside(path, "/sys"))],
        ["mount", "-t", "tmpfs", "-o", "mode=755,nosuid,size=64m", "dev", str(inside(path, "/dev"))],
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
        target = inside(path, bind.target)
        if target.is_symlink():
            msg = f"cannot bind onto {bind.target} in the root: it is a symlink"
            raise ValueError(msg)
        relative = Path(bind.target.lstrip("/"))
        for depth in range(1, len(relative.parts)):
            inside(path, Path(*relative.parts[:depth])).mkdir(exist_ok=True)
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
    if which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "--fork", "--kill-child", "true"],
        capture_output=True,
        check=False,
        env=host_env(),
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
    enable_binfmt(root.arch)
    steps = _mount_steps(path, binds or {})
    inner = ["chroot", str(path), "/usr/bin/env"]
    if cwd is not None:
        inner.append(f"--chdir={cwd}")
    inner += list(command)
    environment = _env(env)
    if _namespaces_work():
        script = "set -e\n" + "\n".join(shlex.join(step) for step in steps) + f"\nexec {shlex.join(inner)}\n"
        wrapped = ["unshare", "--mount", "--propagation", "private", "--fork", "--kill-child", "sh", "-c", script]
        result = run_killable(wrapped, timeout=timeout, env=environment, capture=capture)
    else:
        try:
            for step in steps:
                subprocess.run(step, check=True, capture_output=True, env=host_env())
            result = run_killable(inner, timeout=timeout, env=environment, capture=capture)
        finally:
            unmount_all(path)
    if check and result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, list(command), result.stdout, result.stderr)
    return result
