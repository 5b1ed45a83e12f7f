"""Build the Cython extension; all metadata lives in pyproject.toml.

setuptools has no build options of its own, so the switches are environment
variables: MATHCORE_OPENMP=auto|on|off (default auto: with a warning when the
compiler has no OpenMP),
MATHCORE_LIMITED_API=3.12 (one abi3 wheel; default: one wheel per version),
MATHCORE_SHARED_UTILITY=1 (Cython's utility code in one module of its own)
and MATHCORE_COVERAGE=1 (line tracing, for coverage.py; never for a release).
"""

import os
import re
import sys
import sysconfig
import tempfile
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CompileError, LinkError

OPENMP = os.environ.get("MATHCORE_OPENMP", "auto").lower()
if OPENMP not in {"auto", "on", "off"}:
    sys.exit(f"MATHCORE_OPENMP must be auto, on or off, not {OPENMP!r}")

# abi3 is opt-in: MATHCORE_LIMITED_API=3.12 builds one wheel for CPython 3.12
# and later instead of one per version. It takes three settings: the define
# selects the Limited API (Cython follows it) and py_limited_api names the
# modules *.abi3.so (both in build_extensions below); bdist_wheel's option
# tags the wheel.
LIMITED_API = os.environ.get("MATHCORE_LIMITED_API", "")
if LIMITED_API and not re.fullmatch(r"3\.\d+", LIMITED_API):
    sys.exit(f"MATHCORE_LIMITED_API must be a version such as 3.12, not {LIMITED_API!r}")

# MATHCORE_SHARED_UTILITY=1: Cython's utility code (type checks, error
# handling, memoryviews...) is compiled once, into one more module,
# mathcore._cyutility, which the others import, instead of into each of them.
SHARED_UTILITY = "mathcore._cyutility" if os.environ.get("MATHCORE_SHARED_UTILITY") == "1" else None

# MATHCORE_COVERAGE=1: line tracing for coverage.py's Cython.Coverage plugin
# (slower code), and the C written next to each .pyx, where the plugin reads it.
COVERAGE = os.environ.get("MATHCORE_COVERAGE") == "1"
# Cython directives for every module (a `# cython:` line in a .pyx still wins).
DIRECTIVES = {"linetrace": COVERAGE}
# What else changes how the C is compiled.
FLAGS = {"CC", "CFLAGS", "CPPFLAGS", "LDFLAGS", "LDSHARED"}


def openmp_flags(msvc):
    """The flag that turns OpenMP on; none where CPPFLAGS or CFLAGS carry it already.

    Apple clang refuses -fopenmp: Homebrew's libomp comes through
    CPPFLAGS="-Xpreprocessor -fopenmp ..." and LDFLAGS="... -lomp", which
    scikit-learn's build honours the same way (its openmp_helpers.py).
    """
    if msvc:
        return ["/openmp"]
    return [] if "openmp" in os.environ.get("CPPFLAGS", "") + os.environ.get("CFLAGS", "") else ["-fopenmp"]


def links_with(compiler, flags):
    """Whether a tiny OpenMP program compiles and links with `flags` as the modules will."""
    # distutils links a module with LDFLAGS, CFLAGS and CPPFLAGS, but an
    # executable with the bare compiler: the probe adds them itself.
    env = " ".join(os.environ.get(name, "") for name in ("LDFLAGS", "CFLAGS", "CPPFLAGS")).split()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp, "omp.c")
        src.write_text("#include <omp.h>\nint main(void) { return omp_get_max_threads() < 1; }\n")
        try:
            objects = compiler.compile([str(src)], output_dir=tmp, extra_postargs=flags)
            compiler.link_executable(objects, "omp", output_dir=tmp, extra_preargs=env, extra_postargs=flags)
        except (CompileError, LinkError):  # the compiler's output says why
            return False
    return True


class BuildExt(build_ext):
    def finalize_options(self):
        super().finalize_options()
        # Compile the modules' C on every core (distutils compiles one file
        # at a time); `build_ext -j N` (or [tool.distutils.build_ext] parallel) wins.
        if self.parallel is None:
            self.parallel = os.cpu_count() or 1
        # An editable install (pip install -e) builds in a new temporary
        # folder each time, and so compiled every module after any edit. In
        # build/, as `pip wheel .` does, the C and the modules stay, and the
        # next install compiles only what changed.
        if self.editable_mode:
            tag = f"{sysconfig.get_platform()}-{sys.implementation.cache_tag}"
            self.build_temp, self.build_lib = f"build/temp.{tag}", f"build/lib.{tag}"

    # setuptools cannot detect OpenMP, and Apple clang has no -fopenmp, so
    # try the compiler once here instead of failing in the middle of the build.
    def build_extensions(self):
        msvc = self.compiler.compiler_type == "msvc"
        c_args, link_args = [], []
        if not msvc:
            # -fno-math-errno lets sqrt() compile to one SIMD instruction instead
            # of a call that may set errno; results are unchanged (unlike -ffast-math).
            c_args.append("-fno-math-errno")
            # A release wheel without debug info: Python's own CFLAGS carry
            # -g, three quarters of the wheel's bytes here. A CFLAGS of the
            # user's (CFLAGS=-g for a debug build) replaces Python's and wins.
            if "CFLAGS" not in os.environ:
                c_args.append("-g0")
        flags = openmp_flags(msvc)
        if OPENMP != "off" and links_with(self.compiler, flags):
            c_args += flags
            if not msvc:  # MSVC's linker needs no flag for OpenMP
                link_args += flags
        elif OPENMP == "on":
            sys.exit("MATHCORE_OPENMP=on, but the compiler cannot build with OpenMP: its output above says why")
        elif OPENMP == "auto":
            self.warn(
                "OpenMP not found (the compiler's output above says why): prange loops run on one thread. "
                "MATHCORE_OPENMP=on makes this an error, =off silences it."
            )
        for ext in self.extensions:
            ext.extra_compile_args += c_args
            ext.extra_link_args += link_args
            if COVERAGE:
                # The trace calls compile only with the first, nogil code and
                # prange bodies included; the second keeps them visible to
                # coverage.py on CPython 3.13+ (coveragepy/coveragepy#1790).
                ext.define_macros += [("CYTHON_TRACE_NOGIL", "1"), ("CYTHON_USE_SYS_MONITORING", "0")]
            if LIMITED_API:
                ext.py_limited_api = True
                ext.define_macros.append(("Py_LIMITED_API", f"0x03{int(LIMITED_API[2:]):02X}0000"))
        # Translate every .pyx to C first, in worker processes: Cython's
        # compiler is not made to run in threads (cython/cython#7997), and
        # distutils compiles the C in threads. The C goes under build/, never
        # into src/ or the wheel; for coverage only, next to the .pyx.
        # A build folder that stays is built again whole after a change of
        # switches or flags, and after a build that did not finish (it may
        # have left a C file cut short but newer than its .pyx).
        env = sorted((k, v) for k, v in os.environ.items() if k.startswith("MATHCORE_") or k in FLAGS)
        settings, done = repr(env), Path(self.build_temp, "built-with")
        self.force = self.force or not done.exists() or done.read_text() != settings
        done.unlink(missing_ok=True)
        # The utility module apart, free-threading compatible as the modules
        # that import it are (their `# cython:` line): Cython 3.1 writes it
        # so only when told (later versions by themselves).
        shared = [ext for ext in self.extensions if ext.name == SHARED_UTILITY]
        modules = [ext for ext in self.extensions if ext not in shared]
        for group, directives in ((modules, DIRECTIVES), (shared, {**DIRECTIVES, "freethreading_compatible": True})):
            translated = cythonize(
                group,
                build_dir=None if COVERAGE else self.build_temp,
                nthreads=self.parallel,
                force=self.force,
                compiler_directives=directives,
                shared_utility_qualified_name=SHARED_UTILITY,
            )
            for ext, c_ext in zip(group, translated, strict=True):
                ext.sources = c_ext.sources
        super().build_extensions()
        done.write_text(settings)


# Every compiled module, once, with the hand-written C compiled into it:
# adding a module is adding its .pyx and a line here. build_extensions()
# above gives each the same flags and OpenMP, the C files included. Headers go
# to `depends` (an edit rebuilds the module; the sdist carries them).
MODULES = {
    "_core": [],
    "_kernels": ["sum_sqrt.c", "sum_sqrt.h"],
}


def extension(name, own):
    """The module `name` from its .pyx and its own sources, all in src/mathcore/."""
    paths = [f"src/mathcore/{file}" for file in own]
    return Extension(
        f"mathcore.{name}",
        [f"src/mathcore/{name}.pyx", *(p for p in paths if not p.endswith((".h", ".hpp")))],
        depends=[p for p in paths if p.endswith((".h", ".hpp"))],
        include_dirs=["src/mathcore"],
    )


# The shared utility module's C is written by cythonize, under build/.
SHARED = [Extension(SHARED_UTILITY, ["src/mathcore/_cyutility.c"])] if SHARED_UTILITY else []

setup(
    ext_modules=[extension(name, own) for name, own in MODULES.items()] + SHARED,
    cmdclass={"build_ext": BuildExt},
    options={"bdist_wheel": {"py_limited_api": f"cp3{LIMITED_API[2:]}"}} if LIMITED_API else {},
)
