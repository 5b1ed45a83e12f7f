"""A build killed while it writes leaves no partial artifact in dist/; a second build in one checkout refuses at once.

No C is compiled: the frontend is replaced by a function that writes a big
file slowly, in a child process with a session of its own, killed with its
group; every wait has a deadline, so a test never hangs.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tools.make import diagnose
from tools.make.build import Busy, checkout_lock, partial_folders
from tools.make.diagnose import disk_full
from tools.make.render import ROOT, render

SLOW_BUILD = textwrap.dedent(
    """
    import signal, sys, time
    from pathlib import Path
    import tools.make.build as b
    from tools.registry.variants import by_label

    # Ctrl-C as a terminal delivers it, even where this test runs as a
    # background job: a shell's `&` without job control ignores SIGINT, and
    # Python leaves an inherited SIG_IGN in place.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    def slow(project, out, **kwargs):
        out = Path(out)
        (out / "pkg-1.0.tar.gz").write_bytes(b"sdist")
        with (out / "pkg-1.0-cp3-cp3-linux_x86_64.whl").open("wb") as f:
            for _ in range(10_000):
                f.write(b"x" * 4096)
                f.flush()
                time.sleep(0.01)
        return 0.0

    b.build = slow
    b.build_variant(by_label(sys.argv[1]), Path(sys.argv[2]))
    """
)


def _wait(predicate, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGKILL are POSIX")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killed_while_writing_leaves_no_partial_wheel(tmp_path, sig):
    from tools.registry.variants import default_builds

    v = default_builds()[0]
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_BUILD, v.label, str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        start_new_session=True,
    )
    try:
        dist = v.dist(tmp_path)
        writing = lambda: any(p.stat().st_size > 4096 for f in partial_folders(v, tmp_path) for p in f.glob("*.whl"))
        assert _wait(writing), "the slow build never started writing its wheel"
        os.killpg(child.pid, sig)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
    assert not dist.exists() or not any(dist.iterdir()), sorted(dist.iterdir())


HOLD = "import sys, time\nfrom pathlib import Path\nfrom tools.make.build import checkout_lock\nwith checkout_lock(Path(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(60)\n"


@pytest.mark.skipif(sys.platform == "win32", reason="fcntl is POSIX")
def test_second_build_refuses_naming_the_first_then_takes_a_dead_ones_lock(tmp_path):
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert child.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        with pytest.raises(Busy, match=rf"pid {child.pid}, .*since \d{{4}}-\d\d-\d\d"), checkout_lock(tmp_path):
            pass
        assert time.monotonic() - t0 < 2, "the second build waited instead of refusing"
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
    with checkout_lock(tmp_path):  # the dead holder's lock is free again
        assert f"pid {os.getpid()}" in Path(tmp_path, "build", ".lock").read_text()


def test_a_full_disk_is_named_with_its_mount_and_room(tmp_path):
    said = "cc1: fatal error: error writing to /tmp/ccX.s: No space left on device"
    text = disk_full(said, [tmp_path / "build", tmp_path / "dist"])
    assert text.startswith("the build ran out of disk space (No space left on device")
    mount = Path(os.path.realpath(tmp_path))
    while not os.path.ismount(mount):
        mount = mount.parent
    assert f"on {mount}:" in text
    assert " MiB free of " in text


def test_a_disk_with_room_is_not_blamed_but_a_nearly_full_one_is(tmp_path, monkeypatch):
    room = lambda free: lambda _: shutil._ntuple_diskusage(256 << 20, (256 << 20) - free, free)
    monkeypatch.setattr(diagnose.shutil, "disk_usage", room(200 << 20))
    assert disk_full("", [tmp_path]) == ""
    monkeypatch.setattr(diagnose.shutil, "disk_usage", room(2 << 20))
    text = disk_full("", [tmp_path])
    assert "nearly full" in text
    assert "2.0 MiB free of 256.0 MiB" in text


@pytest.mark.skipif(sys.platform == "win32", reason="a shell script stands in for Python")
def test_a_missing_frontend_is_named_before_the_toolchain(tmp_path):
    lacking, having = tmp_path / "lacking", tmp_path / "having"
    lacking.write_text("#!/bin/sh\necho False\n")
    having.write_text("#!/bin/sh\necho True\n")
    for script in (lacking, having):
        script.chmod(0o755)
    assert diagnose._frontend_missing("build", str(having)) is None
    what, todo = diagnose._frontend_missing("build", str(lacking))
    assert "needs the build package" in what
    assert "pip install build" in todo
    project = render("setuptools", tmp_path / "p", "pkg", git=False)
    text = diagnose.diagnose(project, [], {"CC": "/nonexistent", "PATH": ""}, str(lacking))
    assert text.index("the frontend") < text.index("a C compiler"), text
