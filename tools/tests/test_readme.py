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


def test_choice_section_quotes_only_the_reports_figures():
    """Every figure in the choice table's prose is a median of the figures block (rendered from the report)."""
    readme = (choice.ROOT / "README.md").read_text(encoding="utf-8")
    assert choice.stray_figures(readme) == []


def test_a_figure_changed_by_a_tenth_is_caught():
    """The check above fails when any figure of the prose is changed by a tenth (its negative control)."""
    readme = (choice.ROOT / "README.md").read_text(encoding="utf-8")
    start, end = readme.index("## Which backend should I choose?"), readme.index("## Quickstart")
    _, block = choice.current(readme)
    prose = readme[start:end].replace(block, "\0")
    figures = list(choice.FIGURE.finditer(prose))
    assert figures, "the choice section quotes no figure: nothing to hold"
    for m in figures:
        changed = f"{float(m.group(1)) + 0.1:.{len(m.group(1).partition('.')[2]) or 1}f}"
        edited = prose[: m.start(1)] + changed + prose[m.end(1) :]
        text = readme[:start] + edited.replace("\0", block) + readme[end:]
        assert choice.stray_figures(text), f"{m.group(0)} -> {changed} went unnoticed"
