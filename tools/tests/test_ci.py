"""The two CIs run the same sessions: .ci/run (which has run) and the GitHub workflow (checked statically only).

A session that only one of them runs is listed here with the reason, so that
the two cannot drift apart unnoticed.
"""

from __future__ import annotations

import re
import shlex

from tools.make.render import ROOT

# Sessions that one CI runs and the other does not, and why.
ONLY_ONE: dict[str, str] = {
    "build_shared": "the three shared builds side by side: .ci/run's test_shared_axes and test_downstream cover the "
    "switch and two packages' _cyutility side by side in less of its 50 minutes",
    "test_shared": "as build_shared",
    "build_aarch64_emulated": "a wheel built inside the arm64 root under qemu, some 4 minutes of .ci/run's 50: "
    "GitHub's workflow only, which has not run, so that path runs by hand (nox -s build_aarch64_emulated); the cross "
    "builds' wheels are tested in the root all the same",
}


def sessions(text: str) -> set[str]:
    """The nox sessions a shell text runs: the words after -s up to the next option or --, parameters stripped."""
    found = set()
    lines = [line for line in text.replace("\\\n", " ").splitlines() if not line.strip().startswith("#")]
    for line in lines:
        command = re.search(r"(?:^|[\s;&|])(nox\s.*)", line)
        words = shlex.split(command[1], comments=True) if command else []
        if "-s" not in words:
            continue
        for word in words[words.index("-s") + 1 :]:
            if word.startswith("-"):
                break
            found.add(re.split(r"[(-]", word)[0])
    return found


def test_both_cis_run_the_same_sessions():
    local = sessions((ROOT / ".ci" / "run").read_text())
    github = sessions((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    assert local, "no nox session found in .ci/run"
    only_local = sorted(local - github - set(ONLY_ONE))
    only_github = sorted(github - local - set(ONLY_ONE))
    assert not only_local, f".ci/run runs {only_local}, the GitHub workflow does not: add them, or say why in ONLY_ONE"
    assert not only_github, (
        f"the GitHub workflow runs {only_github}, .ci/run does not: add them, or say why in ONLY_ONE"
    )


def test_sessions_are_parsed_as_nox_reads_them():
    text = "nox -s build build_clang test -- -q\nA=1 nox --error-on-missing-interpreters -s \"test_new(backend='cmake')\" x\n"
    assert sessions(text) == {"build", "build_clang", "test", "test_new", "x"}
    assert sessions("nox -s test_pythons-3.10\n") == {"test_pythons"}
