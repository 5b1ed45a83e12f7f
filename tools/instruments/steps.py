"""The build and development steps that the instruments time, on fresh rendered copies of a template.

- `fresh`: render a template (optionally with N compiled modules: copies of
  the core's `_core.pyx` named `_core_1.pyx` ... `_core_<N-2>.pyx` on two
  levels, see `module_graph`);
- `wheel`: a clean wheel build, by default the user's path (`uv build
  --wheel`, isolated), of a fresh copy; `variant_wheel`: that, of a variant;
- `editable_install`, `edit`, `probe`, `time_import`: the development loop;
- `tool_versions`: the versions of the tools that did all this.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tools.make.build import build, run, uv
from tools.make.render import add_modules, commit, render
from tools.registry.backends import PLACEHOLDER
from tools.registry.backends import backend as backend_of

if TYPE_CHECKING:
    from tools.registry.variants import Variant


def module_names(count: int) -> list[str]:
    """The compiled modules of a package with `count` of them: _core, _kernels, _core_1, ..., _core_<count-2>."""
    return ["_core", "_kernels", *(f"_core_{i}" for i in range(1, count - 1))]


def module_graph(count: int) -> dict[str, str]:
    """What each compiled module cimports, for a package of `count` modules: two levels around `_kernels`.

    `_core` and every odd copy (`_core_1`, `_core_3`, ...) cimport `_kernels`
    (the star); each odd copy also has a .pxd that declares a cdef function
    of its own and passes on what it cimports from `_kernels`, and the even
    copy after it (`_core_2` after `_core_1`, ...) cimports from that .pxd
    only: `_core_2` -> `_core_1` -> `_kernels`, so an edit of `_kernels.pxd`
    reaches it only through a dependency of a dependency.
    """
    graph = {"_kernels": ""}
    for name in module_names(count):
        if name == "_kernels":
            continue
        index = int(name.rpartition("_")[2]) if name != "_core" else 0
        graph[name] = f"_core_{index - 1}" if index and index % 2 == 0 else "_kernels"
    return graph


# What `stamps` adds so that an edit of _kernels.pxd can be seen from Python:
# a constant in the .pxd, which every module that cimports it exposes.
PXD_STAMP = "\ncdef enum:\n    PXD_STAMP = 0\n"
EXPOSE_STAMP = "\nfrom .{source} cimport PXD_STAMP\n_PXD_EDITED = PXD_STAMP\n"
# The first level's own function, declared in its .pxd (the second level calls it), and its definition.
LEVEL_DECLARATION = "\ncdef double level_sum(long long start, long long num) noexcept nogil\n"
LEVEL_DEFINITION = """
cdef double level_sum(long long start, long long num) noexcept nogil:
    return block_sum(start, num)
"""
LEVEL_USE = """
def _level_sum(long long start, long long num):
    return level_sum(start, num)
"""
KERNELS_CIMPORT = re.compile(r"^from \._kernels cimport (.+)$", re.MULTILINE)


def _two_levels(package: Path, graph: dict[str, str], stamps: bool) -> None:
    """Give each first-level copy its .pxd and point each second-level copy's cimport at it (see module_graph)."""
    core = (package / "_core.pyx").read_text(encoding="utf-8")
    found = KERNELS_CIMPORT.search(core)
    if found is None:
        msg = "_core.pyx has no `from ._kernels cimport ...` line to build the second level from"
        raise ValueError(msg)
    names = found.group(1)
    hubs = {source for source in graph.values() if source.startswith("_core_")}
    for hub in sorted(hubs):
        # The .pxd passes on what it cimports: the second level reaches _kernels through it.
        again = ", PXD_STAMP" if stamps else ""
        pxd = f"from ._kernels cimport {names}{again}\n{LEVEL_DECLARATION}"
        (package / f"{hub}.pxd").write_text(pxd, encoding="utf-8")
        with (package / f"{hub}.pyx").open("a", encoding="utf-8") as pyx:
            pyx.write(LEVEL_DEFINITION)
    for module, source in graph.items():
        if source in hubs:
            text = KERNELS_CIMPORT.sub(f"from .{source} cimport {names}, level_sum", core, count=1)
            (package / f"{module}.pyx").write_text(text + LEVEL_USE, encoding="utf-8")


def fresh(
    backend: str,
    work: Path,
    name: str | None = None,
    modules: int = 2,
    git: bool = False,
    stamps: bool = False,
    template: Path | None = None,
) -> Path:
    """A clean rendered copy of `backend`'s template in a new folder under `work`, with `modules` compiled modules.

    The copies of _core.pyx cimport _kernels on two levels (module_graph).
    With `stamps`, every module exposes a constant of _kernels.pxd, for
    `edit_pxd`, the second level through its first-level .pxd. `template`:
    a copy of the template folder to render instead of the checkout's (an
    older commit's, exported by scale --old-templates).
    """
    name = name or f"{PLACEHOLDER}_{backend}"
    dest = render(backend, Path(tempfile.mkdtemp(dir=work, prefix=f"{backend}-")), name, git=False, template=template)
    extra = module_names(modules)[2:]
    graph = module_graph(modules)
    package = dest / "src" / name
    for module in extra:
        shutil.copy2(package / "_core.pyx", package / f"{module}.pyx")
    _two_levels(package, graph, stamps)
    add_modules(dest, backend, extra)
    if stamps:
        with (package / "_kernels.pxd").open("a", encoding="utf-8") as pxd:
            pxd.write(PXD_STAMP)
        with (package / "_kernels.pyx").open("a", encoding="utf-8") as pyx:
            pyx.write("\n_PXD_EDITED = PXD_STAMP\n")
        for module in ["_core", *extra]:
            with (package / f"{module}.pyx").open("a", encoding="utf-8") as pyx:
                pyx.write(EXPOSE_STAMP.format(source=graph[module]))
    if git:  # meson-python builds its sdist from what git tracks
        commit(dest, f"Start {name} from the {backend} template")
    return dest


def wheel(
    py: str, project: Path, out: Path, *, frontend: str = "uv", isolated: bool = True, args=(), env=None
) -> float:
    """A clean wheel build of `project` into `out` with uv or pip (no sdist); return the wall time."""
    return build(project, out, python=py, frontend=frontend, sdist=False, isolated=isolated, args=args, env=env)


def variant_wheel(py: str, v: Variant, work: Path) -> tuple[float, Path]:
    """A clean wheel build of a fresh copy of v's template by `py`: its wall time, and the wheel, kept under work/wheels/."""
    project = fresh(v.backend, work, name=v.name)
    out = project / "wheel-out"
    args, env = v.settings()
    seconds = wheel(py, project, out, args=args, env=env)
    kept = work / "wheels" / v.folder
    shutil.rmtree(kept, ignore_errors=True)
    kept.mkdir(parents=True)
    return seconds, Path(shutil.copy2(next(out.glob("*.whl")), kept))


def editable_install(
    py: str, backend: str, project: Path, args: Sequence[str] = (), env: Mapping[str, str] | None = None
) -> float:
    """`pip install --no-build-isolation -e project` (the templates' development setup); return the wall time.

    args, env: a variant's settings (Variant.settings), for pip and the build.
    """
    cmd = [py, "-m", "pip", "install", "--no-deps", "--no-build-isolation", *backend_of(backend).editable_args, *args]
    return run([*cmd, "-e", str(project)], env={**os.environ, **env} if env else None)[0]


def uninstall(py: str, *names: str) -> None:
    """pip uninstall `names` (no error if one is not installed)."""
    if names:
        run([py, "-m", "pip", "uninstall", "-y", *names])


def edit(project: Path, name: str, module: str, stamp: int) -> None:
    """Edit the module's .pyx as a developer would: set a module-level _EDITED = stamp."""
    pyx = project / "src" / name / f"{module}.pyx"
    text = re.sub(r"\n_EDITED = \d+\n$", "\n", pyx.read_text(encoding="utf-8"))
    pyx.write_text(f"{text}\n_EDITED = {stamp}\n", encoding="utf-8")


def edit_pxd(project: Path, name: str, stamp: int) -> None:
    """Edit _kernels.pxd (made by fresh(stamps=True)): its constant becomes `stamp`."""
    pxd = project / "src" / name / "_kernels.pxd"
    text = pxd.read_text(encoding="utf-8")
    pxd.write_text(re.sub(r"PXD_STAMP = \d+", f"PXD_STAMP = {stamp}", text), encoding="utf-8")


def probe(py: str, name: str, modules: Sequence[str], stamp: int, kind: str = "pyx") -> tuple[float, bool]:
    """Wall time of a fresh interpreter importing name.<each module>, and whether every one sees edit `stamp`."""
    attribute = "_EDITED" if kind == "pyx" else "_PXD_EDITED"
    code = (
        "import importlib\n"
        f"seen = [getattr(importlib.import_module('{name}.' + m), '{attribute}', None) == {stamp} for m in {list(modules)!r}]\n"
        "print('edit seen:', all(seen))\n"
    )
    seconds, out = run([py, "-c", code])
    return seconds, "edit seen: True" in out


def time_import(py: str, module: str, repeats: int = 5, submodules: Sequence[str] = ()) -> float:
    """Median wall time of a fresh interpreter importing `module` (and its `submodules`: the whole package)."""
    names = ", ".join([module, *(f"{module}.{m}" for m in submodules)])
    return statistics.median(run([py, "-c", f"import {names}"])[0] for _ in range(repeats))


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
