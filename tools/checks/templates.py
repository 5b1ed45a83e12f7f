"""Check that the three templates still agree with each other once rendered.

Renders setuptools/, meson/ and cmake/ under one package name into a
temporary folder (with tools/make/render.py, as the builds do) and compares:

- the files of the package, src/<name>/: same paths, same bytes;
- the top-level files, less each backend's own build files;
- the [project] tables of pyproject.toml: same fields, same values;
- the Cython requirement of [build-system]: the same in all three;
- the compiled modules each build file lists: one per .pyx, same names, and
  the same hand-written sources (C, headers) compiled into each, all present;
- the names of the switches, in one scheme: meson options in lower case
  (openmp); CMake cache variables and the environment variables setup.py
  reads are the package name upper-cased, "_", the meson name upper-cased
  (PKG_OPENMP), and the registry's switches set those names; the
  compile-flags variable is c_args in all three, and meson.build and
  CMakeLists.txt name the package folder once.

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
PREFIX = f"{NAME.upper()}_"
# What setup.py may read besides its own switches: the toolchain's variables.
TOOLCHAIN = {"CC", "CFLAGS", "CPPFLAGS", "LDFLAGS"}
# Where each build file declares its switches, and how each backend's frontend sets one.
DECLARED = {
    "meson": ("meson.options", re.compile(r"^option\('(\w+)'", re.MULTILINE)),
    "cmake": ("CMakeLists.txt", re.compile(r"^(?:option\((\w+)|set\((\w+) .*\bCACHE\b)", re.MULTILINE)),
    "setuptools": ("setup.py", re.compile(r"""environ(?:\.get\(|\[)"(\w+)"|"(\w+)" (?:not )?in os\.environ\b(?!\.)""")),
}
SET_BY = {"meson": re.compile(r"-Csetup-args=-D(\w+)="), "cmake": re.compile(r"-Ccmake\.define\.(\w+)=")}
C_ARGS = {
    "meson": ("meson.build", re.compile(r"^c_args = ", re.MULTILINE)),
    "cmake": ("CMakeLists.txt", re.compile(r"^\s*set\(c_args ", re.MULTILINE)),
    "setuptools": ("setup.py", re.compile(r"^\s*c_args\b.* = ", re.MULTILINE)),
}


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


def switch_names(backend: str, project: Path) -> set[str]:
    """The switches `backend`'s build file declares (meson, CMake) or reads from the environment (setuptools)."""
    file, pattern = DECLARED[backend]
    return {"".join(groups) for groups in pattern.findall((project / file).read_text(encoding="utf-8"))}


def set_by_registry(backend: str, switch) -> set[str]:
    """The names that a switch of tools/registry/backends.py sets, for the package NAME."""
    args, env = switch.named(NAME)
    if backend not in SET_BY:
        return set(env)
    return {m.group(1) for arg in args if (m := SET_BY[backend].match(arg))}


def naming(projects: dict[str, Path]) -> list[str]:
    """Where the rendered projects' switch names, flags variable or package folder break the one scheme."""
    problems = []
    options = switch_names("meson", projects["meson"])
    if upper := sorted(o for o in options if o != o.lower()):
        problems.append(f"meson: options {upper} are not lower case")
    expected = {PREFIX + o.upper() for o in options}
    if (cmake := switch_names("cmake", projects["cmake"])) != expected:
        problems.append(f"cmake: cache variables {sorted(cmake)}, meson's options make them {sorted(expected)}")
    read = switch_names("setuptools", projects["setuptools"])
    if missing := expected - read:
        problems.append(f"setuptools: setup.py does not read {sorted(missing)}, meson's options")
    if stray := sorted(v for v in read - TOOLCHAIN if not v.startswith(PREFIX)):
        problems.append(f"setuptools: setup.py reads {stray}, which lack the prefix {PREFIX}")
    for b, project in projects.items():
        spec = BACKENDS[b]
        for label, switch in (("openmp", spec.openmp["on"]), ("shared_utility", spec.shared_utility)):
            want = label if b == "meson" else PREFIX + label.upper()
            if (names := set_by_registry(b, switch)) != {want}:
                problems.append(f"{b}: the registry's {label} switch sets {sorted(names)}, not {want}")
            elif want not in switch_names(b, project):
                problems.append(f"{b}: the registry's {label} switch sets {want}, which the build file lacks")
        file, pattern = C_ARGS[b]
        if not pattern.search(text := (project / file).read_text(encoding="utf-8")):
            problems.append(f"{b}: {file} has no compile-flags variable named c_args")
        if b != "setuptools" and (count := text.count(f"src/{NAME}")) != 1:
            problems.append(f"{b}: {file} names the package folder src/{NAME} {count} times, not once")
    return problems


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
    problems += naming(projects)
    if not problems:
        print(f"package files, same in all three: {', '.join(sorted(pkg[first]))}")
        print(f"top-level files besides the build files: {', '.join(sorted(top[first]))}")
        print(f"[project] fields, same values: {', '.join(tomls[first]['project'])}")
        print(f"Cython requirement: {cython_requirement(tomls[first])}; compiled modules: {', '.join(sorted(pyx))}")
        print(f"hand-written sources: {', '.join(f'{m}: {s}' for m, s in own[first].items() if s) or 'none'}")
        print(f"switches: {', '.join(f'{b} {sorted(switch_names(b, p))}' for b, p in projects.items())}; flags: c_args")
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
