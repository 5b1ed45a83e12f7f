"""Start a standalone project from one of the templates: `nox -s new -- BACKEND DEST`.

The project is what `render` writes (the template and the core, renamed:
its README.md, the package's page; DEVELOPING.md, the developer's manual;
MOVING.md, the steps to move an existing package in, deleted once followed),
plus the package's own tests, the check that its sdist and wheel hold every
package file (tools/checks/contents.py, as tools/check_contents.py), and the
files in tools/make/new_project/ (noxfile, .gitignore, CI workflow, the
pyproject.toml tables for pytest and cibuildwheel), all renamed the same way
and with only the chosen backend's lines, then one git commit.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

from tools.make.render import ROOT, check_name, commit, rename, render
from tools.registry.backends import NAMES

EXTRAS = Path(__file__).resolve().parent / "new_project"
CONTENTS_CHECK = ROOT / "tools" / "checks" / "contents.py"
# The package's own suite (test_core.py runs some tests in a child process,
# tests/children.py); tests of this repository's tools stay behind.
TESTS = ("conftest.py", "test_core.py", "children.py")
# For setuptools projects: the sdist holds every file git tracks, as
# `nox -s build` checks (the other backends' sdists are built from git).
MANIFEST = """\
# setuptools' sdist takes the package, the README, LICENSE, pyproject.toml
# and setup.py by itself; the rest of the project, as git tracks it, from
# here (*.md: DEVELOPING.md, and MOVING.md until the move is done).
graft tests
graft tools
graft cross
graft .github
include noxfile.py .gitignore *.md
global-exclude *.py[cod]
"""
# Stored without the dot so that git does not read it as this repo's rules.
STORED_AS = {"gitignore": ".gitignore"}
TAIL = "pyproject-tail.toml"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nox -s new --",
        description="Copy a template and the core into DEST as a project of its own, renamed to NAME.",
    )
    parser.add_argument(
        "backend", choices=NAMES, metavar="BACKEND", help=f"the template to start from: {', '.join(NAMES)}"
    )
    parser.add_argument("dest", type=Path, metavar="DEST", help="where to write the project (a new or empty folder)")
    parser.add_argument("--name", help="import and distribution name (default: the name of DEST)")
    parser.add_argument(
        "--force", action="store_true", help="write into a non-empty DEST, replacing files of the same name"
    )
    parser.add_argument("--no-git", dest="git", action="store_false", help="no `git init` and first commit")
    return parser


# In tools/make/new_project/: a block between "# >>> meson" and "# <<< meson"
# and a line that ends with "# only: setuptools, meson" are for those
# backends; a project keeps its own backend's lines, without the markers.
_BLOCK = re.compile(r"^# >>> (?P<names>[\w, ]+)\n(?P<body>.*?)^# <<< (?P=names)\n", re.MULTILINE | re.DOTALL)
_ONLY = re.compile(r"^(?P<line>.*?)\s*# only: (?P<names>[\w, ]+)\n", re.MULTILINE)


def for_backend(text: str, backend: str) -> str:
    """`text` with the lines marked for other backends taken out, and the markers."""

    def keep(match: re.Match[str], part: str) -> str:
        names = {name.strip() for name in match["names"].split(",")}
        return match[part] + ("\n" if part == "line" else "") if backend in names else ""

    text = _BLOCK.sub(lambda m: keep(m, "body"), text)
    return _ONLY.sub(lambda m: keep(m, "line"), text)


def new(backend: str, dest: Path, name: str, *, force: bool = False, git: bool = True) -> list[Path]:
    """Write the project into `dest`; return the files written, relative to `dest`."""
    check_name(name)  # before anything is written
    dest = Path(dest).resolve()
    if dest.exists() and not dest.is_dir():
        msg = f"{dest} exists and is not a folder"
        raise FileExistsError(msg)
    if dest.exists() and any(dest.iterdir()) and not force:
        msg = f"{dest} is not empty: choose a new folder, or pass --force to write into it"
        raise FileExistsError(msg)
    if git and not shutil.which("git"):
        msg = "git is not on PATH: install it, or pass --no-git (meson-python's sdist needs git)"
        raise RuntimeError(msg)
    with tempfile.TemporaryDirectory() as tmp:
        # Assemble the whole project aside, then copy it over: a failure on
        # the way leaves DEST as it was.
        staged = render(backend, Path(tmp, "project"), name, git=False)
        for source in sorted(EXTRAS.rglob("*")):
            if source.is_file() and source.name != TAIL and "__pycache__" not in source.parts:
                relative = source.relative_to(EXTRAS)
                _write(staged / relative.with_name(STORED_AS.get(source.name, source.name)), source, name, backend)
        for test in TESTS:
            _write(staged / "tests" / test, ROOT / "tests" / test, name)
        _write(staged / "tools" / "check_contents.py", CONTENTS_CHECK, name, backend)
        if backend == "setuptools":
            (staged / "MANIFEST.in").write_text(MANIFEST, encoding="utf-8")
        pyproject = staged / "pyproject.toml"
        pyproject.write_text(
            pyproject.read_text(encoding="utf-8") + "\n" + rename(_read(EXTRAS / TAIL), name), encoding="utf-8"
        )
        written = sorted(path.relative_to(staged) for path in staged.rglob("*") if path.is_file())
        shutil.copytree(staged, dest, dirs_exist_ok=True)
    if git:
        # After every file is in place, so that the first commit has them all;
        # only those files, should --force have put them next to others.
        commit(dest, f"Start {name} from the {backend} template", [str(path) for path in written])
    return written


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _write(target: Path, source: Path, name: str, backend: str | None = None) -> None:
    text = rename(_read(source), name)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(for_backend(text, backend) if backend else text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        parser.print_help()
        return 0
    args = parser.parse_args(argv)
    name = args.name or args.dest.resolve().name
    try:
        written = new(args.backend, args.dest, name, force=args.force, git=args.git)
    except (ValueError, FileExistsError, RuntimeError) as error:
        hint = " (the name comes from DEST; pass --name to choose another)" if isinstance(error, ValueError) else ""
        parser.error(f"{error}{hint if not args.name else ''}")
    dest = args.dest.resolve()
    print(f"wrote {len(written)} files: {name} ({args.backend}) in {dest}" + (", committed" if args.git else ""))
    print(f"next: cd {dest} && nox -s tests build   (see DEVELOPING.md there; MOVING.md to move a package in)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
