"""The summary names a smoke run as one, above the table and beside its source."""

from __future__ import annotations

import json

from tools.instruments.summary import summary


def _bench(reports, smoke: bool) -> None:
    data = {"command": "nox -s bench -- --quick", "date": "today", "results": [], "smoke": smoke}
    (reports / "bench.json").write_text(json.dumps(data))


def test_a_smoke_run_is_named_one(tmp_path):
    _bench(tmp_path, smoke=True)
    text = summary(tmp_path)
    assert "**Smoke runs: bench.**" in text
    assert "- [bench]: `nox -s bench -- --quick`, today, **a smoke run**" in text


def test_a_full_run_is_not(tmp_path):
    _bench(tmp_path, smoke=False)
    text = summary(tmp_path)
    assert "moke run" not in text
    assert "- [bench]: `nox -s bench -- --quick`, today" in text
