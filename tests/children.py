"""Run a test's subject in a child process that cannot hang the run: its own session, killed with its group.

Used by the tests that fork, signal, wait on threads or run under an emulator;
not a test module itself (pytest collects test_*.py only).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Sequence

import pytest


def run_child(
    code: str,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    command: Sequence[str] = (),
) -> dict:
    """Run `code` (by `command`, e.g. an emulator, then this Python) in a new session; the JSON it prints last.

    At `timeout` the whole process group is killed and the test fails: a hang
    becomes a failure, never a stuck run.
    """
    child = subprocess.Popen(
        [*command, sys.executable, "-c", textwrap.dedent(code), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    try:
        out, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        out, err = child.communicate()
        pytest.fail(f"no answer within {timeout} s: killed (a hang?)\n{out[-2000:]}\n{err[-2000:]}")
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    assert child.returncode == 0, f"exit status {child.returncode}\n{out[-2000:]}\n{err[-2000:]}"
    return json.loads(out.strip().splitlines()[-1])
