"""Every build and the twin against the closed-form total, the twin and the contract."""

from __future__ import annotations

import importlib
import importlib.machinery
import inspect
import os
import pkgutil
import random
import re
import sys
import sysconfig
import threading
from pathlib import Path

import pytest

from tests.children import run_child

LIMIT = 2**53


class Index:
    """An integer-like object, as NumPy integers are: it has __index__."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __index__(self) -> int:
        return self.value


def brute_force(start: int, num: int) -> int:
    return sum(abs(pos - 1_000_000) for pos in range(start + 1, num + 1))


def assert_total(result: float, twin, start: int, num: int) -> None:
    """Exact below 2**53; above it, within the n * 2**-53 relative bound."""
    assert isinstance(result, float)
    want = twin.exact(start, num)
    if want < LIMIT:
        assert result == want
    else:
        assert abs(result - want) <= max(0, num - start) * 2.0**-53 * want


# Ranges the twin can still sum in well under a second.
SMALL = {
    "empty": (0, 0),
    "reversed": (10, 3),
    "one-term": (41, 42),
    "lecture-default": (0, 10),
    "negative": (-5_000, -1_234),
    "around-zero": (-7, 7),
    "straddling-1e6": (999_000, 1_001_001),
    "center-only": (999_999, 1_000_000),
    "odd-length": (123_456, 123_456 + 8 * 1_000 + 7),
    "near-lower-limit": (-LIMIT, -LIMIT + 100),
    "near-upper-limit": (LIMIT - 100, LIMIT),
}


@pytest.mark.parametrize(("start", "num"), SMALL.values(), ids=SMALL.keys())
def test_exact_oracle_matches_brute_force(twin, start, num):
    assert twin.exact(start, num) == brute_force(start, num)


@pytest.mark.parametrize(("start", "num"), SMALL.values(), ids=SMALL.keys())
def test_small_ranges(impl, twin, start, num):
    assert_total(impl(start, num), twin, start, num)


def test_defaults(impl, twin):
    assert impl() == twin.exact(0, 10) == 9_999_945


# Past the twin's reach: across block (2**14) and chunk (2**24) edges, and
# the largest total that is still exact.
LARGE = {
    "chunk-edges": (-3, 2 * 2**24 + 2**14 + 5),
    "1e8-terms-exact": (0, 10**8),
    "straddling-large": (1_000_000 - 9 * 10**7, 1_000_000 + 10**7 + 17),
    "above-2**53": (LIMIT - 10**7, LIMIT),
}


@pytest.mark.parametrize(("start", "num"), LARGE.values(), ids=LARGE.keys())
def test_large_ranges(compiled, twin, start, num):
    assert_total(compiled(start, num), twin, start, num)


def test_agrees_with_twin(impl, twin):
    rng = random.Random(20261125)
    for _ in range(20):
        start = rng.randrange(-(2**40), 2**40)  # totals stay below 2**53: exact
        num = start + rng.randrange(-10, 3_000)
        assert impl(start, num) == twin.do_math(start, num)
    for _ in range(5):
        start = rng.randrange(LIMIT - 10**6, LIMIT - 3_000)  # past 2**53: bounded
        num = start + rng.randrange(2_000, 3_000)
        assert_total(impl(start, num), twin, start, num)
        assert_total(twin.do_math(start, num), twin, start, num)


@pytest.mark.parametrize("workers", [1, 2, 3, 5, 6, 64, 10**6, None])
def test_workers_up_to_more_than_terms(build, twin, workers):
    for name in ("do_math_threaded", "do_math_parallel"):
        for start, num in [(0, 5), (999_990, 1_000_013)]:
            assert getattr(build, name)(start, num, workers=workers) == twin.exact(start, num)


@pytest.mark.parametrize("workers", [1, 2, 3, 7])
def test_workers_split_blocks(build, twin, workers):
    start, num = -12_345, 5 * 2**14 + 11
    for name in ("do_math_threaded", "do_math_parallel"):
        assert getattr(build, name)(start, num, workers=workers) == twin.exact(start, num)


def test_index_objects_are_accepted(impl, twin):
    assert impl(Index(-3), Index(20)) == twin.exact(-3, 20)


def test_limits_are_inclusive(impl, twin):
    assert_total(impl(-LIMIT, -LIMIT + 10), twin, -LIMIT, -LIMIT + 10)
    assert_total(impl(LIMIT - 10, LIMIT), twin, LIMIT - 10, LIMIT)


class RaisingIndex:
    """__index__ fails with its own error, which must come through unchanged."""

    def __index__(self) -> int:
        msg = "no index today"
        raise ValueError(msg)


class StrIndex:
    """__index__ returns a str: not an integer after all."""

    def __index__(self):
        return "3"  # noqa: PLE0305 (the point of it)


def _row(error, *args, text=True, **kwargs):
    return (args, kwargs, error, text)


# One table of inputs, tried on every function of every build and the twin.
# `error` is what the functions that take `workers` raise (do_math takes no
# `workers` and no third argument: TypeError for every row that passes one);
# None marks a legal but odd input, whose total must then be exact.
INPUTS = {
    "float-start": _row(TypeError, start=1.0),
    "float-num": _row(TypeError, num=10.0),
    "negative-zero-float": _row(TypeError, start=-0.0),
    "nan": _row(TypeError, num=float("nan")),
    "str": _row(TypeError, start="0"),
    "none-num": _row(TypeError, num=None),
    "index-returns-str": _row(TypeError, num=StrIndex()),
    "index-raises": _row(ValueError, start=RaisingIndex()),
    "start-below-limit": _row(OverflowError, start=-LIMIT - 1),
    "num-above-limit": _row(OverflowError, num=LIMIT + 1),
    "num-2**64": _row(OverflowError, num=2**64),
    "start--2**63": _row(OverflowError, start=-(2**63)),
    "unknown-keyword": _row(TypeError, 0, 10, stop=5),
    # Cython words its own argument-count errors ("takes at most 3
    # positional arguments (4 given)"): same type, different text.
    "too-many-arguments": _row(TypeError, 0, 10, 2, 1, text=False),
    "workers-0": _row(ValueError, workers=0),
    "workers-negative": _row(ValueError, workers=-1),
    "workers--2**64": _row(ValueError, workers=-(2**64)),
    "workers-float": _row(TypeError, workers=2.0),
    "workers-str": _row(TypeError, workers="2"),
    "workers-index-raises": _row(ValueError, workers=RaisingIndex()),
    # Legal: a bool is an int to Python (as in range(True)), and more workers
    # than terms or cores is capped, not refused.
    "bool-bounds": _row(None, start=False, num=True),
    "workers-True": _row(None, 0, 100, workers=True),
    "workers-2**64": _row(None, 0, 100, workers=2**64),
    # Capped at the cores, so no thread nor piece per worker: issue #14.
    "workers-10**7": _row(None, 0, 10**6, workers=10**7),
}


@pytest.mark.parametrize(("args", "kwargs", "error", "text"), INPUTS.values(), ids=INPUTS.keys())
def test_bad_input(impl, twin, args, kwargs, error, text):
    """Same exception type and message as the twin, or the exact total when legal."""
    if impl.__name__ == "do_math" and ("workers" in kwargs or len(args) > 2):
        error = TypeError
    if error is None:
        given = inspect.signature(getattr(twin, impl.__name__)).bind(*args, **kwargs)
        given.apply_defaults()
        assert impl(*args, **kwargs) == twin.exact(given.arguments["start"], given.arguments["num"])
        return
    with pytest.raises(error) as reference:
        getattr(twin, impl.__name__)(*args, **kwargs)
    with pytest.raises(error) as info:
        impl(*args, **kwargs)
    assert type(info.value) is type(reference.value)
    if text:
        assert str(info.value) == str(reference.value)
    else:
        assert impl.__name__ in str(info.value)
    if error is OverflowError:
        assert "2**53" in str(info.value)


def test_build_info(build):
    info = build.build_info()
    assert info["backend"] in {"setuptools", "meson", "scikit-build-core"}
    assert isinstance(info["openmp"], bool)
    assert int(info["cython"].split(".")[0]) >= 3
    assert isinstance(info["compiler"], str)
    assert info["compiler"]
    if info["compiler"] != "unknown":  # MSVC defines neither __VERSION__ nor __OPTIMIZE__
        assert info["flags"]["optimize"] is True
    assert info["flags"]["fast_math"] is False
    if info["openmp"]:
        # MSVC's /openmp is OpenMP 2.0 (200203): enough for a prange over a signed index.
        assert info["openmp_version"] >= 200203
        assert info["openmp_threads"] >= 1
    else:
        assert info["openmp_threads"] == 1
    # The hand-written C of _kernels gets the same OpenMP flags as Cython's C.
    assert info["openmp_version_c"] == info["openmp_version"]


def test_gil_is_released(build, twin):
    """Another Python thread keeps running while do_math runs."""
    start, num = 0, 5 * 10**8  # ~0.2 s at the fastest build's speed, seconds at the slowest
    result = []
    worker = threading.Thread(target=lambda: result.append(build.do_math(start, num)))
    spins = 0
    worker.start()
    while worker.is_alive():
        spins += 1
    worker.join()
    assert_total(result[0], twin, start, num)
    # A do_math that held the GIL would let this loop run only between its
    # chunks: about 13,000 spins when tried here, against millions without it.
    assert spins > 100_000


def test_openmp_as_asked(build, request):
    """With --openmp=on|off: every build has OpenMP exactly when it was asked to."""
    asked = request.config.getoption("--openmp")
    if asked is None:
        pytest.skip("no --openmp=on|off given: nothing was asked")
    assert build.build_info()["openmp"] is (asked == "on")


def _extension_modules(build) -> dict[str, str]:
    """Every compiled module of a build: dotted name -> file."""
    names = {info.name for info in pkgutil.iter_modules(build.__path__)} | {"_core"}
    found = {}
    for name in sorted(names):
        module = importlib.import_module(f"{build.__name__}.{name}")
        origin = getattr(module.__spec__, "origin", None) or ""
        if origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)):
            found[module.__name__] = origin
    return found


def _needed(path: str) -> list[str]:
    """The shared libraries an ELF file asks the loader for (DT_NEEDED)."""
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile

    with Path(path).open("rb") as stream:
        sections = ELFFile(stream).iter_sections()
        return [tag.needed for s in sections if isinstance(s, DynamicSection) for tag in s.iter_tags("DT_NEEDED")]


# gcc's libgomp, LLVM's libomp, Intel's libiomp; also auditwheel's vendored copies
# (libgomp-<8 hex>.so.1.0.0, libomp-<8 hex>.so.5): "\b" matches before the "-".
OPENMP_RUNTIME = re.compile(r"lib(g|i)?omp\b")


@pytest.mark.skipif(sys.platform != "linux", reason="reads the modules' ELF dynamic section (Linux)")
def test_every_module_links_the_openmp_it_reports(build):
    """Each compiled module, not only _core, links an OpenMP runtime exactly when build_info() says OpenMP.

    A module whose build lacks the OpenMP dependency still builds and passes
    every other test: its prange just runs on one thread (scikit-learn#29665).
    """
    modules = _extension_modules(build)
    assert f"{build.__name__}._core" in modules
    # Cython's shared utility module runs no prange: it needs no runtime.
    modules.pop(f"{build.__name__}._cyutility", None)
    openmp = build.build_info()["openmp"]
    wrong = {name: _needed(path) for name, path in modules.items()}
    wrong = {name: libs for name, libs in wrong.items() if any(map(OPENMP_RUNTIME.match, libs)) is not openmp}
    assert not wrong, f"build_info() says openmp={openmp}, but these modules link otherwise: {wrong}"


# A free-threaded CPython (3.14t) whose GIL nothing forced on or off: then a
# module that does not declare itself free-threading compatible (Cython's
# freethreading_compatible directive) turns the GIL on when imported, with
# only a RuntimeWarning to say so.
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED")) and "PYTHON_GIL" not in os.environ
FREE_THREADED = FREE_THREADED and "gil" not in sys._xoptions


def test_each_module_imports_alone(build):
    """Every compiled module imports first in a fresh interpreter, taking in what it needs itself.

    A cimported .pxd's module, or Cython's shared utility module, is imported
    by the module that needs it: no import order is required of the user. On
    a free-threaded Python, importing any of them leaves the GIL off.
    """
    modules = sorted(_extension_modules(build))
    for name in modules:
        child = run_child(
            """
            import importlib, json, sys
            importlib.import_module(sys.argv[1])
            print(json.dumps({
                "modules": sorted(m for m in sys.modules if m.startswith(sys.argv[2])),
                "gil": sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True,
            }))
            """,
            name,
            build.__name__,
        )
        assert name in child["modules"]
        if FREE_THREADED:
            assert child["gil"] is False, f"importing {name} turned the GIL on"
    shared = f"{build.__name__}._cyutility" in modules
    assert build.build_info()["shared_utility"] is shared


def _wheel_tags(build) -> list[str] | None:
    """The tags of the wheel the build was installed from (WHEEL), or None when it was not."""
    from importlib.metadata import PackageNotFoundError, distribution, packages_distributions

    # The distribution that holds the package (a project's may be named
    # otherwise); Python 3.10 maps only those that write top_level.txt.
    for name in packages_distributions().get(build.__name__) or [build.__name__]:
        try:
            text = distribution(name).read_text("WHEEL")
        except PackageNotFoundError:
            continue
        if text is not None:
            return [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")]
    return None


def test_abi3_throughout_or_not_at_all(build):
    """A wheel tagged abi3 holds modules compiled for the Limited API of its tag's version, and only such a wheel does.

    Each backend takes its abi3 switch in two or three places: a wheel tagged
    abi3 around a version-specific module would load on the Python that built
    it and crash or fail on the next; a switch that a backend ignored (an
    older Python) gives a version-specific wheel under an abi3 variant's name.
    """
    limited = build.build_info()["limited_api"]
    # The first suffix names a module for this Python version only
    # (.cpython-312-x86_64-linux-gnu.so, .cp312-win_amd64.pyd); an abi3
    # module is named otherwise (.abi3.so; a plain .pyd on Windows).
    specific = importlib.machinery.EXTENSION_SUFFIXES[0]
    files = _extension_modules(build)
    wrong = {name: path for name, path in files.items() if path.endswith(specific) is not (limited is None)}
    assert not wrong, f"build_info() says limited_api={limited}, these modules' file names disagree: {wrong}"
    tags = _wheel_tags(build)
    if tags is None:
        return  # not installed from a wheel: no tags to check
    abi3 = [tag for tag in tags if tag.split("-")[1] == "abi3"]
    if limited is None:
        assert not abi3, f"a version-specific build in a wheel tagged {abi3}"
    else:
        assert abi3, f"a Limited API {limited} build in a wheel tagged {tags}"
        assert {tag.split("-")[0] for tag in abi3} == {"cp3" + limited.split(".")[1]}, (limited, abi3)
