"""tools/checks/faults: which phase a compiler call is, what counts as a complete artifact, the plan, the report."""

from __future__ import annotations

import io
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from tools.checks.faults import bench, cases, cli
from tools.checks.faults.core import (
    LOST,
    RECOVERED,
    Row,
    Started,
    artifact_problems,
    known,
    phase_of,
    temporary_leftovers,
)

# Calls of the C compiler as each backend makes them (the wrapper logs "$*").
CALLS = {
    "configure": [
        "sanitycheckc.c -o sanitycheckc.exe",  # meson
        "-E -dM - meson-private/tmpabc/testfile.c",
        "-o CMakeFiles/cmTC_1a2b3.dir/CMakeCCompilerABI.c.o -c /usr/share/cmake/Modules/CMakeCCompilerABI.c",
        "CMakeCCompilerId.c",
        "-fPIC -c /tmp/tmpx/omp.c -o /tmp/tmpx/tmp/tmpx/omp.o -fopenmp",  # setup.py's OpenMP probe
        "/tmp/tmpx/tmp/tmpx/omp.o -o /tmp/tmpx/omp -fopenmp",
    ],
    "compile": [
        "-Isrc/pkg/_core.cpython-311-x86_64-linux-gnu.so.p -fPIC -MD -MQ x.o -MF x.o.d -o x.o -c src/pkg/_core.pyx.c",
        "-fno-strict-overflow -O3 -fPIC -I/usr/include/python3.11 -c src/pkg/_core.c -o build/temp/src/pkg/_core.o",
    ],
    "link": [
        "-o src/pkg/_core.cpython-311-x86_64-linux-gnu.so src/pkg/x.o -Wl,--as-needed -shared -fPIC -fopenmp",
        "-shared build/temp/_core.o -o build/lib/pkg/_core.cpython-311-x86_64-linux-gnu.so -fopenmp",
        "-fPIC -O3 -DNDEBUG -shared -o _core.cpython-311-x86_64-linux-gnu.so CMakeFiles/_core.dir/_core.c.o",
    ],
}


@pytest.mark.parametrize(("phase", "call"), [(p, c) for p, calls in CALLS.items() for c in calls])
def test_a_compiler_call_is_read_as_its_phase(phase, call):
    assert phase_of(call) == phase


def _wheel(path, complete=True):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("pkg/__init__.py", "x = 1\n" * 1000)
    data = buffer.getvalue()
    path.write_bytes(data if complete else data[: len(data) // 2])


def _sdist(path, complete=True):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as t:
        payload = b"y" * 100_000
        info = tarfile.TarInfo("pkg-1.0/big")
        info.size = len(payload)
        t.addfile(info, io.BytesIO(payload))
    data = buffer.getvalue()
    path.write_bytes(data if complete else data[: len(data) // 2])


def test_only_complete_artifacts_pass_and_temporary_names_are_set_apart(tmp_path):
    dist = tmp_path / "dist"
    (dist / "meson").mkdir(parents=True)
    _wheel(dist / "meson" / "pkg-1.0-cp311-cp311-linux_x86_64.whl")
    _sdist(dist / "meson" / "pkg-1.0.tar.gz")
    assert artifact_problems(dist) == []
    _wheel(dist / "meson" / "pkg-1.0-cp311-cp311-linux_x86_64.whl", complete=False)
    _sdist(dist / "meson" / "pkg-1.0.tar.gz", complete=False)
    (dist / "meson" / "stray.txt").write_text("?")
    problems = artifact_problems(dist)
    assert len(problems) == 3
    assert any("whl: incomplete" in p for p in problems)
    assert any("tar.gz: incomplete" in p for p in problems)
    assert any("stray.txt: not an sdist or wheel" in p for p in problems)
    partial = dist / ".meson-partial-x"
    partial.mkdir()
    _wheel(partial / "pkg-1.0-cp311-cp311-linux_x86_64.whl", complete=False)
    assert len(artifact_problems(dist)) == 3  # a temporary name is not an artifact
    assert temporary_leftovers(dist)[0] == ".meson-partial-x"


def _gone(pid: int) -> bool:
    """Dead: no /proc entry, or a zombie that nobody has reaped yet (PID 1 in a container may not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_command_past_its_limit_is_killed_with_its_children(tmp_path):
    # The child starts a grandchild that would outlive it; both must go.
    code = "import subprocess, time; p = subprocess.Popen(['sleep', '300']); print(p.pid, flush=True); time.sleep(300)"
    proc = Started([sys.executable, "-c", code], cwd=tmp_path, env={})
    deadline = time.monotonic() + 30
    while not proc.output().strip() and time.monotonic() < deadline:
        time.sleep(0.02)
    done = proc.wait(timeout=0.5)
    assert done.rc is None
    grandchild = int(done.out.split()[0])
    deadline = time.monotonic() + 10
    while not _gone(grandchild) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _gone(grandchild)


def test_smoke_is_one_interruption_and_one_concurrent_case_per_backend():
    labels = [label for label, _ in cli.plan(["setuptools", "meson", "cmake"], list(cli.FAULTS), smoke=True)]
    assert len(labels) == 6
    assert sum("SIGKILL during compile" in label for label in labels) == 3
    assert sum("two builds at once" in label for label in labels) == 3
    full = cli.plan(["meson"], list(cli.FAULTS), smoke=False)
    signals, odd = len(bench.SIGNALS), len(bench.ODD)
    wheel = len(cases.PHASES) * signals + signals + odd + 1  # repo interruptions; new project: pack, odd places
    wheel += 1 + odd + 1 + 1 + 1  # concurrent; repo odd places, future mtimes; read-only tree; out of disk
    # editable: interrupted rebuilds and translations, importers at once; Cython
    assert len(full) == wheel + 2 * signals + 1 + 1


def test_the_report_marks_lost_rows_and_counts_outcomes():
    rows = [
        Row("SIGKILL during pack", "meson", "wheel build", "repo", LOST, "a | b"),
        Row("x", "cmake", "w", "r", RECOVERED),
    ]
    data = {
        "command": "nox -s faults",
        "date": "2026-12-05 10:00 UTC",
        "machine": "m",
        "SOURCE_DATE_EPOCH": "1",
        "seconds": 60.0,
        "counts": {RECOVERED: 1, LOST: 1},
        "rows": [r.as_dict() for r in rows],
    }
    text = cli.markdown(data)
    assert "| **lost or wrong** |" in text
    assert "a \\| b" in text
    assert "1 recovered, 1 lost or wrong" in text


def test_a_deep_path_passes_200_characters(tmp_path):
    assert len(str(bench.deep(tmp_path))) > 200


def test_a_finished_file_crosses_file_systems_under_a_temporary_name(tmp_path, monkeypatch):
    import errno

    from tools.make import build

    done, target = tmp_path / "a.whl", tmp_path / "dist" / "a.whl"
    target.parent.mkdir()
    done.write_bytes(b"wheel")
    real = Path.replace
    seen = []

    def replace(self, other):
        seen.append((self.name, Path(other).name))
        if self == done:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real(self, other)

    monkeypatch.setattr(Path, "replace", replace)
    build._move_in(done, target)
    assert target.read_bytes() == b"wheel"
    assert seen == [("a.whl", "a.whl"), (".a.whl.part", "a.whl")]
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.whl"]


def test_a_lost_row_the_backend_causes_names_its_issue_and_others_do_not():
    meson = Row("4 imports at once after an edit", "meson", "editable install", "repo", LOST)
    assert "github.com/mesonbuild/meson-python/issues/380" in known(meson)
    assert "github.com/mesonbuild/meson/issues/10706" in known(Row("Cython changed to 3.1.6", "meson", "e", "r", LOST))
    assert known(Row("4 imports at once after an edit", "cmake", "editable install", "repo", LOST)) is None
    assert known(Row("out of disk", "setuptools", "wheel build", "repo", LOST)) is None


def test_a_named_refusal_of_future_files_is_a_clear_error_and_a_silent_failure_is_not():
    from tools.checks.faults.core import CLEAR, Done

    skew = "ERROR: Clock skew detected. File /p/meson.build has a time stamp 86393.7s in the future."
    outcome, note = bench.refused_future(Done(1, f"a\n{skew}\nb\n", 1.0), "nox -s build", [])
    assert outcome == CLEAR
    assert "Clock skew detected" in note
    assert bench.refused_future(Done(1, f"{skew}\n", 1.0), "x", ["w.whl: incomplete"])[0] == LOST
    assert bench.refused_future(Done(1, "ERROR Backend subprocess exited\n", 1.0), "x", [])[0] == LOST
