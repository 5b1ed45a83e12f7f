"""README.md's build figures are those of the dated report it names (tools/instruments/choice.py)."""

from __future__ import annotations

from tools.instruments import choice


def test_readme_figures_match_their_report():
    readme = (choice.ROOT / "README.md").read_text(encoding="utf-8")
    folder, block = choice.current(readme)
    assert (choice.ROOT / folder / "scale.json").exists(), f"README.md names {folder}, which has no scale.json"
    assert block == choice.render(folder), (
        f"README.md's figures differ from {folder}/scale.json: "
        f"run `python -m tools.instruments.choice {folder} --write` (and reread the text around them)"
    )


def test_readme_ranks_no_tie():
    """A bold figure (a winner) never stands in a row that also says tie."""
    readme = (choice.ROOT / "README.md").read_text(encoding="utf-8")
    _, block = choice.current(readme)
    for row in (line for line in block.splitlines() if line.startswith("|")):
        assert not ("**" in row and "tie" in row), row
