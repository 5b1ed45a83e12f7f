"""The build and development steps that compare and scale time, on fresh rendered copies of a template.

- `fresh`: render a template (optionally with N compiled modules: copies of
  the core's `_core.pyx` named `_core_1.pyx` ... `_core_<N-1>.pyx`);
- `build_wheel`: a clean wheel build, by default the user's path (`uv build
  --wheel`, isolated); `variant_wheel`: that, of a variant of tools/variants.py;
- `editable_install`, `edit`, `probe`, `time_import`: the development loop;
- `extension_libs`: each extension module of a wheel and the libraries it links;
- `tool_versions`: the versions of the tools that did all this.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tools.elf import needed
from tools.measure import run
from tools.render import add_modules, commit, render, variant

if TYPE_CHECKING:
    from tools.variants import Variant

# Editable installs: meson-python needs no option and rebuilds on import by
# itself; scikit-build-core rebuilds on import only with editable.rebuild and
# a persistent build dir; setuptools never rebuilds (reinstall to see an edit).
EDITABLE_ARGS = {
    "setuptools": [],
    "meson": [],
    "cmake": ["-Ceditable.rebuild=true", "-Cbuild-dir=build/{wheel_tag}"],
}
EXTENSION = re.compile(r"(?P<module>[^/.]+)\.[^/]*\.(so|pyd)$")


def uv() -> str:
    """The uv executable, or stop with what to install."""
    found = shutil.which("uv")
    if not found:
        sys.exit("uv is not installed in this environment")
    return found


def module_names(count: int) -> list[str]:
    """The compiled modules of a package with `count` of them: _core, _core_1, ..., _core_<count-1>."""
    return ["_core", *(f"_core_{i}" for i in range(1, count))]


def fresh(backend: str, work: Path, name: str | None = None, modules: int = 1, git: bool = False) -> Path:
    """A clean rendered copy of `backend`'s template in a new folder under `work`, with `modules` modules."""
    name = name or variant(backend)
    dest = render(backend, Path(tempfile.mkdtemp(dir=work, prefix=f"{backend}-")), name, git=False)
    extra = module_names(modules)[1:]
    package = dest / "src" / name
    for module in extra:
        shutil.copy2(package / "_core.pyx", package / f"{module}.pyx")
    add_modules(dest, backend, extra)
    if git:  # meson-python builds its sdist from what git tracks
        commit(dest, f"Start {name} from the {backend} template")
    return dest


def build_wheel(
    py: str,
    project: Path,
    out: Path,
    *,
    frontend: str = "uv",
    isolated: bool = True,
    args: Sequence[str] = (),
    env: dict | None = None,
) -> float:
    """Build a wheel of `project` into `out` with uv or pip; return the wall time."""
    iso = [] if isolated else ["--no-build-isolation"]
    if frontend == "uv":
        cmd = [uv(), "build", "--wheel", "--python", py, *iso, *args, "-o", str(out), str(project)]
    else:
        cmd = [py, "-m", "pip", "wheel", "--no-deps", *iso, *args, "-w", str(out), str(project)]
    return run(cmd, env=env)[0]


def variant_wheel(py: str, v: Variant, work: Path) -> tuple[float, Path]:
    """A clean wheel build of a fresh copy of v's template by `py`: its wall time, and the wheel, kept under work/wheels/."""
    project = fresh(v.backend, work, name=v.name)
    out = project / "wheel-out"
    args, env = v.settings()
    # uv build takes the backend's settings as -C KEY=VALUE, as `python -m build` does.
    seconds = build_wheel(py, project, out, args=args, env={**os.environ, **env})
    kept = work / "wheels" / v.folder
    shutil.rmtree(kept, ignore_errors=True)
    kept.mkdir(parents=True)
    return seconds, Path(shutil.copy2(next(out.glob("*.whl")), kept))


def editable_install(py: str, backend: str, project: Path) -> float:
    """`pip install --no-build-isolation -e project` (the templates' development setup); return the wall time."""
    cmd = [py, "-m", "pip", "install", "--no-deps", "--no-build-isolation", *EDITABLE_ARGS[backend]]
    return run([*cmd, "-e", str(project)])[0]


def uninstall(py: str, *names: str) -> None:
    """pip uninstall `names` (no error if one is not installed)."""
    if names:
        run([py, "-m", "pip", "uninstall", "-y", *names])


def edit(project: Path, name: str, module: str, stamp: int) -> None:
    """Edit the module's .pyx as a developer would: set a module-level _EDITED = stamp."""
    pyx = project / "src" / name / f"{module}.pyx"
    text = re.sub(r"\n_EDITED = \d+\n$", "\n", pyx.read_text(encoding="utf-8"))
    pyx.write_text(f"{text}\n_EDITED = {stamp}\n", encoding="utf-8")


def probe(py: str, name: str, module: str, stamp: int) -> tuple[float, bool]:
    """Wall time of a fresh interpreter importing name.module, and whether it sees edit `stamp`."""
    code = f"import {name}.{module} as m; print('edit seen:', getattr(m, '_EDITED', None) == {stamp})"
    seconds, out = run([py, "-c", code])
    return seconds, "edit seen: True" in out


def time_import(py: str, module: str, repeats: int = 5) -> float:
    """Median wall time of a fresh interpreter importing `module`."""
    return statistics.median(run([py, "-c", f"import {module}"])[0] for _ in range(repeats))


def extension_libs(wheel: Path) -> dict[str, list[str] | None]:
    """Each extension module in the wheel -> the libraries it links (DT_NEEDED; None if not ELF)."""
    libs = {}
    with zipfile.ZipFile(wheel) as zf, tempfile.TemporaryDirectory() as tmp:
        for member in zf.namelist():
            if match := EXTENSION.search(member):
                libs[match["module"]] = needed(Path(zf.extract(member, tmp)))
    return dict(sorted(libs.items()))


def tool_versions(py: str) -> dict[str, str]:
    """Versions of the frontends, backends and compilers in `py`'s environment (and uv, gcc on PATH)."""
    code = (
        "import importlib.metadata as m\n"
        "for d in ('pip','setuptools','Cython','meson-python','meson','scikit-build-core','cython-cmake','cmake','ninja'):\n"
        "    try: print(d, m.version(d))\n"
        "    except m.PackageNotFoundError: print(d, '-')\n"
    )
    versions = dict(line.split(" ", 1) for line in run([py, "-c", code])[1].splitlines())
    versions["uv"] = run([uv(), "--version"])[1].split()[1]
    versions["gcc"] = run(["gcc", "-dumpfullversion"])[1].strip() if shutil.which("gcc") else "-"
    return versions
