"""scale's analysis: marginal costs, parallel efficiency, where the order changes, where fitted lines cross."""

from __future__ import annotations

import pytest

from tools.instruments import scale


def test_per_module_is_the_marginal_cost():
    assert scale.per_module({2: 10.0, 4: 14.0, 8: 22.0}) == {4: 2.0, 8: 2.0}


def test_efficiency_against_the_one_job_build():
    # Parallel: 5 + 1 s per module; one job: 5 + 2 s per module; 2 cores: marginal 2 / (2 x 1) = 100 %.
    wheel = {"meson": {2: 7.0, 8: 13.0}, "meson_j1": {2: 9.0, 8: 21.0}}
    (row,) = scale.efficiency(wheel, cores=2)
    assert row["variant"] == "meson"
    assert row["serial"] == "meson_j1"
    assert row["marginal"] == pytest.approx(1.0)
    assert row["whole_build"] == pytest.approx(21.0 / (2 * 13.0))


def test_ranking_changes_name_where_the_order_flips():
    table = {"a": {2: 1.0, 4: 3.0, 8: 9.0}, "b": {2: 2.0, 4: 2.5, 8: 3.0}}
    (change,) = scale.ranking_changes(table, ["a", "b"])
    assert (change["from"], change["to"], change["before"], change["after"]) == (2, 4, ["a", "b"], ["b", "a"])
    assert scale.ranking_changes({"a": {2: 1.0, 4: 2.0}, "b": {2: 3.0, 4: 4.0}}, ["a", "b"]) == []


def test_crossings_of_fitted_lines():
    # a = 1 + 2N, b = 5 + N: they cross at N = 4.
    table = {"a": {2: 5.0, 8: 17.0}, "b": {2: 7.0, 8: 13.0}}
    (cross,) = scale.crossings(table, ["a", "b"])
    assert cross["n"] == pytest.approx(4.0)
