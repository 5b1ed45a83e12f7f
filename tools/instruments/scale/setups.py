"""What scale times: the development setups (editable installs) and the clean wheel builds, as interleave's tasks.

Each clean build keeps its build folder until it is measured (meson-python
and scikit-build-core get `-Cbuild-dir`, setuptools builds in the project's
own build/), and records its phases, its peak memory and that folder's size.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tools.inspect.dists import extension_libs
from tools.instruments import steps
from tools.instruments.measure import Task, interleave
from tools.instruments.scale.record import Record
from tools.make.build import StepFailed, run, uv
from tools.make.render import ROOT
from tools.make.render import modules as listed_modules
from tools.registry.backends import BACKENDS, NAMES
from tools.registry.variants import Variant

try:
    from tools.inspect import phases
except ImportError:  # written alongside this; without it the builds are timed but not taken apart
    phases = None  # type: ignore[assignment]

# The builds timed: each template as it is, with Cython's utility code in one module of its own (the
# shared-utility switch), and with one compile job for its parallel efficiency.
PARALLEL = [Variant(b) for b in NAMES]
SHARED = [Variant(b, utility="shared") for b in NAMES]
ONE_JOB = [Variant(b, jobs=1) for b in NAMES]
SERIAL = {v.label: Variant(v.backend, jobs=1).label for v in PARALLEL}
# The development setups (editable installs): each template as it is, and shared. A run's own list is builds():
# with a template as it was at a commit beside each that changed since (--old-templates), shared left out or not.
DEV = [*PARALLEL, *SHARED]
DEV_KINDS = ("edit", "edit pxd", "import")
# First guesses of the seconds a module adds, for the estimate of the time left only.
GUESS_PER_MODULE = 2.4  # CPU seconds: 0.8-1.4 s of wall per module on 2 cores, 1.5-2.8 with one job (2026-12-05)
GUESS_EDIT = 4.0


@dataclass(frozen=True)
class OldTemplate(Variant):
    """A backend's template as it was at a git commit (--old-templates), built as the template is: `meson_old`."""

    commit: str = ""  # the full hash; its template folder is exported from git into the run's folder

    @property
    def label(self) -> str:
        return f"{super().label}_old"


# The labels an old twin can have, in the order the report shows them (after the templates as they are).
OLD = [OldTemplate(b) for b in NAMES]


def changed_templates(rev: str) -> list[str]:
    """The backends whose template folder in the working tree differs from `rev`'s: those worth an old twin."""
    differs = [
        subprocess.run(["git", "diff", "--quiet", rev, "--", b], cwd=ROOT, check=False).returncode for b in NAMES
    ]
    if any(code not in (0, 1) for code in differs):
        msg = f"git diff {rev} failed: is it a commit of this repository?"
        raise ValueError(msg)
    return [b for b, code in zip(NAMES, differs, strict=True) if code == 1]


def builds(old: Sequence[Variant] = (), shared: bool = True) -> list[Variant]:
    """The variants built at every N and set up for the edit loop: the templates, their old twins, shared (unless not)."""
    return [*PARALLEL, *old, *(SHARED if shared else [])]


def template(v: Variant, work: Path) -> Path | None:
    """The template folder `v` renders: None for the working tree's; an old twin's, exported from git once per run."""
    if not isinstance(v, OldTemplate):
        return None
    tree = work / f"templates-{v.commit[:12]}"
    if not tree.exists():
        archive = subprocess.run(["git", "archive", v.commit, "--", *NAMES], cwd=ROOT, check=True, capture_output=True)
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tree, filter="data")
    return tree / v.backend


def package_name(v: Variant, n: int) -> str:
    """scale_meson_n8, scale_meson_shared_n8: one-job builds and old twins build the same package as the template's."""
    return f"scale_{v.backend}{'_shared' if v.utility == 'shared' else ''}_n{n}"


def wheel_sizes(wheel: Path) -> dict[str, int]:
    """The wheel's size, and what it unpacks to: the installed size, RECORD aside."""
    with zipfile.ZipFile(wheel) as z:
        installed = sum(i.file_size for i in z.infolist())
    return {"wheel_bytes": wheel.stat().st_size, "installed_bytes": installed}


def build_requires(project: Path) -> list[str]:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    return tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]["requires"]


def guess_build(backend: str, n: int, jobs: int | None = None) -> float:
    cores = 1 if jobs == 1 else (os.cpu_count() or 1)
    return BACKENDS[backend].seconds + GUESS_PER_MODULE * n / min(cores, n)


@dataclass
class DevSetup:
    """An editable install of one variant (PARALLEL or SHARED) with n modules, in a virtual environment of its own."""

    variant: Variant
    n: int
    project: Path
    python: str
    name: str
    record: Record
    stamp: int = 0
    installed: bool = False
    seen: dict[str, list[bool]] = field(default_factory=lambda: {"pyx": [], "pxd": []})

    @property
    def backend(self) -> str:
        return self.variant.backend

    @property
    def label(self) -> str:
        return self.variant.label

    def install(self) -> float:
        args, env = self.variant.settings(self.name)
        seconds = steps.editable_install(self.python, self.backend, self.project, args, env)
        self.installed = True
        return seconds

    def _reinstall(self) -> float:
        """setuptools compiles at install time only: its README says to install again after an edit (same settings)."""
        return 0.0 if BACKENDS[self.backend].rebuilds_on_import else self.install()

    def edit_until_seen(self) -> float:
        """Edit _core.pyx; seconds until a fresh import sees the edit."""
        self.stamp += 1
        steps.edit(self.project, self.name, "_core", self.stamp)
        reinstall = self._reinstall()
        seconds, seen = steps.probe(self.python, self.name, ["_core"], self.stamp)
        self.record.note(("edit", self.label, self.n), seen=seen)
        return reinstall + seconds

    def edit_pxd_until_seen(self) -> float:
        """Edit _kernels.pxd; seconds until a fresh import sees the edit in every module, second level included."""
        self.stamp += 1
        steps.edit_pxd(self.project, self.name, self.stamp)
        reinstall = self._reinstall()
        modules = listed_modules(self.project, self.backend)
        seconds, seen = steps.probe(self.python, self.name, modules, self.stamp, "pxd")
        self.record.note(("edit pxd", self.label, self.n), seen=seen)
        return reinstall + seconds

    def import_unchanged(self) -> float:
        """The whole package: every compiled module (and the shared utility module, which they import)."""
        return steps.time_import(self.python, self.name, 3, listed_modules(self.project, self.backend))


def dev_setup(v: Variant, n: int, work: Path, record: Record) -> DevSetup:
    """Render the project and make its virtual environment (uv, with pip) holding the build requirements."""
    backend, name = v.backend, package_name(v, n)
    project = steps.fresh(backend, work, name, modules=n, stamps=True, template=template(v, work))
    venv = project.parent / f"venv-{v.label}-{n}"
    run([uv(), "venv", "--quiet", "--seed", "--python", sys.executable, str(venv)])
    python = str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))
    requires = [*build_requires(project), *BACKENDS[backend].dev_tools]
    run([uv(), "pip", "install", "--quiet", "--python", python, *requires])
    return DevSetup(v, n, project, python, name, record)


def merge_env(base: dict[str, str], more: dict[str, str]) -> dict[str, str]:
    """Both environments; where both set a *FLAGS or *ARGS variable, both values, space-separated."""
    out = dict(base)
    for k, v in more.items():
        joins = k.endswith(("FLAGS", "ARGS")) and out.get(k) not in (None, "", v)
        out[k] = f"{out[k]} {v}" if joins else v
    return out


def kept_build_dir(backend: str, project: Path, args: list[str]) -> tuple[list[str], Path]:
    """Arguments that keep the build folder where it can be measured, and that folder."""
    for arg in args:  # the phases' own arguments may name it already
        if arg.startswith("-Cbuild-dir="):
            return [], Path(arg.split("=", 1)[1])
    if backend == "setuptools":  # bdist_wheel's build_base: build/ in the project
        return [], project / "build"
    folder = project / "build-kept"
    return [a.format(build_dir=folder) for a in BACKENDS[backend].inspect_args if "{build_dir}" in a], folder


def wheel_task(v: Variant, n: int, work: Path, record: Record) -> Task:
    """A clean isolated wheel build of `v` with n modules: seconds; phases, peak memory, build folder, libraries."""
    key = ("wheel", v.label, n)

    def build() -> float:
        name = package_name(v, n)
        project = steps.fresh(v.backend, work, name, modules=n, template=template(v, work))
        logdir = project.parent / f"{project.name}-phases"
        try:
            out = project / "wheel-out"
            args, env = v.settings(name)
            if phases is not None:
                p_args, p_env = phases.instrument(v.backend, logdir)
                args, env = [*args, *p_args], merge_env(env, p_env)
            keep, folder = kept_build_dir(v.backend, project, args)
            args = [*args, *keep]
            start = time.time()
            if phases is not None:
                with phases.PeakMemory() as peak:
                    seconds = steps.wheel(sys.executable, project, out, args=args, env=env)
                details = {
                    "phases": phases.read(logdir, [*steps.module_names(n), "_cyutility"], start, time.time()),
                    "peak_bytes": peak.peak_bytes,
                    "disk_bytes": phases.disk_usage(folder) if folder.exists() else None,
                }
            else:
                seconds = steps.wheel(sys.executable, project, out, args=args, env=env)
                details = {"phases": None, "peak_bytes": None, "disk_bytes": None}
            wheel = next(out.glob("*.whl"))
            details.update(libs=extension_libs(wheel), **wheel_sizes(wheel))
            if (v.utility == "shared") != ("_cyutility" in details["libs"]):  # not the build the column names
                msg = f"{v.label}, N={n}: the wheel's modules are {sorted(details['libs'])}: _cyutility is {'missing' if v.utility == 'shared' else 'there'}"
                raise StepFailed(msg)
            record.note(key, **details)
            return seconds
        finally:
            shutil.rmtree(project, ignore_errors=True)
            shutil.rmtree(logdir, ignore_errors=True)

    return Task(key, f"{v.label} wheel, N={n}", build, guess_build(v.backend, n, v.jobs))


def estimate(kind: str, name: str, n: int) -> float:
    """A first guess of a task's seconds, for the time left until it has run once (and --dry-run)."""
    backend = name.removesuffix("_old").removesuffix("_j1").removesuffix("_shared")
    jobs = 1 if name.endswith("_j1") else None
    build = guess_build(backend, n, jobs)
    rebuild_all = build - BACKENDS[backend].seconds + GUESS_EDIT
    if kind == "import":
        return 1.0
    if kind in ("edit", "edit pxd") and backend == "setuptools":  # a reinstall compiles every module
        return build
    return {"edit": GUESS_EDIT, "edit pxd": rebuild_all, "editable install": build + 10.0}.get(kind, build)


def dev_tasks(s: DevSetup) -> list[Task]:
    b, n = s.label, s.n
    return [
        Task(("edit", b, n), f"{b} edit one .pyx, N={n}", s.edit_until_seen, estimate("edit", b, n)),
        Task(("edit pxd", b, n), f"{b} edit the .pxd, N={n}", s.edit_pxd_until_seen, estimate("edit pxd", b, n)),
        Task(("import", b, n), f"{b} import, N={n}", s.import_unchanged, 1.0),
    ]


def plan(
    counts: list[int], edit_counts: list[int], one_job_counts: list[int], variants: Sequence[Variant] = DEV
) -> list[tuple[str, str, int]]:
    """Every task key of a run: wheels of `variants` (builds()) at every N, one-job wheels at some, the edit loops."""
    keys = [("wheel", v.label, n) for v in variants for n in counts]
    keys += [("wheel", v.label, n) for v in ONE_JOB for n in one_job_counts]
    keys += [(kind, v.label, n) for v in variants for n in edit_counts for kind in DEV_KINDS]
    return keys


def installs(edit_counts: list[int], variants: Sequence[Variant] = DEV) -> list[tuple[str, str, int]]:
    """The editable installs a run makes (timed once each): one per development setup."""
    return [("editable install", v.label, n) for v in variants for n in edit_counts]


def measure(args, record: Record, work: Path) -> None:
    """Make the setups that still have work, then run every pending (task, repetition), interleaved."""
    done = record.done()
    wanted = set(plan(args.modules, args.edit_modules, args.one_job_modules, args.variants))

    def pending(key: tuple) -> bool:
        return key in wanted and len(done.get(key, [])) < args.reps

    needed = [
        (v, n) for v in args.variants for n in args.edit_modules if any(pending((k, v.label, n)) for k in DEV_KINDS)
    ]
    if needed:
        print(f"preparing {len(needed)} development setups (virtual environments)", flush=True)
    setups = {(v.label, n): dev_setup(v, n, work, record) for v, n in needed}
    install_tasks = [
        Task(("editable install", b, n), f"{b} editable install, N={n}", s.install, estimate("editable install", b, n))
        for (b, n), s in setups.items()
    ]
    if install_tasks:
        interleave(install_tasks, 1, args.seed, "editable installs", on_result=lambda k, _r, s: record.keep_first(k, s))
    tasks = [wheel_task(v, n, work, record) for v in args.variants for n in args.modules]
    tasks += [wheel_task(v, n, work, record) for v in ONE_JOB for n in args.one_job_modules]
    for s in setups.values():
        tasks += dev_tasks(s)
    tasks = [t for t in tasks if t.key in wanted]
    interleave(tasks, args.reps, args.seed, "scale", done=done, on_result=record.add)
