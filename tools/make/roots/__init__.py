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

Command line: `python -m tools.make.roots make SUITE ARCH PKG,PKG...` prints
the root's path (making it when needed); `... why ARCH` prints why roots of
ARCH cannot be made or run here, or "ok"; `... run SUITE ARCH PKGS
[--bind HOST:TARGET[:rw]] -- CMD...` runs a command in a root.

By concern: `host` (this host's architecture, tools and binfmt_misc),
`guards` (no path, mount or process that leaks onto the host), `cache`
(Root, made whole or not at all), `chroot` (running in one), `cli`.
"""

from tools.make.roots.cache import Root, cache_dir, default_mirror, ensure, remove
from tools.make.roots.chroot import Bind, run
from tools.make.roots.host import host_arch, unavailable

__all__ = ["Bind", "Root", "cache_dir", "default_mirror", "ensure", "host_arch", "remove", "run", "unavailable"]
