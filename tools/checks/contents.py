"""Check that the sdist and the wheel hold every file of the package's source folder.

    python tools/check_contents.py DIST [--project DIR]     (a project made by `nox -s new`)
    python -m tools.checks.contents DIST --project DIR      (this repository)

DIST holds one sdist and one wheel, built from the project in DIR (default:
the current folder). The package is every folder under DIR/src/ with an
__init__.py. Its files are those git tracks (every file, outside a git
repository, less caches and build products). Then:

- the sdist holds every one of them, as src/<package>/...;
- the wheel holds every one as <package>/..., except the sources that are
  compiled instead of shipped (.pyx, .c, .cpp), and a compiled module for
  every .pyx: nothing of a subpackage, a .pxd that other packages cimport,
  a stub or a data file is left behind;
- neither holds anything else in the package (no cache, no generated C, no
  module compiled in place for another Python).

A backend that drops a file does so silently: the build succeeds and the
tests, which import the package, still pass. This check names each file.
Exit status 1 when one is missing. Standard library only, so that a project
can carry it as it is (nox -s new copies it into tools/).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

# Compiled into the extension modules, not shipped in the wheel.
COMPILED = {".pyx", ".c", ".cpp"}
# What a checkout may hold besides the sources when it is not a git repository.
NOT_SOURCES = re.compile(r"(^|/)__pycache__/|\.(pyc|so|pyd|dll|dylib|html)$")
EXTENSION = re.compile(r"(?P<stem>[^.]+)(\.[^/]*)?\.(so|pyd)")


def source_files(project: Path) -> dict[str, list[str]]:
    """Each package under src/ -> its files, as paths relative to src/ (tracked by git where there is one)."""
    packages = sorted(p.parent.name for p in (project / "src").glob("*/__init__.py"))
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--", *(f"src/{p}" for p in packages)],
            cwd=project,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        files = [f.removeprefix("src/") for f in listed]
    except (OSError, subprocess.CalledProcessError):  # no git, or not a repository
        files = [
            p.relative_to(project / "src").as_posix()
            for package in packages
            for p in (project / "src" / package).rglob("*")
            if p.is_file()
        ]
        files = [f for f in files if not NOT_SOURCES.search(f)]
    return {package: sorted(f for f in files if f.split("/")[0] == package) for package in packages}


def missing(project: Path, sdist: Path, wheel: Path) -> list[str]:
    """What the sdist and the wheel lack of the package's files, and what the wheel holds besides."""
    with tarfile.open(sdist) as tar:
        in_sdist = {m.name.partition("/")[2] for m in tar.getmembers() if m.isfile()}
    with zipfile.ZipFile(wheel) as whl:
        in_wheel = {n for n in whl.namelist() if not n.endswith("/")}
    packages = source_files(project)
    if not packages:
        return [f"no package under {project / 'src'} (a folder with an __init__.py)"]
    problems = []
    for package, files in packages.items():
        problems += [f"{sdist.name} lacks src/{f}" for f in files if f"src/{f}" not in in_sdist]
        stray = sorted(n for n in in_sdist if n.startswith(f"src/{package}/") and n.removeprefix("src/") not in files)
        problems += [f"{sdist.name} holds {n}, which is not a file of the package" for n in stray]
        compiled = {PurePosixPath(f).with_suffix("").as_posix() for f in files if PurePosixPath(f).suffix == ".pyx"}
        extensions = {m["stem"] for n in in_wheel if (m := EXTENSION.fullmatch(n))}
        shipped = [f for f in files if PurePosixPath(f).suffix not in COMPILED]
        problems += [f"{wheel.name} lacks {f}" for f in shipped if f not in in_wheel]
        problems += [f"{wheel.name} lacks the compiled module of {m}.pyx" for m in sorted(compiled - extensions)]
        expected = set(shipped) | {n for n in in_wheel if EXTENSION.fullmatch(n)}
        extra = sorted(n for n in in_wheel if n.split("/")[0] == package and n not in expected)
        problems += [f"{wheel.name} holds {n}, which is not a file of the package" for n in extra]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dist", type=Path, help="the folder with one sdist and one wheel")
    parser.add_argument("--project", type=Path, default=Path(), help="the project they were built from")
    args = parser.parse_args(argv)
    sdists, wheels = sorted(args.dist.glob("*.tar.gz")), sorted(args.dist.glob("*.whl"))
    if len(sdists) != 1 or len(wheels) != 1:
        found = sorted(p.name for p in args.dist.iterdir()) if args.dist.is_dir() else "no such folder"
        parser.error(f"{args.dist} must hold one sdist and one wheel, not {found}")
    problems = missing(args.project.resolve(), sdists[0], wheels[0])
    for problem in problems:
        print(f"MISSING {problem}" if " lacks " in problem else f"UNEXPECTED {problem}", file=sys.stderr)
    files = sum(len(f) for f in source_files(args.project.resolve()).values())
    verdict = f"{len(problems)} problem(s)" if problems else "every file of the package is there"
    print(f"{sdists[0].name}, {wheels[0].name} against {files} package files: {verdict}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
