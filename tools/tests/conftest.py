"""The tools' tests need no build of the package: the twin is pure Python, loaded from shared/."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

TWIN = Path(__file__).resolve().parents[2] / "shared" / "mathcore" / "twin.py"


@pytest.fixture(scope="session")
def twin() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mathcore_twin", TWIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
