"""The builds of the core that this repository makes: points on the axes backend x compiler x ABI, described once.

A variant is a template (the backend), the compiler that builds it, the
arguments for `python -m build` and the environment that select it, and
where its sdist and wheel go. `build`, `build_clang`, `test` and `bench`
iterate over these instead of each knowing the list; a new axis (ABI,
kernel dispatch) is a new field and more entries here.

Import names stay `mathcore_<label>`, which is what tests/conftest.py
discovers: `mathcore_meson` (the compiler the backend finds by itself, gcc
here), `mathcore_meson_clang` (clang with LLVM's OpenMP, libomp),
`mathcore_meson_abi3` (one Limited-API wheel for CPython 3.12 and later).
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


def _named(switch: tuple[list[str], dict[str, str]], name: str) -> tuple[list[str], dict[str, str]]:
    """A switch's arguments, and its environment with {NAME} filled in."""
    args, env = switch
    return list(args), {key.format(NAME=name.upper()): value for key, value in env.items()}


def openmp_switch(backend: str, name: str, state: str) -> tuple[list[str], dict[str, str]]:
    """Arguments for `python -m build` and environment that set OpenMP `state` (on/off)."""
    return _named(OPENMP_SWITCH[backend][state], name)


# How each template builds one abi3 wheel (the Limited API of CPython
# ABI3_FLOOR, so the wheel installs there and on every later CPython) instead
# of one wheel for the Python that builds it. The build must run on that
# Python: meson and Cython's C refuse a Limited API newer than the
# interpreter, and a newer one would tag the wheel for itself (cp313-abi3).
ABI3_FLOOR = "3.12"
LIMITED_API_SWITCH = {
    "setuptools": ([], {"{NAME}_LIMITED_API": ABI3_FLOOR}),
    "meson": (["-Csetup-args=-Dpython.allow_limited_api=true"], {}),
    "cmake": ([f"-Cwheel.py-api=cp{ABI3_FLOOR.replace('.', '')}"], {}),
}

# The configuration that abi3 took in each template: the lines (comments
# aside) that are there for it alone or that it changed, as "file: line".
# tools/check_templates.py checks that each is in the template, so that the
# count the comparison reports is the template's.
LIMITED_API_LINES = {
    "setuptools": (
        "setup.py: import re",
        'setup.py: LIMITED_API = os.environ.get("MATHCORE_LIMITED_API", "")',
        'setup.py: if LIMITED_API and not re.fullmatch(r"3\\.\\d+", LIMITED_API):',
        'setup.py:     sys.exit(f"MATHCORE_LIMITED_API must be a version such as 3.12, not {LIMITED_API!r}")',
        "setup.py:             if LIMITED_API:",
        "setup.py:                 ext.py_limited_api = True",
        'setup.py:                 ext.define_macros.append(("Py_LIMITED_API", f"0x03{int(LIMITED_API[2:]):02X}0000"))',
        'setup.py:     options={"bdist_wheel": {"py_limited_api": f"cp3{LIMITED_API[2:]}"}} if LIMITED_API else {},',
    ),
    "meson": (
        "meson.build:   meson_version: '>= 1.3',  # limited_api needs 1.3",
        "meson.build:   default_options: ['python.allow_limited_api=false'],",
        "meson.build:     limited_api: '3.12',",
        "pyproject.toml: [tool.meson-python]",
        "pyproject.toml: limited-api = true",
    ),
    "cmake": (
        "CMakeLists.txt: cmake_minimum_required(VERSION 3.26...4.0)",
        "CMakeLists.txt: find_package(Python REQUIRED COMPONENTS Interpreter Development.Module ${SKBUILD_SABI_COMPONENT})",
        "CMakeLists.txt: if(SKBUILD_SABI_VERSION)",
        "CMakeLists.txt:   set(use_sabi USE_SABI ${SKBUILD_SABI_VERSION})",
        "CMakeLists.txt: endif()",
        'CMakeLists.txt:   python_add_library(${name} MODULE "${c_file}" WITH_SOABI ${use_sabi})',
    ),
}


def limited_api_switch(backend: str, name: str) -> tuple[list[str], dict[str, str]]:
    """Arguments for `python -m build` and environment that make `backend` build one abi3 wheel."""
    return _named(LIMITED_API_SWITCH[backend], name)


# "default": the C compiler each backend finds by itself (setuptools:
# Python's own CC from sysconfig; meson and CMake: cc, which is gcc on
# Debian; Apple clang on macOS, MSVC on Windows).
DEFAULT = "default"
# The ABI axis: "cp", a wheel for the one CPython version that built it
# (cp312-cp312); "abi3", one Limited-API wheel (cp312-abi3).
VERSION_SPECIFIC, ABI3 = "cp", "abi3"


@dataclass(frozen=True)
class Variant:
    backend: str  # the template: setuptools, meson or cmake
    compiler: str = DEFAULT  # "default" or a compiler's name ("clang")
    args: tuple[str, ...] = ()  # for `python -m build`, before the session's own
    env: dict[str, str] = field(default_factory=dict, hash=False)
    # The template's OpenMP switch: "auto" builds a serial prange where the
    # compiler has no OpenMP; "on" makes that a build error instead.
    openmp: str = "auto"
    abi: str = VERSION_SPECIFIC

    @property
    def label(self) -> str:
        """meson, meson_clang, meson_abi3: the import name without the package's, and the test ids' prefix."""
        parts = [
            self.backend,
            *([self.compiler] if self.compiler != DEFAULT else []),
            *([self.abi] if self.abi != VERSION_SPECIFIC else []),
        ]
        return "_".join(parts)

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
        if self.abi == ABI3:
            abi_args, abi_env = limited_api_switch(self.backend, self.name)
            args, env = [*args, *abi_args], {**env, **abi_env}
        return [*args, *self.args], {**self.env, **env}

    def switches(self) -> str:
        """The settings as one would type them: KEY=VALUE ... then the arguments."""
        args, env = self.settings()
        return " ".join([*(f"{key}={value}" for key, value in env.items()), *args])

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
    *(Variant(backend, abi=ABI3) for backend in BACKENDS),
)


def of_compiler(compiler: str) -> list[Variant]:
    """The version-specific variants built by `compiler` ("default" or "clang"), in backend order."""
    return [v for v in VARIANTS if v.compiler == compiler and v.abi == VERSION_SPECIFIC]


def of_abi(abi: str) -> list[Variant]:
    """The variants of one ABI ("cp" or "abi3"), in the order of VARIANTS."""
    return [v for v in VARIANTS if v.abi == abi]


def by_label(label: str) -> Variant:
    """The variant whose label is `label` (meson, meson_clang)."""
    for v in VARIANTS:
        if v.label == label:
            return v
    msg = f"no variant labelled {label!r}: choose one of {', '.join(v.label for v in VARIANTS)}"
    raise KeyError(msg)
