"""Render a backend template plus the shared core into a standalone project.

One step serves both the comparison builds (`build/<backend>`, package
`mathcore_<backend>`) and `nox -s new` (a user's project, any name).
"""

from __future__ import annotations

import keyword
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = "mathcore"
BACKENDS = ("setuptools", "meson", "cmake")
# What a checkout of shared/ may hold after someone compiled it in place.
_NOT_SOURCES = shutil.ignore_patterns("__pycache__", "*.c", "*.so", "*.pyd", "*.html")


def variant(backend: str) -> str:
    """Import name of the comparison build of `backend`: mathcore_<backend>."""
    return f"{PLACEHOLDER}_{backend}"


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


def _rename(text: str, name: str) -> str:
    return text.replace(PLACEHOLDER, name).replace(PLACEHOLDER.upper(), name.upper())


def render(backend: str, dest: Path, name: str, *, git: bool = True) -> Path:
    """Write `backend`'s template and the core, renamed to `name`, into an empty `dest`."""
    if backend not in BACKENDS:
        msg = f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}"
        raise ValueError(msg)
    check_name(name)
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        msg = f"{dest} is not empty"
        raise FileExistsError(msg)
    shutil.copytree(ROOT / backend, dest, dirs_exist_ok=True, ignore=_NOT_SOURCES)
    shutil.copytree(ROOT / "shared" / PLACEHOLDER, dest / "src" / name, ignore=_NOT_SOURCES)
    shutil.copy2(ROOT / "LICENSE", dest / "LICENSE")
    for path in sorted(dest.rglob("*")):
        if path.is_file():
            path.write_text(_rename(path.read_text(encoding="utf-8"), name), encoding="utf-8")
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


# Where each template lists its compiled modules: the build file, and the line
# that holds the list. `add_modules` appends to it, as a user would by hand.
_MODULE_LISTS = {
    "setuptools": ("setup.py", re.compile(r"^(MODULES = \[)(.*)(\])$", re.MULTILINE), '"{}"', ", "),
    "meson": ("meson.build", re.compile(r"^(modules = \[)(.*)(\])$", re.MULTILINE), "'{}'", ", "),
    "cmake": ("CMakeLists.txt", re.compile(r"^(set\(MODULES )(.*)(\))$", re.MULTILINE), "{}", " "),
}


def modules(project: Path, backend: str) -> list[str]:
    """The compiled modules that a rendered project's build file lists."""
    file, pattern, _, sep = _MODULE_LISTS[backend]
    match = pattern.search((Path(project) / file).read_text(encoding="utf-8"))
    if match is None:
        msg = f"{file} of {project} has no module list"
        raise ValueError(msg)
    return [item.strip().strip("'\"") for item in match.group(2).split(sep.strip() or None) if item.strip()]


def add_modules(project: Path, backend: str, names: Sequence[str]) -> None:
    """Add `names` to the module list of a rendered project (each needs src/<package>/<name>.pyx)."""
    file, pattern, quote, sep = _MODULE_LISTS[backend]
    path = Path(project) / file
    text = path.read_text(encoding="utf-8")
    items = sep.join(quote.format(name) for name in [*modules(project, backend), *names])
    path.write_text(pattern.sub(lambda m: f"{m.group(1)}{items}{m.group(3)}", text, count=1), encoding="utf-8")
