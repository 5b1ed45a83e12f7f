"""Every build of the core: a point on the axes backend x compiler x ABI x OpenMP x flags x utility code, described once.

A variant is a template (tools/registry/backends.py), the compiler that builds
it, its ABI and OpenMP setting, the arguments for the build frontend and the
environment that select them, and where its sdist and wheel go. The build,
test and bench sessions iterate over VARIANTS instead of each knowing the
list; a new axis is a new field here.

Import names stay `mathcore_<label>`, which is what tests/conftest.py
discovers: `mathcore_meson` (the compiler the backend finds by itself, gcc
here), `mathcore_meson_clang` (clang with LLVM's OpenMP, libomp),
`mathcore_meson_abi3` (one Limited-API wheel for CPython 3.12 and later),
`mathcore_meson_no_openmp` (OpenMP switched off), `mathcore_meson_aarch64`
(cross-compiled for aarch64 Linux; `_emulated`: built there under qemu),
`mathcore_meson_shared` (Cython's utility code in one module of its own,
mathcore_meson_shared._cyutility), `mathcore_meson_flags_equal` (the build
flags common to all three backends, EQUAL_FLAGS; `_flags_equal_g`: those with -g).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tools.registry.backends import ABI3_FLOOR, EQUAL_FLAGS, NAMES, PLACEHOLDER, Backend, backend

__all__ = ["ABI3", "ABI3_FLOOR", "DEFAULT", "VARIANTS", "VERSION_SPECIFIC", "Variant", "by_label", "select"]

# "default": the C compiler each backend finds by itself (setuptools:
# Python's own CC from sysconfig; meson and CMake: cc, which is gcc on
# Debian; Apple clang on macOS, MSVC on Windows).
DEFAULT = "default"
# The ABI axis: "cp", a wheel for the one CPython version that built it
# (cp312-cp312); "abi3", one Limited-API wheel (cp312-abi3).
VERSION_SPECIFIC, ABI3 = "cp", "abi3"

# All three backends pick clang up from CC: setuptools uses it for compiling
# and, in place of Python's compiler, for linking; meson and CMake read it
# when they first configure. Debian's clang -fopenmp links LLVM's
# libomp.so.5 (package libomp-dev), not gcc's libgomp.
COMPILER_ENV = {DEFAULT: {}, "clang": {"CC": "clang"}}


@dataclass(frozen=True)
class Variant:
    backend: str  # the template: setuptools, meson or cmake
    compiler: str = DEFAULT  # a key of COMPILER_ENV
    abi: str = VERSION_SPECIFIC
    # The template's OpenMP switch: "auto" builds a serial prange where the
    # compiler has no OpenMP; "on" makes that a build error; "off" never uses it.
    openmp: str = "auto"
    jobs: int | None = None  # None: a compile job per core; 1: one at a time
    # "default": each backend's own -O, -g and visibility; a key of the
    # registry's EQUAL_FLAGS: the same ones for all three.
    flags: str = "default"
    # Cython's utility code: "module", compiled into every module (Cython's
    # default); "shared", once, into <package>._cyutility.
    utility: str = "module"
    # Where it runs (a target of tools/registry/targets.py; "host": this
    # machine) and how it is built there: "native", "cross" (on this machine,
    # by the cross compiler and the recipe beside the template) or "emulated"
    # (inside the target's root, under qemu-user).
    target: str = "host"
    way: str = "native"
    # Where its folder goes, relative to the checkout: "dist" holds what
    # `nox -s test` installs together; a variant tested apart goes elsewhere.
    dist_root: str = "dist"
    args: tuple[str, ...] = ()  # for the build frontend, before the session's own
    env: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def spec(self) -> Backend:
        return backend(self.backend)

    @property
    def label(self) -> str:
        """meson, meson_clang, meson_abi3, meson_no_openmp: the import name without the package's."""
        parts = [
            self.backend,
            *([self.compiler] if self.compiler != DEFAULT else []),
            *([self.abi] if self.abi != VERSION_SPECIFIC else []),
            *(["no_openmp"] if self.openmp == "off" else []),
            *(["shared"] if self.utility == "shared" else []),
            *([f"j{self.jobs}"] if self.jobs is not None else []),
            *([f"flags_{self.flags}"] if self.flags != "default" else []),
            *([self.target] if self.target != "host" else []),
            *(["emulated"] if self.way == "emulated" else []),
        ]
        return "_".join(parts)

    @property
    def name(self) -> str:
        """The import and distribution name: mathcore_meson_clang."""
        return f"{PLACEHOLDER}_{self.label}"

    @property
    def folder(self) -> str:
        """Its folder under build/ and under its dist root: meson, meson-clang."""
        return self.label.replace("_", "-")

    def settings(self, name: str | None = None) -> tuple[list[str], dict[str, str]]:
        """The arguments for the build frontend and the environment that make this variant.

        name: the package they build, where it is not the variant's own (a switch may name it: {NAME}_SHARED_UTILITY).
        """
        switches = []
        if self.openmp != "auto":
            switches.append(self.spec.openmp[self.openmp])
        if self.abi == ABI3:
            switches.append(self.spec.limited_api)
        if self.jobs == 1:
            switches.append(self.spec.one_job)
        if self.utility == "shared":
            switches.append(self.spec.shared_utility)
        if self.flags != "default":
            switches.append(self.spec.flags[self.flags])
        args, env = [], {**COMPILER_ENV[self.compiler], **self.env}
        for switch in switches:
            more_args, more_env = switch.named(name or self.name)
            args, env = [*args, *more_args], {**env, **more_env}
        return [*args, *self.args], env

    def switches(self) -> str:
        """The settings as one would type them: KEY=VALUE ... then the arguments."""
        args, env = self.settings()
        return " ".join([*(f"{key}={value}" for key, value in env.items()), *args])

    def dist(self, root: Path) -> Path:
        """The folder its sdist and wheel go to."""
        return root / self.dist_root / self.folder

    def wheels(self, root: Path) -> list[Path]:
        """The wheels that a build of this variant left in its dist folder."""
        return sorted(self.dist(root).glob(f"{self.name}-*.whl"))


VARIANTS: tuple[Variant, ...] = (
    *(Variant(b) for b in NAMES),
    # OpenMP required: without libomp-dev, clang has no omp.h, and "auto"
    # would quietly build a clang variant with a serial prange, which the
    # comparison would then take for clang's speed.
    *(Variant(b, "clang", openmp="on") for b in NAMES),
    *(Variant(b, abi=ABI3) for b in NAMES),
    *(Variant(b, openmp="off", dist_root="build/no-openmp/dist") for b in NAMES),
    # aarch64 Linux, two ways: cross-compiled here, built in an arm64 root under qemu.
    *(
        Variant(b, target="aarch64", way=way, dist_root="build/aarch64/dist")
        for way in ("cross", "emulated")
        for b in NAMES
    ),
    *(Variant(b, utility="shared", dist_root="build/shared/dist") for b in NAMES),
    # Tested apart: compare times them, and bench finds them when installed.
    *(Variant(b, flags=f, dist_root="build/flags/dist") for f in EQUAL_FLAGS for b in NAMES),
)


def select(**fields: object) -> list[Variant]:
    """The variants of VARIANTS whose fields have these values, in backend order: select(compiler="clang")."""
    unknown = set(fields) - set(Variant.__dataclass_fields__)
    if unknown:
        msg = f"Variant has no field {sorted(unknown)}"
        raise TypeError(msg)
    return [v for v in VARIANTS if all(getattr(v, key) == value for key, value in fields.items())]


def default_builds(**fields: object) -> list[Variant]:
    """select() among the builds that `nox -s build` makes and `test` installs together: version-specific, OpenMP auto."""
    defaults = {
        "abi": VERSION_SPECIFIC,
        "openmp": "auto",
        "compiler": DEFAULT,
        "target": "host",
        "flags": "default",
        "utility": "module",
    }
    return select(**{**defaults, **fields})


def by_label(label: str) -> Variant:
    """The variant whose label is `label` (meson, meson_clang)."""
    for v in VARIANTS:
        if v.label == label:
            return v
    msg = f"no variant labelled {label!r}: choose one of {', '.join(v.label for v in VARIANTS)}"
    raise KeyError(msg)
