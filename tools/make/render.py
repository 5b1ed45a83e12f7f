"""Render a backend template plus the shared core into a standalone project.

One step serves both the comparison builds (`build/<folder>`, package
`mathcore_<label>`) and `nox -s new` (a user's project, any name).
"""

from __future__ import annotations

import keyword
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tools.registry.backends import PLACEHOLDER
from tools.registry.backends import backend as backend_of

ROOT = Path(__file__).resolve().parents[2]
# What a checkout of shared/ may hold after someone compiled it in place.
_BUILT = shutil.ignore_patterns("__pycache__", "*.so", "*.pyd", "*.html")


def _not_sources(folder: str, names: list[str]) -> set[str]:
    """What compiling in place leaves in `folder`, Cython's C beside each .pyx included; never a hand-written C file."""
    pyx = {Path(name).stem for name in names if name.endswith(".pyx")}
    return set(_BUILT(folder, names)) | {n for n in names if n.endswith((".c", ".cpp")) and Path(n).stem in pyx}


def check_name(name: str) -> None:
    """Refuse a name that is not both a Python identifier and a distribution name."""
    if not (
        name.isidentifier()
        and name.isascii()
        and not keyword.iskeyword(name)
        and re.fullmatch(r"[a-z][a-z0-9_]*", name)
    ):
        msg = (
            f"{name!r} is not a usable package name: use lower-case letters, digits "
            "and underscores, starting with a letter (it is both the import name "
            "and the distribution name)"
        )
        raise ValueError(msg)


def rename(text: str, name: str) -> str:
    """`text` with the placeholder package name replaced by `name` (and its upper-case form)."""
    return text.replace(PLACEHOLDER, name).replace(PLACEHOLDER.upper(), name.upper())


def render(backend_name: str, dest: Path, name: str, *, git: bool = True, template: Path | None = None) -> Path:
    """Write `backend`'s template and the core, renamed to `name`, into an empty `dest`.

    template: the template folder to copy instead of the checkout's (scale times one exported from an older commit).
    """
    backend = backend_of(backend_name).name
    check_name(name)
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        msg = f"{dest} is not empty"
        raise FileExistsError(msg)
    shutil.copytree(template or ROOT / backend, dest, dirs_exist_ok=True, ignore=_not_sources)
    shutil.copytree(ROOT / "shared" / PLACEHOLDER, dest / "src" / name, ignore=_not_sources)
    shutil.copy2(ROOT / "LICENSE", dest / "LICENSE")
    for path in sorted(dest.rglob("*")):
        if path.is_file():
            path.write_text(rename(path.read_text(encoding="utf-8"), name), encoding="utf-8")
    if git:
        commit(dest, f"Start {name} from the {backend} template")
    return dest


def commit(dest: Path, message: str, paths: Sequence[str] = (".",)) -> None:
    """`git init` in `dest` (harmless in an existing repository), add `paths`, commit."""

    # meson-python builds its sdist from what git tracks, so the project
    # needs a repository with a commit; the others do not mind one.
    if not shutil.which("git"):
        msg = "git is not on PATH: install it (meson-python builds its sdist from a git repository)"
        raise RuntimeError(msg)

    def run(*args: str) -> None:
        subprocess.run(["git", *args], cwd=dest, check=True, capture_output=True)

    configured = subprocess.run(["git", "config", "user.email"], cwd=dest, capture_output=True, check=False)
    who = [] if configured.returncode == 0 else ["-c", "user.name=template", "-c", "user.email=template@invalid"]
    run("init", "--quiet")
    run("add", "--", *paths)
    staged = subprocess.run(["git", "diff", "--cached", "--quiet"], cwd=dest, check=False)
    if staged.returncode != 0:  # else nothing changed since the last commit
        run(*who, "commit", "--quiet", "--no-verify", "-m", message)


def modules(project: Path, backend: str) -> list[str]:
    """The compiled modules that a rendered project's build file lists."""
    listing = backend_of(backend).modules
    return listing.read((Path(project) / listing.file).read_text(encoding="utf-8"))


def add_modules(project: Path, backend: str, names: Sequence[str]) -> None:
    """Add `names` to the module list of a rendered project (each needs src/<package>/<name>.pyx), as a user would."""
    listing = backend_of(backend).modules
    path = Path(project) / listing.file
    text = path.read_text(encoding="utf-8")
    path.write_text(listing.write(text, [*listing.read(text), *names]), encoding="utf-8")
