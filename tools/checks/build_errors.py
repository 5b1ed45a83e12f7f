"""Check that a failed build session says what is missing and what to do.

Runs the real `nox -s build_<backend>` sessions on a copy of this repository
(build/ and dist/ here stay as they are) with a toolchain made to fail:

- no C compiler: CC=/nonexistent, which every backend takes before any default;
- OpenMP asked for but missing: CC is a wrapper around the real compiler that
  refuses -fopenmp, as Apple's clang does, and the backend's OpenMP switch is on;
- a hand-written source that git ignores: the template carries a .gitignore
  with `*.c`, so the rendered project's commit lacks sum_sqrt.c, and so does
  the sdist that meson-python and scikit-build-core build from git (the
  wheel then fails to build from it; setuptools' sdist takes the file from
  the disk, so this one is not run there).

Each session must fail and end with the diagnosis from tools/make/build.py:
what the toolchain lacks, or the likely cause of a missing file.

    python -m tools.checks.build_errors [BACKEND ...]   (needs nox; exit status 1 when one is not explained)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.make.render import ROOT
from tools.registry.backends import NAMES, backend
from tools.registry.variants import default_builds

COPY = ("noxfile.py", "pyproject.toml", "LICENSE", "tools", "shared", *NAMES)
# The diagnosis must be among the last lines, not buried above a traceback.
TAIL = 15

NO_OPENMP_CC = """#!/bin/sh
# A C compiler without OpenMP: it refuses -fopenmp, as Apple's clang does.
for arg do
  case $arg in
    -fopenmp*) echo "cc: error: unsupported option '$arg' (no OpenMP here)" >&2; exit 1 ;;
  esac
done
exec {real} "$@"
"""


# What makes git ignore the core's hand-written C in a rendered project.
IGNORE_C = "*.c\n"


def _scenarios(name: str, wrapper: Path):
    """(label, environment, session arguments, phrases the diagnosis must contain)."""
    spec = backend(name)
    yield (
        "no C compiler",
        {"CC": "/nonexistent"},
        [],
        ["for want of", "a C compiler", "/nonexistent", "apt-get install"],
    )
    if name != "setuptools":
        source = f"src/{default_builds(backend=name)[0].name}/sum_sqrt.c"
        yield (
            "a source ignored by git",
            {},
            [],
            ["likely cause:", f"{source} is ignored by git (line 1 of .gitignore: *.c)", "the sdist lacks it"],
        )
    package = default_builds(backend=name)[0].name
    args, env = spec.openmp["on"].named(package)
    off_args, off_env = spec.openmp["off"].named(package)
    yield (
        "OpenMP on, compiler without it",
        {"CC": str(wrapper), **env},
        args,
        ["for want of", "OpenMP", *off_args, *(f"{k}={v}" for k, v in off_env.items())],
    )


def check(backends: list[str]) -> list[str]:
    """Run every failing scenario for `backends`; the ones that were not explained."""
    real = shutil.which("cc") or shutil.which("gcc")
    if real is None:
        sys.exit("no cc or gcc on PATH: the OpenMP scenario wraps the real compiler")
    wrong = []
    with tempfile.TemporaryDirectory(prefix="build-errors-") as tmp:
        repo = Path(tmp, "repo")
        for name in COPY:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                repo.mkdir(exist_ok=True)
                shutil.copy2(source, repo / name)
        wrapper = Path(tmp, "cc-without-openmp")
        wrapper.write_text(NO_OPENMP_CC.format(real=real))
        wrapper.chmod(0o755)
        for name in backends:
            for label, env, args, phrases in _scenarios(name, wrapper):
                gitignore = repo / name / ".gitignore"  # render copies it into the project, then commits
                if label == "a source ignored by git":
                    gitignore.write_text(IGNORE_C)
                command = [sys.executable, "-m", "nox", "-f", str(repo / "noxfile.py"), "-s", f"build_{name}"]
                command += ["--", *args] if args else []
                print(f"{name}, {label}: {' '.join(f'{k}={v}' for k, v in env.items())} {' '.join(command[1:])}")
                done = subprocess.run(
                    command,
                    check=False,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    env={**os.environ, **env},
                    cwd=repo,
                )
                gitignore.unlink(missing_ok=True)
                tail = done.stdout.strip().splitlines()[-TAIL:]
                missing = [p for p in phrases if p not in "\n".join(tail)]
                for line in tail[-8:]:
                    print(f"    | {line}")
                if done.returncode == 0 or missing:
                    wrong.append(f"{name}, {label}: exit status {done.returncode}, missing {missing}")
    return wrong


def main(argv: list[str] | None = None) -> int:
    backends = list(sys.argv[1:] if argv is None else argv) or list(NAMES)
    if unknown := set(backends) - set(NAMES):
        sys.exit(f"unknown backend(s) {sorted(unknown)}: choose from {', '.join(NAMES)}")
    if sys.platform == "win32":
        print("skipped: the scenarios use a POSIX shell wrapper and CC")
        return 0
    if wrong := check(backends):
        print("build errors not explained:", *wrong, sep="\n", file=sys.stderr)
        return 1
    builds = sum(1 for name in backends for _ in _scenarios(name, Path()))
    print(f"every scenario failed with its diagnosis ({builds} builds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
