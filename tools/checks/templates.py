"""Check that the three templates still agree with each other once rendered.

Renders setuptools/, meson/ and cmake/ under one package name into a
temporary folder (with tools/make/render.py, as the builds do) and compares:

- the files of the package, src/<name>/: same paths, same bytes;
- the top-level files, less each backend's own build files;
- the [project] tables of pyproject.toml: same fields, same values;
- the Cython requirement of [build-system]: the same in all three;
- the compiled modules each build file lists: one per .pyx, same names, and
  the same hand-written sources (C, headers) compiled into each, all present.

Exit status 1, with every disagreement listed, when any of these differ.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

from tools.make.render import modules, render
from tools.registry.backends import BACKENDS

NAME = "pkgcheck"


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def extensions(backend: str, project: Path) -> set[str]:
    """Dotted names of the compiled modules that `backend`'s build file lists."""
    return {f"{NAME}.{name}" for name in modules(project, backend)}


def cython_requirement(pyproject: dict) -> list[str]:
    # The name ends where a version specifier, marker or extra starts: not cython-cmake.
    return [
        r for r in pyproject["build-system"]["requires"] if re.match(r"cython\s*(?:[<>=!~;\[]|$)", r, re.IGNORECASE)
    ]


def check(root: Path) -> list[str]:
    problems = []
    projects = {b: render(b, root / b, NAME, git=False) for b in BACKENDS}
    tomls = {b: tomllib.loads((p / "pyproject.toml").read_text()) for b, p in projects.items()}
    first, *others = list(BACKENDS)

    pkg = {b: files(p / "src" / NAME) for b, p in projects.items()}
    top = {b: {f for f in files(p) if not f.startswith("src/")} for b, p in projects.items()}
    for b in BACKENDS:
        own = {*BACKENDS[b].build_files, *BACKENDS[b].cross_files}
        if missing := own - top[b]:
            problems.append(f"{b}: build files missing: {sorted(missing)}")
        top[b] -= own
    for b in others:
        if pkg[b].keys() != pkg[first].keys():
            problems.append(f"src/{NAME}/: {first} has {sorted(pkg[first])}, {b} has {sorted(pkg[b])}")
        elif changed := [f for f in pkg[b] if pkg[b][f] != pkg[first][f]]:
            problems.append(f"src/{NAME}/: {b} differs from {first} in {changed}")
        if top[b] != top[first]:
            problems.append(f"top-level files: {first} has {sorted(top[first])}, {b} has {sorted(top[b])}")
        project_a, project_b = tomls[first].get("project", {}), tomls[b].get("project", {})
        for key in sorted(project_a.keys() | project_b.keys()):
            if project_a.get(key) != project_b.get(key):
                problems.append(f"[project] {key}: {first} {project_a.get(key)!r}, {b} {project_b.get(key)!r}")
        if cython_requirement(tomls[b]) != cython_requirement(tomls[first]):
            problems.append(
                f"[build-system] Cython: {first} {cython_requirement(tomls[first])}, {b} {cython_requirement(tomls[b])}"
            )

    pyx = {f"{NAME}.{Path(f).stem}" for f in pkg[first] if f.endswith(".pyx")}
    for b, project in projects.items():
        if (declared := extensions(b, project)) != pyx:
            problems.append(f"{b}: build file declares modules {sorted(declared)}, the .pyx files are {sorted(pyx)}")
    own = {b: BACKENDS[b].modules.sources((p / BACKENDS[b].modules.file).read_text()) for b, p in projects.items()}
    for b in others:
        if own[b] != own[first]:
            problems.append(f"sources compiled into each module: {first} {own[first]}, {b} {own[b]}")
    for module, sources in own[first].items():
        if missing := [s for s in sources if f"{s}" not in pkg[first]]:
            problems.append(f"{module}: the build files compile {missing}, which src/{NAME}/ lacks")
    if not problems:
        print(f"package files, same in all three: {', '.join(sorted(pkg[first]))}")
        print(f"top-level files besides the build files: {', '.join(sorted(top[first]))}")
        print(f"[project] fields, same values: {', '.join(tomls[first]['project'])}")
        print(f"Cython requirement: {cython_requirement(tomls[first])}; compiled modules: {', '.join(sorted(pyx))}")
        print(f"hand-written sources: {', '.join(f'{m}: {s}' for m, s in own[first].items() if s) or 'none'}")
    return problems


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        problems = check(Path(tmp))
    for problem in problems:
        print(f"MISMATCH {problem}", file=sys.stderr)
    print(f"templates {', '.join(BACKENDS)}: {'agree' if not problems else f'{len(problems)} mismatch(es)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
