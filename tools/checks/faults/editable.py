"""Faults of the editable install: its rebuild or its Cython step interrupted, 4 importers at once, Cython changed."""

from __future__ import annotations

import shutil
import time

from tools.checks.faults.bench import SIGNALS, Bench
from tools.checks.faults.core import (
    BUILD_LIMIT,
    EDITABLE,
    LOST,
    RECOVERED,
    SKIPPED,
    STOP_LIMIT,
    Row,
    Started,
    calls,
    phase_of,
    run,
    wait_for,
)
from tools.instruments.steps import edit
from tools.make.build import uv
from tools.make.envs import in_venv, venv
from tools.make.render import ROOT, render
from tools.registry.backends import backend as backend_of
from tools.registry.variants import default_builds

WORKERS = 4  # as pytest-xdist -n 4 starts them


def _requires(backend: str) -> list[str]:
    import tomllib

    text = (ROOT / backend / "pyproject.toml").read_text(encoding="utf-8")
    return [*tomllib.loads(text)["build-system"]["requires"], *backend_of(backend).dev_tools]


class Develop:
    """One backend's editable install in a venv of its own, built through the logging CC."""

    def __init__(self, bench: Bench, backend: str, label: str) -> None:
        self.bench, self.backend = bench, backend
        self.name = default_builds(backend=backend)[0].name
        base = bench.work / "editable" / backend / label
        self.project = render(backend, base / "project", self.name)
        self.py = venv(base / "venv", _requires(backend))
        self.tmp = base / "tmp"
        self.env = in_venv(self.py, bench.env(self.tmp))
        self.stamp = 0

    def install(self) -> None:
        spec = backend_of(self.backend)
        cmd = [self.py, "-m", "pip", "install", "--no-deps", "--no-build-isolation", *spec.editable_args]
        done = run([*cmd, "-e", str(self.project)], cwd=self.project, env=self.env)
        if done.rc != 0:
            msg = f"the editable install failed ({done.rc}): {done.tail()}"
            raise RuntimeError(msg)

    def edit(self) -> int:
        self.stamp += 1
        edit(self.project, self.name, "_core", self.stamp)
        return self.stamp

    def importer(self) -> list[str]:
        code = f"import {self.name}._core as m; print('seen', getattr(m, '_EDITED', None))"
        return [self.py, "-c", code]

    def seen(self, out: str) -> bool:
        return f"seen {self.stamp}" in out


def interrupted_rebuild(bench: Bench, backend: str, name: str) -> Row:
    """A .pyx edit; the import that rebuilds it gets `name` when its first compile starts; then import again."""
    row = Row(f"{name} during the rebuild on import", backend, EDITABLE, "repo", SKIPPED)
    if not backend_of(backend).rebuilds_on_import:
        row.note = "setuptools does not rebuild on import: its README says to run `nox -s develop` after a .pyx edit"
        return row
    t0 = time.perf_counter()
    dev = Develop(bench, backend, f"rebuild-{name}")
    dev.install()
    dev.edit()
    bench.cc_log.write_text("")
    proc = Started(dev.importer(), cwd=dev.project, env=dev.env)
    hit = wait_for(lambda: any(phase_of(c) == "compile" for c in calls(bench.cc_log)), proc) and proc.running()
    if hit:
        proc.signal(SIGNALS[name])
    first = proc.wait(STOP_LIMIT if hit else BUILD_LIMIT)
    notes = []
    if not hit:
        row.note = f"the moment was missed: the import ended ({first.rc}) before a compile was seen"
        return row
    if first.rc is None:
        notes.append(f"the import did not stop within {STOP_LIMIT:.0f} s")
    again = run(dev.importer(), cwd=dev.project, env=dev.env)
    if again.rc == 0 and dev.seen(again.out):
        row.outcome = RECOVERED if first.rc is not None else LOST
        notes.append("the next import rebuilt and has the edit")
    else:
        row.outcome = LOST
        notes.append(f"the next import ({again.rc}): {again.tail(4)}")
    return row.finish(notes, t0)


def interrupted_translation(bench: Bench, backend: str, name: str) -> Row:
    """A .pyx edit; the import that rebuilds it gets `name` while tools/cythonize.py translates; then import again."""
    row = Row(f"{name} during the translation on import", backend, EDITABLE, "repo", SKIPPED)
    if not backend_of(backend).rebuilds_on_import:
        row.note = "setuptools does not rebuild on import; its Cython step runs inside `nox -s develop`"
        return row
    t0 = time.perf_counter()
    dev = Develop(bench, backend, f"translate-{name}")
    dev.install()
    dev.edit()
    proc = Started(dev.importer(), cwd=dev.project, env=dev.env)
    # The driver marks its staging folder while Cython runs (build/<folder>/cythonize/unfinished).
    hit = wait_for(lambda: any(dev.project.glob("build/*/cythonize/unfinished")), proc, step=0.05) and proc.running()
    if not hit:
        row.note = "the moment was missed: the import ended before the translation was seen"
        return row
    proc.signal(SIGNALS[name])
    first = proc.wait(STOP_LIMIT)
    notes = [] if first.rc is not None else [f"the import did not stop within {STOP_LIMIT:.0f} s"]
    again = run(dev.importer(), cwd=dev.project, env=dev.env)
    if again.rc == 0 and dev.seen(again.out):
        row.outcome = RECOVERED if first.rc is not None else LOST
        notes.append("the next import translated again and has the edit")
    else:
        row.outcome = LOST
        notes.append(f"the next import ({again.rc}): {again.tail(4)}")
    return row.finish(notes, t0)


def importers_at_once(bench: Bench, backend: str) -> Row:
    """After a .pyx edit, 4 processes import the package at once: each must get the edit, none may fail."""
    t0 = time.perf_counter()
    row = Row(f"{WORKERS} imports at once after an edit", backend, EDITABLE, "repo", LOST)
    dev = Develop(bench, backend, "workers")
    dev.install()
    dev.edit()
    notes = []
    if not backend_of(backend).rebuilds_on_import:
        dev.install()  # what its README says to run after a .pyx edit, before the workers start
        notes.append("reinstalled first (`nox -s develop`), as the README says: setuptools does not rebuild on import")
    workers = [Started(dev.importer(), cwd=dev.project, env=dev.env) for _ in range(WORKERS)]
    done = [w.wait(BUILD_LIMIT) for w in workers]
    bad = [d for d in done if d.rc != 0 or not dev.seen(d.out)]
    if bad:
        notes.append(f"{len(bad)} of {WORKERS} failed or ran old code: " + " || ".join(d.tail(3) for d in bad[:2]))
    else:
        row.outcome = RECOVERED
        slowest = max(d.seconds for d in done)
        notes.append(f"all {WORKERS} got the edit, none failed (slowest {slowest:.1f} s)")
    return row.finish(notes, t0)


# Another Cython that the templates accept (cython>=3.1), older than the one uv picks today.
OTHER_CYTHON = "3.1.6"


def changed_cython(bench: Bench, backend: str) -> Row:
    """Cython swapped under an editable install: the next import (setuptools: reinstall) must build with the new one."""
    t0 = time.perf_counter()
    row = Row(f"Cython changed to {OTHER_CYTHON}", backend, EDITABLE, "repo", LOST)
    dev = Develop(bench, backend, "cython")
    dev.install()
    info = [dev.py, "-c", f"import {dev.name} as m; print('cython', m.build_info()['cython'])"]
    before = run(info, cwd=dev.project, env=dev.env)
    swap = run(
        [uv(), "pip", "install", "--quiet", "--python", dev.py, f"cython=={OTHER_CYTHON}"], cwd=dev.project, env=dev.env
    )
    if before.rc != 0 or swap.rc != 0:
        row.outcome, row.note = SKIPPED, f"could not set up: {before.tail(2)} {swap.tail(2)}"
        return row
    notes = [f"built with Cython {before.out.split('cython ')[-1].strip()}"]
    if not backend_of(backend).rebuilds_on_import:
        dev.install()
        notes.append("reinstalled (`nox -s develop`)")
    after = run(info, cwd=dev.project, env=dev.env)
    reported = after.out.split("cython ")[-1].strip() if after.rc == 0 else f"import failed: {after.tail(2)}"
    if reported == OTHER_CYTHON:
        row.outcome = RECOVERED
        notes.append(f"the next import rebuilt: build_info() reports {reported}")
        return row.finish(notes, t0)
    notes.append(f"the next import did not rebuild with the new Cython: build_info() reports {reported}")
    # Which remedy a README can give: the reinstall, then the reinstall into a new build folder.
    dev.install()
    again = run(info, cwd=dev.project, env=dev.env)
    if again.rc == 0 and again.out.split("cython ")[-1].strip() == OTHER_CYTHON:
        notes.append("a reinstall (`nox -s develop`) rebuilt with it")
        return row.finish(notes, t0)
    shutil.rmtree(dev.project / "build")
    dev.install()
    again = run(info, cwd=dev.project, env=dev.env)
    fresh = again.rc == 0 and again.out.split("cython ")[-1].strip() == OTHER_CYTHON
    notes.append(
        "a reinstall (`nox -s develop`) did not rebuild either; "
        + ("removing build/ and reinstalling did" if fresh else f"nor did removing build/ first: {again.tail(2)}")
    )
    return row.finish(notes, t0)
