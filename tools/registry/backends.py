"""The three build backends, described once: every fact about a template that more than one tool needs.

A backend is a template folder (setuptools/, meson/, cmake/) plus what the
tools must know to build, switch, inspect and chart it: its build files,
where it lists its compiled modules, its switches (OpenMP, abi3, one compile
job, line tracing for coverage, sanitizers, a compiler cache, build flags
common to all three), how its
editable install rebuilds, and its colour in every chart.
Nothing here runs anything.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

# The placeholder package name of the templates and the core (shared/mathcore/).
PLACEHOLDER = "mathcore"
# The oldest CPython whose Limited API the abi3 wheels target. The build must
# run on that Python: meson and Cython's C refuse a Limited API newer than the
# interpreter, and a newer one would tag the wheel for itself (cp313-abi3).
ABI3_FLOOR = "3.12"
_SPEC = Path(__file__).resolve().parent
# C defines of a coverage build. CYTHON_TRACE_NOGIL=1 compiles the trace calls
# that `linetrace` writes, nogil sections and prange bodies included.
# CYTHON_USE_SYS_MONITORING=0: on CPython 3.13+ Cython would otherwise report
# lines through sys.monitoring, which coverage.py's plugins cannot use
# (coveragepy/coveragepy#1790): the .pyx files would be missing from the report.
COVERAGE_DEFINES = "-DCYTHON_TRACE_NOGIL=1 -DCYTHON_USE_SYS_MONITORING=0"
# AddressSanitizer and UndefinedBehaviorSanitizer: the first report aborts the
# process (UBSan would otherwise print and go on), with whole stack traces.
SANITIZE_FLAGS = "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g"
# ccache rewrites absolute paths under this folder relative to the compile's
# working directory, and NOHASHDIR leaves that directory out of the hash (it
# is in it when -g is on): isolated builds, which build in a new temporary
# folder each time, then hit the cache. Paths outside it (system headers) stay.
CCACHE_TMP = {"CCACHE_BASEDIR": tempfile.gettempdir(), "CCACHE_NOHASHDIR": "1"}
# One setting of the flags that differ between the backends' defaults, so
# that every column of a comparison compiles the same code the same way.
# Their defaults: setuptools takes Python's CFLAGS (sysconfig's; here
# -DNDEBUG -g -fwrapv -O3 -Wall), meson-python builds release (-O3,
# -DNDEBUG) with -fvisibility=hidden from py.extension_module, and
# scikit-build-core builds Release (-O3 -DNDEBUG), default visibility. The
# target is meson-python's default, a release build without debug info: what
# users download should be that, and it makes the meson column a control
# (equal flags change nothing there). -g0 and -fno-wrapv undo Python's -g
# and -fwrapv where distutils appends CFLAGS to them (setuptools 65 did;
# 84 replaces them). "equal_g" differs from "equal" by -g alone: the price
# of debug info, in every column.
EQUAL_FLAGS: Mapping[str, str] = MappingProxyType(
    {
        "equal": "-O3 -g0 -fvisibility=hidden -fno-wrapv -DNDEBUG",
        "equal_g": "-O3 -g -fvisibility=hidden -fno-wrapv -DNDEBUG",
    }
)


@dataclass(frozen=True)
class Switch:
    """Build-frontend arguments and environment that turn one setting on; {NAME} is the package, upper-cased.

    The templates name their switches in one scheme: meson options in lower
    case (openmp); CMake cache variables and setuptools environment variables
    as the package upper-cased, then the meson name upper-cased
    (MATHCORE_OPENMP), which `nox -s lint` holds (tools/checks/templates.py).
    """

    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)

    def named(self, name: str) -> tuple[list[str], dict[str, str]]:
        """The arguments, and the environment with {NAME} filled in for package `name`."""
        up = name.upper()
        return [a.replace("{NAME}", up) for a in self.args], {k.replace("{NAME}", up): v for k, v in self.env.items()}


@dataclass(frozen=True)
class ModuleList:
    """Where a build file names the compiled modules, and the hand-written sources compiled into each.

    Two shapes: a mapping written one entry a line, `"name": [sources],`
    (setup.py, meson.build), between a `head` line and a `tail` line; or one
    line of names (`set(MODULES a b)` in CMake, which has no mappings) with a
    `set(<name>_SOURCES ...)` line for a module that has sources of its own.
    """

    file: str
    pattern: re.Pattern[str]  # the whole list: head, body, tail
    quote: str
    sep: str  # between names on one line; empty for the mapping shape
    entry: re.Pattern[str] | None = None  # one module of the mapping shape: name, sources
    extra: re.Pattern[str] | None = None  # the sources line of a module (CMake): name, sources

    def _body(self, text: str) -> re.Match[str]:
        match = self.pattern.search(text)
        if match is None:
            msg = f"{self.file} has no module list"
            raise ValueError(msg)
        return match

    def sources(self, text: str) -> dict[str, list[str]]:
        """Each module's name, in order, with the hand-written sources (C, C++, headers) compiled into it."""
        body = self._body(text).group(2)
        if self.entry is not None:
            found = {m.group(1): _items(m.group(2), ",") for m in self.entry.finditer(body)}
        else:
            found = {name: [] for name in _items(body, self.sep)}
        if self.extra is not None:
            for m in self.extra.finditer(text):
                if m.group(1) in found:
                    found[m.group(1)] = [Path(item).name for item in _items(m.group(2), " ")]
        return found

    def read(self, text: str) -> list[str]:
        return list(self.sources(text))

    def write(self, text: str, names: list[str]) -> str:
        """The text with the list holding `names`: a module already listed keeps its sources, a new one has none."""
        match = self._body(text)
        if self.entry is None:
            items = self.sep.join(self.quote.format(name) for name in names)
            return text[: match.start(2)] + items + text[match.end(2) :]
        lines = {m.group(1): m.group(0) for m in self.entry.finditer(match.group(2))}
        indent = re.match(r"\s*", next(iter(lines.values()), "    ")).group(0)
        body = "\n".join(lines.get(name, f"{indent}{self.quote.format(name)}: [],") for name in names)
        return text[: match.start(2)] + body + text[match.end(2) :]


def _items(text: str, sep: str) -> list[str]:
    return [item.strip().strip("'\"") for item in text.split(sep.strip() or None) if item.strip()]


@dataclass(frozen=True)
class Backend:
    name: str  # the template's folder, and the first part of every variant's label
    title: str  # the backend's distribution name
    generator: str  # the first word of the wheel's Generator, which build_info()["backend"] reports
    build_files: tuple[str, ...]  # what makes the folder this backend's project, besides pyproject.toml
    # The recipe for an aarch64 Linux wheel, beside the template: what a user
    # copies and edits (the arm64 root's path), and the arguments with which
    # `python -m build` takes it ({recipe}: its path); none for a script.
    cross_files: tuple[str, ...]
    cross_args: tuple[str, ...]
    modules: ModuleList
    openmp: Mapping[str, Switch]  # "on" (required: an error without it) and "off"
    limited_api: Switch  # one abi3 wheel for CPython ABI3_FLOOR and later
    # Code lines of the build files that are there for abi3 alone: the report counts them.
    limited_api_lines: re.Pattern[str]
    # Cython's utility code once, in <package>._cyutility, instead of in every module.
    shared_utility: Switch
    one_job: Switch  # compile one module at a time (scale's parallel efficiency)
    # Line tracing for coverage.py's Cython.Coverage plugin, on CPython 3.13+ too (COVERAGE_DEFINES).
    coverage: Switch
    sanitize: Switch  # ASan and UBSan (SANITIZE_FLAGS) with gcc: see sanitizer()
    ccache: Switch  # every C compile through ccache
    # Each EQUAL_FLAGS setting, given where it wins over the backend's own -O, -g and visibility.
    flags: Mapping[str, Switch]
    # An editable install that shows a .pyx edit on the next import, and whether it does so without a reinstall.
    editable_args: tuple[str, ...]
    rebuilds_on_import: bool
    dev_tools: tuple[str, ...]  # what a build without isolation needs besides [build-system] requires
    # Arguments that keep the build's log or its build folder for reading the compile flags ({build_dir}).
    inspect_args: tuple[str, ...]
    color: str  # in every chart
    seconds: float  # a first guess of a clean wheel build, for the estimate of the time left only

    @property
    def config_files(self) -> tuple[str, ...]:
        """What a user copies and maintains: pyproject.toml and the build files."""
        return ("pyproject.toml", *self.build_files)


def _module_list(file: str, head: str, tail: str, quote: str, sep: str) -> ModuleList:
    """A module list on one line: `head`, names separated by `sep`, `tail` (CMake's, with its _SOURCES lines)."""
    pattern = re.compile(rf"^({re.escape(head)})(.*)({re.escape(tail)})$", re.MULTILINE)
    extra = re.compile(r"^set\((\w+)_SOURCES (.*)\)$", re.MULTILINE)
    return ModuleList(file, pattern, quote, sep, extra=extra)


def _module_map(file: str, head: str, tail: str, quote: str) -> ModuleList:
    """A module mapping, one `"name": [sources],` a line between the lines `head` and `tail`."""
    pattern = re.compile(rf"^({re.escape(head)}\n)(.*?)(\n{re.escape(tail)})$", re.MULTILINE | re.DOTALL)
    entry = re.compile(r"""^[ \t]*["'](\w+)["']:\s*\[(.*?)\],?[ \t]*$""", re.MULTILINE)
    return ModuleList(file, pattern, quote, "", entry=entry)


def build_flags(backend: str, flags: str) -> Switch:
    """C flags that override `backend`'s own -O, -g, -f(no-)wrapv and -fvisibility (gcc, clang: the last one wins)."""
    if backend == "setuptools":
        # setuptools 84's distutils compiles with CFLAGS in place of Python's
        # (65's appended it), and adds it to the link line, where these flags
        # change nothing.
        return Switch(env={"CFLAGS": flags})
    if backend == "meson":
        # c_args come after the buildtype's -O3 and before the target's own c_args.
        return Switch((f"-Csetup-args=-Dc_args={flags}",))
    # CMAKE_C_FLAGS, then CMAKE_C_FLAGS_RELEASE (-O3 -DNDEBUG, which agree), then the target's options.
    return Switch((f"-Ccmake.define.CMAKE_C_FLAGS={flags}",))


def sanitizer(backend: str, flags: str, cc: str = "gcc") -> Switch:
    """A build by `cc` with `flags` (one -fsanitize=KINDS among them) on every compile and link, `backend`'s way.

    The run needs the sanitizer's runtime preloaded (LD_PRELOAD), as CPython
    is not built with it: tools/checks/sanitize.py says how.
    """
    kinds = next(flag for flag in flags.split() if flag.startswith("-fsanitize="))
    if backend == "setuptools":
        # In CC, not CFLAGS/LDFLAGS: a CFLAGS replaces Python's -O3 and the
        # rest. LDSHARED follows CC. Python's CFLAGS keep -fwrapv: signed overflow
        # is defined there, and UBSan does not report it.
        return Switch(env={"CC": f"{cc} {flags}"})
    if backend == "meson":
        # b_sanitize on the compile and the link; b_lundef=false because clang
        # links no sanitizer runtime into a shared object. c_args is split on
        # spaces (shlex), not commas.
        rest = " ".join(flag for flag in flags.split() if flag != kinds)
        args = [f"-Csetup-args=-Db_sanitize={kinds.partition('=')[2]}", "-Csetup-args=-Db_lundef=false"]
        return Switch((*args, f"-Csetup-args=-Dc_args={rest}"), {"CC": cc})
    # python_add_library(MODULE) links with CMAKE_MODULE_LINKER_FLAGS, not CMAKE_SHARED_LINKER_FLAGS.
    return Switch(
        (f"-Ccmake.define.CMAKE_C_FLAGS={flags}", f"-Ccmake.define.CMAKE_MODULE_LINKER_FLAGS={kinds}"), {"CC": cc}
    )


SETUPTOOLS = Backend(
    name="setuptools",
    title="setuptools",
    generator="setuptools",
    build_files=("setup.py",),
    cross_files=("cross/aarch64-linux-gnu.sh",),
    cross_args=(),
    modules=_module_map("setup.py", "MODULES = {", "}", '"{}"'),
    # setuptools has no build options of its own: the template reads environment variables.
    openmp={"on": Switch(env={"{NAME}_OPENMP": "on"}), "off": Switch(env={"{NAME}_OPENMP": "off"})},
    limited_api=Switch(env={"{NAME}_LIMITED_API": ABI3_FLOOR}),
    limited_api_lines=re.compile(r"LIMITED_API|py_limited_api"),
    shared_utility=Switch(env={"{NAME}_SHARED_UTILITY": "1"}),
    # distutils reads an extra configuration file named by DIST_EXTRA_CONFIG:
    # [build_ext] parallel = 1, without touching the project.
    one_job=Switch(env={"DIST_EXTRA_CONFIG": str(_SPEC / "one-job.cfg")}),
    # setup.py turns on the directive and the defines, and writes the C next
    # to the .pyx, where the plugin looks for it.
    coverage=Switch(env={"{NAME}_COVERAGE": "1"}),
    sanitize=sanitizer("setuptools", SANITIZE_FLAGS),
    # Its one miss per build is setup.py's OpenMP probe, compiled in a new temporary folder each time.
    ccache=Switch(env={"CC": "ccache gcc", **CCACHE_TMP}),
    flags={k: build_flags("setuptools", v) for k, v in EQUAL_FLAGS.items()},
    editable_args=(),
    rebuilds_on_import=False,
    dev_tools=(),
    inspect_args=("-v",),
    color="#4c72b0",
    seconds=6.0,
)
MESON = Backend(
    name="meson",
    title="meson-python",
    generator="meson",
    build_files=("meson.build", "meson.options", "tools/cythonize.py"),
    cross_files=("cross/aarch64-linux-gnu.ini", "cross/build-details-cp311-aarch64.json"),
    cross_args=("-Csetup-args=--cross-file={recipe}",),
    modules=_module_map("meson.build", "modules = {", "}", "'{}'"),
    openmp={"on": Switch(("-Csetup-args=-Dopenmp=enabled",)), "off": Switch(("-Csetup-args=-Dopenmp=disabled",))},
    limited_api=Switch(("-Csetup-args=-Dpython.allow_limited_api=true",)),
    limited_api_lines=re.compile(r"limited.api"),
    shared_utility=Switch(("-Csetup-args=-Dshared_utility=true",)),
    one_job=Switch(("-Ccompile-args=-j1",)),
    # -Dcython_args is accepted and ignored by meson up to 1.12 (mesonbuild/meson#15989, fixed by #16003):
    # the CYTHON variable names the transpiler, arguments included, and the build folder keeps it for rebuilds.
    coverage=Switch((f"-Csetup-args=-Dc_args={COVERAGE_DEFINES}",), {"CYTHON": "cython -X linetrace=True"}),
    sanitize=sanitizer("meson", SANITIZE_FLAGS),
    # meson puts ccache in front of the compiler by itself when it is on PATH, and
    # writes every path relative to its build folder: nothing to switch.
    ccache=Switch(),
    flags={k: build_flags("meson", v) for k, v in EQUAL_FLAGS.items()},
    editable_args=(),
    rebuilds_on_import=True,
    dev_tools=("ninja",),
    inspect_args=("-Cbuild-dir={build_dir}",),
    color="#dd8452",
    seconds=11.0,
)
CMAKE = Backend(
    name="cmake",
    title="scikit-build-core",
    generator="scikit-build-core",
    build_files=("CMakeLists.txt", "tools/cythonize.py"),
    cross_files=("cross/aarch64-linux-gnu.cmake",),
    cross_args=("-Ccmake.toolchain-file={recipe}", "-Ccmake.define.CMAKE_POLICY_DEFAULT_CMP0190=NEW"),
    modules=_module_list("CMakeLists.txt", "set(MODULES ", ")", "{}", " "),
    openmp={
        "on": Switch(("-Ccmake.define.{NAME}_OPENMP=ON",)),
        "off": Switch(("-Ccmake.define.{NAME}_OPENMP=OFF",)),
    },
    limited_api=Switch((f"-Cwheel.py-api=cp{ABI3_FLOOR.replace('.', '')}",)),
    limited_api_lines=re.compile(r"sabi", re.IGNORECASE),
    shared_utility=Switch(("-Ccmake.define.{NAME}_SHARED_UTILITY=ON",)),
    one_job=Switch(("-Cbuild.tool-args=-j1",)),
    # The template passes CYTHON_ARGS (a list: ";" separates) to tools/cythonize.py.
    coverage=Switch(
        ("-Ccmake.define.CYTHON_ARGS=-X;linetrace=True", f"-Ccmake.define.CMAKE_C_FLAGS={COVERAGE_DEFINES}")
    ),
    sanitize=sanitizer("cmake", SANITIZE_FLAGS),
    # CMake's Ninja generator passes absolute paths: CCACHE_TMP makes them relative.
    ccache=Switch(("-Ccmake.define.CMAKE_C_COMPILER_LAUNCHER=ccache",), CCACHE_TMP),
    flags={k: build_flags("cmake", v) for k, v in EQUAL_FLAGS.items()},
    # scikit-build-core rebuilds on import only when asked, in a build folder that stays.
    editable_args=("-Ceditable.rebuild=true", "-Cbuild-dir=build/{wheel_tag}"),
    rebuilds_on_import=True,
    dev_tools=("ninja", "cmake>=3.26"),
    inspect_args=("-Cbuild-dir={build_dir}", "-Ccmake.define.CMAKE_EXPORT_COMPILE_COMMANDS=ON"),
    color="#55a868",
    seconds=6.0,
)

BACKENDS: Mapping[str, Backend] = MappingProxyType({b.name: b for b in (SETUPTOOLS, MESON, CMAKE)})
NAMES: tuple[str, ...] = tuple(BACKENDS)


def backend(name: str) -> Backend:
    """The backend of that name, or a ValueError that lists them."""
    try:
        return BACKENDS[name]
    except KeyError:
        msg = f"unknown backend {name!r}: choose one of {', '.join(NAMES)}"
        raise ValueError(msg) from None
