"""Find every installed build of the package and parametrize tests over it.

A build is an importable top-level package named `mathcore` or
`mathcore_<label>` (the comparison builds, tools/registry/variants.py:
mathcore_setuptools, mathcore_meson, mathcore_cmake, and clang's
mathcore_setuptools_clang ...).  The twin is the pure-Python reference that
ships inside every build.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re
from types import ModuleType

import pytest

PACKAGE = "mathcore"
FUNCTIONS = ("do_math", "do_math_threaded", "do_math_parallel")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--openmp",
        choices=("on", "off"),
        help="assert that every build was compiled with (on) or without (off) OpenMP",
    )


def _installed() -> dict[str, ModuleType]:
    names = {info.name for info in pkgutil.iter_modules() if info.ispkg}
    # meson-python's and scikit-build-core's editable installs import through
    # a finder on sys.meta_path, which pkgutil does not list.
    if importlib.util.find_spec(PACKAGE):
        names.add(PACKAGE)
    found = {}
    for name in names:
        match = re.fullmatch(rf"{PACKAGE}(?:_(\w+))?", name)
        if match:
            found[match.group(1) or PACKAGE] = importlib.import_module(name)
    return dict(sorted(found.items()))


BUILDS = _installed()
if not BUILDS:
    pytest.exit(
        f"no build of {PACKAGE} is installed in this environment: build one first "
        "(see the README) and install its wheel",
        returncode=pytest.ExitCode.USAGE_ERROR,
    )
TWIN = next(iter(BUILDS.values())).twin


@pytest.fixture(params=list(BUILDS.values()), ids=list(BUILDS))
def build(request: pytest.FixtureRequest) -> ModuleType:
    """Each compiled build."""
    return request.param


_IMPLS = [
    pytest.param(getattr(module, name), id=f"{label}-{name}")
    for label, module in [*BUILDS.items(), ("twin", TWIN)]
    for name in FUNCTIONS
]
_COMPILED = [p for p in _IMPLS if not p.id.startswith("twin-")]
_WITH_WORKERS = [p for p in _IMPLS if not p.id.endswith("-do_math")]


@pytest.fixture(params=_IMPLS)
def impl(request: pytest.FixtureRequest):
    """Each public function of each build and of the twin."""
    return request.param


@pytest.fixture(params=_COMPILED)
def compiled(request: pytest.FixtureRequest):
    """Each public function of each compiled build (too many terms for the twin)."""
    return request.param


@pytest.fixture(params=_WITH_WORKERS)
def with_workers(request: pytest.FixtureRequest):
    """Each function that takes `workers`, of each build and of the twin."""
    return request.param


@pytest.fixture
def twin() -> ModuleType:
    return TWIN
