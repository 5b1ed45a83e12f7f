"""What keeps a root from touching the host: paths that cannot lead out, no delete through a mount, no stray process.

A path inside a root is resolved under it (an absolute symlink there would
otherwise land a write on the host); a root is deleted only once nothing is
mounted in it (a bind left by a killed test would delete the host folder);
a command runs in its own process group, killed whole on timeout or Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from tools.make.roots.host import host_env


def inside(root: Path, path: str | Path) -> Path:
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


def copy_in(root: Path, source: Path, target: str | Path | None = None) -> None:
    """Copy a host file into the root at the same (or `target`) path, replacing a symlink there."""
    if not source.is_file():
        return
    inner = target or source
    relative = Path(str(inner).lstrip("/"))
    # Create the parent folders one at a time, each checked, so no link leads out.
    for depth in range(1, len(relative.parts)):
        inside(root, Path(*relative.parts[:depth])).mkdir(exist_ok=True)
    dest = inside(root, inner)
    data = source.read_bytes()
    if not dest.is_symlink() and dest.is_file() and dest.read_bytes() == data:
        return
    # Written beside it, then renamed over it: a command running in the root
    # never sees the file missing, and a symlink there is replaced, not followed.
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    tmp.chmod(0o644)
    tmp.replace(dest)


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below `path`, deepest first (from /proc/self/mounts)."""
    prefix = str(path.resolve())
    points = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mounts").read_text().splitlines():
            point = line.split()[1].encode().decode("unicode_escape")
            if point == prefix or point.startswith(prefix + "/"):
                points.append(point)
    return sorted(points, key=len, reverse=True)


def unmount_all(path: Path) -> None:
    """Unmount everything under `path` (lazily if busy); raise if something stays mounted."""
    for point in mounts_under(path):
        if subprocess.run(["umount", point], check=False, capture_output=True, env=host_env()).returncode != 0:
            subprocess.run(["umount", "--lazy", point], check=False, capture_output=True, env=host_env())
    left = mounts_under(path)
    if left:
        msg = f"still mounted under {path}: {', '.join(left)}"
        raise RuntimeError(msg)


def remove_tree(path: Path) -> None:
    """Delete a (half-made) root, never through a mount: a bind there would delete host files."""
    if not path.exists():
        return
    unmount_all(path)
    shutil.rmtree(path)


def run_killable(
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
        kill_group(process)
        raise
    return subprocess.CompletedProcess(list(command), process.returncode, stdout, stderr)


def kill_group(process: subprocess.Popen[str]) -> None:
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
