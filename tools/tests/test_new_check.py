"""The judgement of test_new's helpers, without a build: what counts as shown by a project's docs."""

from __future__ import annotations

from tools.checks.new.runner import docs_gaps


def test_a_line_the_docs_do_not_show_is_a_gap(tmp_path):
    (tmp_path / "README.md").write_text("```cmake\nset(MODULES ... _arraysum)\n```\n\n```meson\n  ...\n```\n")
    (tmp_path / "DEVELOPING.md").write_text("  '_arraysum': [],\n")
    added = {
        "CMakeLists.txt": ["set(MODULES _core _kernels _arraysum)", "set(MODULES _core _other)"],
        "meson.build": ["  '_arraysum': [],", "  '_other': [],"],
    }
    assert docs_gaps(tmp_path, added) == ["CMakeLists.txt: set(MODULES _core _other)", "meson.build: '_other': [],"]


def test_a_file_shown_whole_must_be_there_as_it_is(tmp_path):
    (tmp_path / "README.md").write_text("def f(): ...\n")
    assert docs_gaps(tmp_path, {}, {"f.pyi": "def f(): ...\n"}) == []
    assert docs_gaps(tmp_path, {}, {"g.pyi": "def g(): ...\n"}) == ["g.pyi, as a whole"]
