"""The backend registry and the variants: every build described once, and found by tests/conftest.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tools.make.render import ROOT
from tools.registry.backends import BACKENDS, EQUAL_FLAGS, NAMES, backend
from tools.registry.variants import VARIANTS, Variant, by_label, default_builds, select


def test_every_variant_is_found_by_conftest():
    """tests/conftest.py finds builds by name: each variant's name must give back its label, and no two collide."""
    for v in VARIANTS:
        assert re.fullmatch(r"mathcore(?:_(\w+))?", v.name)[1] == v.label
    for key in ("label", "folder"):
        values = [getattr(v, key) for v in VARIANTS]
        assert len(set(values)) == len(values), f"two variants share a {key}: {values}"


def test_clang_variants_require_openmp():
    """A clang without libomp-dev must fail the build, not make a serial one that is timed as clang's."""
    for v in select(compiler="clang"):
        args, env = v.settings()
        assert env["CC"] == "clang"
        on_args, on_env = v.spec.openmp["on"].named(v.name)
        assert set(on_args) <= set(args)
        assert on_env.items() <= env.items()


def test_settings_name_the_package():
    """setuptools' switches are environment variables named after the package; the others are frontend arguments."""
    args, env = Variant("setuptools", abi="abi3").settings()
    assert (args, env) == ([], {"MATHCORE_SETUPTOOLS_ABI3_LIMITED_API": "3.12"})
    args, env = Variant("meson", openmp="off").settings()
    assert args == ["-Csetup-args=-Dopenmp=disabled"]
    assert env == {}
    assert by_label("cmake_no_openmp").dist(ROOT) == ROOT / "build" / "no-openmp" / "dist" / "cmake-no-openmp"


def test_one_job_settings_exist():
    """Each backend's one-job switch is something the backend reads (setuptools: a config file that must exist)."""
    for b in BACKENDS.values():
        args, env = b.one_job.named("x")
        assert args or env
        for path in env.values():
            assert Path(path).exists(), path


def test_default_builds_and_lookups():
    assert [v.backend for v in default_builds()] == list(NAMES)
    with pytest.raises(ValueError, match="choose one of"):
        backend("bazel")
    with pytest.raises(KeyError, match="choose one of"):
        by_label("meson_icc")
    with pytest.raises(TypeError, match="no field"):
        select(colour="red")


def test_templates_have_their_build_files():
    for b in BACKENDS.values():
        for name in b.config_files:
            assert (ROOT / b.name / name).is_file(), f"{b.name}/{name}"
        module_list = b.modules
        assert module_list.read((ROOT / b.name / module_list.file).read_text()), f"{b.name}: no module list"


def test_equal_flags_reach_each_backend_where_they_win():
    """The same flags, each backend's way: setuptools' CFLAGS, meson's c_args, CMake's CMAKE_C_FLAGS."""
    for setting, flags in EQUAL_FLAGS.items():
        assert BACKENDS["setuptools"].flags[setting].named("x") == ([], {"CFLAGS": flags})
        assert BACKENDS["meson"].flags[setting].named("x") == ([f"-Csetup-args=-Dc_args={flags}"], {})
        assert BACKENDS["cmake"].flags[setting].named("x") == ([f"-Ccmake.define.CMAKE_C_FLAGS={flags}"], {})
    # The -g row is the price of debug info alone: the two settings differ by -g0 against -g, nothing else.
    assert EQUAL_FLAGS["equal"].split() == [f if f != "-g" else "-g0" for f in EQUAL_FLAGS["equal_g"].split()]


def test_flags_axis():
    """A flags variant is its backend plus the switch, tested apart, and never among the default builds."""
    v = by_label("meson_flags_equal")
    assert (v.backend, v.flags) == ("meson", "equal")
    assert v.settings() == ([f"-Csetup-args=-Dc_args={EQUAL_FLAGS['equal']}"], {})
    assert Variant("setuptools", flags="equal_g").settings()[1] == {"CFLAGS": EQUAL_FLAGS["equal_g"]}
    assert v.dist(ROOT) == ROOT / "build" / "flags" / "dist" / "meson-flags-equal"
    assert {v.flags for v in select(backend="cmake")} == {"default", *EQUAL_FLAGS}
    assert all(v.flags == "default" for v in default_builds())
