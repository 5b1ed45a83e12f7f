"""Check that the three templates still agree with each other once rendered.

Renders setuptools/, meson/ and cmake/ under one package name into a
temporary folder (with tools/render.py, as the builds do) and compares:

- the files of the package, src/<name>/: same paths, same bytes;
- the top-level files, less each backend's own build files;
- the [project] tables of pyproject.toml: same fields, same values;
- the Cython requirement of [build-system]: the same in all three;
- the compiled modules each build file lists: one per .pyx, same names;
- meson's install_sources: every non-.pyx package file (meson-python ships
  only what meson.build lists, the other two ship the package folder);
- the abi3 configuration lines that tools/variants.py counts for each
  backend: every one is a line of that template, as written there.

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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools.render import BACKENDS, ROOT, modules, render
from tools.variants import LIMITED_API_LINES

NAME = "pkgcheck"
# The files that make each template a setuptools, meson or CMake project.
BUILD_FILES = {
    "setuptools": {"setup.py"},
    "meson": {"meson.build", "meson.options"},
    "cmake": {"CMakeLists.txt"},
}


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _call(text: str, func: str) -> list[str]:
    """The argument text of every call `func(...)` in a build file (no nested parentheses)."""
    return re.findall(rf"\b{re.escape(func)}\(([^()]*)\)", text)


def extensions(backend: str, project: Path) -> set[str]:
    """Dotted names of the compiled modules that `backend`'s build file lists."""
    return {f"{NAME}.{name}" for name in modules(project, backend)}


def meson_sources(project: Path) -> set[str]:
    """Files that meson.build's install_sources() puts into the wheel."""
    listed = set()
    for args in _call((project / "meson.build").read_text(), "py.install_sources"):
        listed |= set(re.findall(r"'(src/[^']+)'", args))
    return listed


def cython_requirement(pyproject: dict) -> list[str]:
    # The name ends where a version specifier, marker or extra starts: not cython-cmake.
    return [
        r for r in pyproject["build-system"]["requires"] if re.match(r"cython\s*(?:[<>=!~;\[]|$)", r, re.IGNORECASE)
    ]


def check(root: Path) -> list[str]:
    problems = []
    projects = {b: render(b, root / b, NAME, git=False) for b in BACKENDS}
    tomls = {b: tomllib.loads((p / "pyproject.toml").read_text()) for b, p in projects.items()}
    first, *others = BACKENDS

    pkg = {b: files(p / "src" / NAME) for b, p in projects.items()}
    top = {b: {f for f in files(p) if not f.startswith("src/")} for b, p in projects.items()}
    for b in BACKENDS:
        if missing := BUILD_FILES[b] - top[b]:
            problems.append(f"{b}: build files missing: {sorted(missing)}")
        top[b] -= BUILD_FILES[b]
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
    shipped = {f"src/{NAME}/{f}" for f in pkg["meson"] if not f.endswith(".pyx")}
    if (listed := meson_sources(projects["meson"])) != shipped:
        problems.append(f"meson: install_sources lists {sorted(listed)}, the package has {sorted(shipped)}")

    for b in BACKENDS:
        for entry in LIMITED_API_LINES[b]:
            file, _, line = entry.partition(": ")
            if line not in (ROOT / b / file).read_text().splitlines():
                problems.append(f"{b}: tools/variants.py counts an abi3 line that {file} does not have: {line!r}")

    if not problems:
        print(f"package files, same in all three: {', '.join(sorted(pkg[first]))}")
        print(f"top-level files besides the build files: {', '.join(sorted(top[first]))}")
        print(f"[project] fields, same values: {', '.join(tomls[first]['project'])}")
        print(f"Cython requirement: {cython_requirement(tomls[first])}; compiled modules: {', '.join(sorted(pyx))}")
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
