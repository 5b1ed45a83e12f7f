"""Make and cache Debian roots: one folder per suite, architecture and package set, made whole or not at all."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shlex
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tools.make.roots.guards import copy_in, inside, remove_tree, run_killable, unmount_all
from tools.make.roots.host import enable_binfmt, host_arch, host_env, is_foreign, log, unavailable

FALLBACK_MIRROR = "http://deb.debian.org/debian"
# debootstrap's variant: minbase is dpkg, apt and the essential packages, no
# init system, the smallest root that apt can still extend.
VARIANT = "minbase"
STAMP = "etc/mathcore-root.json"


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
        return is_foreign(self.arch)

    def exists(self) -> bool:
        """Whether the root was made completely (the stamp is written before the final rename)."""
        return (self.path / STAMP).is_file()


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


def _configure_network(root: Path) -> None:
    """Give the root the host's DNS and pip settings, so pip works there as on the host.

    pip.conf's `cert` is usually a bundle with a site's proxy certificate; a
    minbase root has no ca-certificates at all, so the file is copied too.
    """
    copy_in(root, Path("/etc/resolv.conf"))
    pip_conf = Path("/etc/pip.conf")
    if pip_conf.is_file():
        copy_in(root, pip_conf)
        cert = _pip_cert(pip_conf)
        if cert is not None and cert.is_absolute():
            copy_in(root, cert)


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
    enable_binfmt(root.arch)
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
        log(f"removing {stale}, left by an interrupted run")
        remove_tree(stale)
    if path.exists():  # a folder without a stamp: not ours to trust
        log(f"removing {path}: it has no stamp, so it is not a complete root")
        remove_tree(path)
    tmp = path.parent / f".{root.key}.tmp-{os.getpid()}"
    command = ["debootstrap", f"--variant={VARIANT}", f"--arch={root.arch}"]
    if root.packages:
        command.append(f"--include={','.join(root.packages)}")
    command += [root.suite, str(tmp), mirror]
    log(f"making {path}: {shlex.join(command)}")
    started = time.monotonic()
    try:
        run_killable(command, timeout=timeout, env=host_env())
        seconds = round(time.monotonic() - started, 1)
        unmount_all(tmp)  # debootstrap mounts /proc and /sys while it runs
        stamp = {
            "suite": root.suite,
            "arch": root.arch,
            "packages": list(root.packages),
            "variant": VARIANT,
            "mirror": mirror,
            "debootstrap_seconds": seconds,
            "made": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        inside(tmp, STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
        tmp.rename(path)
        log(f"made {path} in {seconds} s")
    except BaseException:
        remove_tree(tmp)
        raise


def remove(root: Root) -> None:
    """Delete a cached root (refusing while anything is mounted in it)."""
    with _locked(root.path.parent / f".{root.key}.lock"):
        remove_tree(root.path)
