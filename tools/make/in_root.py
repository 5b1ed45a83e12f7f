"""Build and test this repository's packages inside a Debian root (tools/registry/targets.py).

The root sees this checkout read-only at /repo and one work folder of the
host, build/<target>/, read-write at /work; pip's cache is shared between
runs. Inside, each Python of the target gets a virtual environment of its
own under /work, made afresh each run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tools.make import roots
from tools.make.render import ROOT
from tools.registry.targets import TARGETS, Target

REPO, WORK = "/repo", "/work"
# pytest's options in a root: the checkout is read-only there.
PYTEST = ["-p", "no:cacheprovider"]


def test_packages() -> list[str]:
    """What the suite needs besides the package: the test dependency group of pyproject.toml."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["dependency-groups"]["test"]


def root(target: Target) -> roots.Root:
    return roots.Root(target.suite, target.arch, target.packages)


def unavailable(name: str) -> str | None:
    """Why the target's root cannot be made or run here (one line), or None."""
    return roots.unavailable(TARGETS[name].arch)


def work(name: str) -> Path:
    return ROOT / "build" / name


def run(
    target: Target,
    command: list[str],
    *,
    timeout: float = 3600,
    env: dict | None = None,
    check: bool = True,
    capture: bool = False,
) -> subprocess.CompletedProcess[str]:
    """`command` in the target's root, with the checkout at /repo and build/<target>/ at /work."""
    folder = work(target.name)
    folder.mkdir(parents=True, exist_ok=True)
    cache = roots.cache_dir() / "pip"
    cache.mkdir(parents=True, exist_ok=True)
    binds = {ROOT: REPO, folder: roots.Bind(WORK, writable=True), cache: roots.Bind("/root/.cache/pip", writable=True)}
    environment = {"PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    print(f"[{target.name}] $ {' '.join(command)}", flush=True)
    return roots.run(
        root(target), command, binds=binds, env=environment, cwd=REPO, timeout=timeout, check=check, capture=capture
    )


def venv(target: Target, python: str, *packages: str) -> str:
    """A fresh virtual environment of `python` under /work/venv-<python>, with `packages`; its python, in the root."""
    shutil.rmtree(work(target.name) / f"venv-{python}", ignore_errors=True)
    run(target, [python, "-m", "venv", f"{WORK}/venv-{python}"])
    py = f"{WORK}/venv-{python}/bin/python"
    if packages:
        run(target, [py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *packages])
    return py


def in_work(path: Path) -> str:
    """The path, in the root, of a file under build/<target>/ on the host."""
    for name in TARGETS:
        if path.is_relative_to(work(name)):
            return f"{WORK}/{path.relative_to(work(name)).as_posix()}"
    msg = f"{path} is not under a target's work folder"
    raise ValueError(msg)


def ensure(name: str) -> Target:
    """The target, its root made (or taken from the cache); exits with the reason where roots cannot be made here."""
    if reason := unavailable(name):
        sys.exit(f"{name}: {reason}")
    target = TARGETS[name]
    roots.ensure(root(target))
    return target


def failed(error: subprocess.CalledProcessError) -> str:
    return f"failed ({error.returncode}): {' '.join(map(str, error.cmd))}"


if __name__ == "__main__":
    # `why TARGET`: one line, "ok" or why its root cannot be made here (the sessions' skip);
    # `make TARGET ...`: make the roots ahead of the sessions (CI makes them while it builds).
    verb, names = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 2 else ("", [])
    if verb not in ("why", "make") or not names or not set(names) <= TARGETS.keys() or (verb == "why" and names[1:]):
        sys.exit(f"usage: python -m tools.make.in_root why TARGET | make TARGET ... ({', '.join(TARGETS)})")
    elif verb == "why":
        print(unavailable(names[0]) or "ok")
    else:
        for name in names:
            if why := unavailable(name):
                print(f"{name}: {why}")
            else:
                ensure(name)
                print(f"{name}: {root(TARGETS[name]).path}")
