"""Build the aarch64 Linux wheels, two ways: cross-compiled here, or built in an arm64 root under qemu-user.

    python -m tools.make.cross [--way cross|emulated] [BACKEND ...]

Each variant's template is rendered into build/aarch64/src/<folder>/; then
its sdist, and a wheel from that sdist, go into build/aarch64/dist/<folder>/.

- cross: with the cross compiler (gcc-aarch64-linux-gnu) and the recipe
  beside the template (tools/registry/backends.py: cross_files), taken as a
  user would: the arm64 root's path written into it. The target's headers,
  sysconfig data and (for CMake) interpreter come from the root. Build with
  the target's CPython minor (3.11): the wheel's tags are the build Python's.
- emulated: the plain `python -m build` inside the arm64 root, every
  compiler and Python an aarch64 one, run by qemu-user: 5 to 10 times slower.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tools.make import in_root
from tools.make.build import BuildFailed, build
from tools.make.render import ROOT, render
from tools.registry.backends import NAMES
from tools.registry.variants import Variant, select

# The placeholder the recipes carry for the arm64 root's path.
ROOT_PLACEHOLDER = "/path/to/an/arm64/root"
HOST_PLATFORM = {"_PYTHON_HOST_PLATFORM": "linux-aarch64"}  # the wheel's platform tag


def prepare(v: Variant, folder: Path, root: Path) -> Path:
    """The variant's project rendered into `folder`, with the arm64 root's path written into its recipe."""
    shutil.rmtree(folder, ignore_errors=True)
    project = render(v.backend, folder, v.name)  # a git repository: meson-python's sdist needs one
    for name in v.spec.cross_files:
        recipe = project / name
        recipe.write_text(recipe.read_text(encoding="utf-8").replace(ROOT_PLACEHOLDER, str(root)), encoding="utf-8")
    return project


def cross(v: Variant, project: Path, out: Path, root: Path) -> float:
    """Cross-compile the project's sdist and wheel into `out` by its template's recipe; the wall time."""
    recipe = project / v.spec.cross_files[0]
    v_args, v_env = v.settings()  # the variant's switches (the shared utility module), on top of the recipe
    if not v.spec.cross_args:  # setuptools: the script makes its build environment and runs the build
        t0 = time.perf_counter()
        env = {**v_env, "TARGET_ROOT": str(root), "XBUILD_VENV": str(project.parent / f"{project.name}-xbuild")}
        done = subprocess.run(
            ["sh", str(recipe), "--outdir", str(out)], cwd=project, env={**os.environ, **env}, check=False
        )
        if done.returncode != 0:
            msg = f"{recipe.name} failed ({done.returncode})"
            raise BuildFailed(msg)
        return time.perf_counter() - t0
    args = [arg.format(recipe=recipe) for arg in v.spec.cross_args]
    return build(project, out, args=[*args, *v_args], env={**v_env, **HOST_PLATFORM}, echo=True)


def emulated(project: Path, out: Path) -> float:
    """Build the project's sdist and wheel into `out` inside the arm64 root, under qemu-user; the wall time."""
    target = in_root.ensure("aarch64")
    py = in_root.venv(target, "python3", "build")
    t0 = time.perf_counter()
    in_root.run(target, [py, "-m", "build", "--outdir", in_root.in_work(out), in_root.in_work(project)])
    return time.perf_counter() - t0


def build_variant(v: Variant) -> float:
    """Prepare and build one aarch64 variant into its dist folder; the build's wall time."""
    target = in_root.ensure("aarch64")
    work = in_root.work(target.name)
    project, out = prepare(v, work / "src" / v.folder, in_root.root(target).path), v.dist(ROOT)
    shutil.rmtree(out, ignore_errors=True)
    return cross(v, project, out, in_root.root(target).path) if v.way == "cross" else emulated(project, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.make.cross", description=__doc__.split("\n\n")[0])
    parser.add_argument("backends", nargs="*", metavar="BACKEND", help=f"any of {', '.join(NAMES)} (default: all)")
    parser.add_argument("--way", choices=("cross", "emulated"), default="cross")
    args = parser.parse_args(argv)
    if unknown := set(args.backends) - set(NAMES):
        parser.error(f"unknown backend(s) {sorted(unknown)}")
    if reason := in_root.unavailable("aarch64"):
        print(f"aarch64: {reason}")
        return 0
    for v in select(target="aarch64", way=args.way):
        if args.backends and v.backend not in args.backends:
            continue
        try:
            seconds = build_variant(v)
        except (BuildFailed, subprocess.CalledProcessError) as error:
            print(f"{v.label}: {error}", file=sys.stderr)
            return 1
        print(f"{v.label}: built in {seconds:.0f} s: {', '.join(p.name for p in sorted(v.dist(ROOT).iterdir()))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
