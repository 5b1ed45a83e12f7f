"""Where a wheel is built and where it runs, besides this machine: Debian roots, described once.

A target is a Debian root that tools/make/roots.py makes and caches: its
suite, its architecture and the packages it holds, and the Pythons in it.
The sessions that build or test there take it from here; nothing else names
a suite or a package list.
"""

from __future__ import annotations

from dataclasses import dataclass

# What pip and the builds need in a root that builds: a C compiler, the
# Python headers, git (meson-python's sdist is `meson dist`, which needs it).
_BUILDS = ("gcc", "libc6-dev", "git")


@dataclass(frozen=True)
class Target:
    name: str
    suite: str  # Debian suite of its root
    arch: str  # Debian architecture: amd64, arm64
    packages: tuple[str, ...]
    pythons: tuple[str, ...]  # interpreters in the root, by command name
    # The CPython minor of its first Python: the wheels built elsewhere for
    # it must be tagged for it (cp311), so they are built by the same minor.
    python_version: str
    why: str  # what it shows that this machine cannot


TARGETS = {
    t.name: t
    for t in (
        Target(
            "aarch64",
            "bookworm",
            "arm64",
            ("python3", "python3-venv", "python3-dev", *_BUILDS),
            ("python3",),
            "3.11",
            "64-bit Arm Linux (Graviton, Ampere, a Raspberry Pi), under qemu-user: CPython 3.11",
        ),
        Target(
            "newest",
            "sid",
            "amd64",
            (
                "python3.14",
                "python3.14-venv",
                "python3.14-dev",
                "python3.15",
                "python3.15-venv",
                "python3.15-dev",
                *_BUILDS,
            ),
            ("python3.14", "python3.15"),
            "3.14",
            "the newest CPythons (Debian unstable: 3.14 and 3.15) and the newest gcc",
        ),
        Target(
            "bare",
            "bookworm",
            "amd64",
            ("python3", "python3-venv"),
            ("python3",),
            "3.11",
            "a machine with Python and nothing else: no compiler, no libgomp1, no libomp5",
        ),
    )
}
