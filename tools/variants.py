"""The builds of the core that this repository makes: points on the axes backend x compiler, described once.

A variant is a template (the backend), the compiler that builds it, the
arguments for `python -m build` and the environment that select it, and
where its sdist and wheel go. `build`, `build_clang`, `test` and `bench`
iterate over these instead of each knowing the list; a new axis (ABI,
kernel dispatch) is a new field and more entries here.

Import names stay `mathcore_<label>`, which is what tests/conftest.py
discovers: `mathcore_meson` (the compiler the backend finds by itself, gcc
here), `mathcore_meson_clang` (clang with LLVM's OpenMP, libomp).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tools.render import BACKENDS, PLACEHOLDER

# How to build each backend without OpenMP, or insist on it: build-frontend
# arguments for meson-python and scikit-build-core, an environment variable
# for setuptools (named after the package: {NAME} is filled in).
OPENMP_SWITCH = {
    "setuptools": {"off": ([], {"{NAME}_OPENMP": "off"}), "on": ([], {"{NAME}_OPENMP": "on"})},
    "meson": {"off": (["-Csetup-args=-Dopenmp=disabled"], {}), "on": (["-Csetup-args=-Dopenmp=enabled"], {})},
    "cmake": {"off": (["-Ccmake.define.OPENMP=OFF"], {}), "on": (["-Ccmake.define.OPENMP=ON"], {})},
}


def openmp_switch(backend: str, name: str, state: str) -> tuple[list[str], dict[str, str]]:
    """Arguments for `python -m build` and environment that set OpenMP `state` (on/off)."""
    args, env = OPENMP_SWITCH[backend][state]
    return list(args), {key.format(NAME=name.upper()): value for key, value in env.items()}


# "default": the C compiler each backend finds by itself (setuptools:
# Python's own CC from sysconfig; meson and CMake: cc, which is gcc on
# Debian; Apple clang on macOS, MSVC on Windows).
DEFAULT = "default"


@dataclass(frozen=True)
class Variant:
    backend: str  # the template: setuptools, meson or cmake
    compiler: str = DEFAULT  # "default" or a compiler's name ("clang")
    args: tuple[str, ...] = ()  # for `python -m build`, before the session's own
    env: dict[str, str] = field(default_factory=dict, hash=False)
    # The template's OpenMP switch: "auto" builds a serial prange where the
    # compiler has no OpenMP; "on" makes that a build error instead.
    openmp: str = "auto"

    @property
    def label(self) -> str:
        """meson, meson_clang: the import name without the package's, and the test ids' prefix."""
        return self.backend if self.compiler == DEFAULT else f"{self.backend}_{self.compiler}"

    @property
    def name(self) -> str:
        """The import and distribution name: mathcore_meson_clang."""
        return f"{PLACEHOLDER}_{self.label}"

    @property
    def folder(self) -> str:
        """The folder under build/ and dist/: meson, meson-clang."""
        return self.label.replace("_", "-")

    def settings(self) -> tuple[list[str], dict[str, str]]:
        """The arguments for `python -m build` and the environment that make this variant."""
        args, env = openmp_switch(self.backend, self.name, self.openmp) if self.openmp != "auto" else ([], {})
        return [*args, *self.args], {**self.env, **env}

    def wheels(self, root: Path) -> list[Path]:
        """The wheels that a build of this variant left under root/dist/<folder>/."""
        return sorted((root / "dist" / self.folder).glob(f"{self.name}-*.whl"))


# All three backends pick clang up from CC: setuptools uses it for compiling
# and, in place of Python's compiler, for linking; meson and CMake read it
# when they first configure. Debian's clang -fopenmp links LLVM's
# libomp.so.5 (package libomp-dev), not gcc's libgomp. OpenMP is required:
# without libomp-dev, clang has no omp.h, and "auto" would quietly build a
# clang variant with a serial prange, which the comparison would then take
# for clang's speed.
CLANG_ENV = {"CC": "clang"}

VARIANTS: tuple[Variant, ...] = (
    *(Variant(backend) for backend in BACKENDS),
    *(Variant(backend, "clang", env=CLANG_ENV, openmp="on") for backend in BACKENDS),
)


def of_compiler(compiler: str) -> list[Variant]:
    """The variants built by `compiler` ("default" or "clang"), in backend order."""
    return [v for v in VARIANTS if v.compiler == compiler]


def by_label(label: str) -> Variant:
    """The variant whose label is `label` (meson, meson_clang)."""
    for v in VARIANTS:
        if v.label == label:
            return v
    msg = f"no variant labelled {label!r}: choose one of {', '.join(v.label for v in VARIANTS)}"
    raise KeyError(msg)
