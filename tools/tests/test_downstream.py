"""The downstream check's judgement and the project it writes, without building: a wrong answer or one utility module fails it."""

from __future__ import annotations

import pytest

from tools.checks.downstream import DOWNSTREAM_PYX, MODULE, NUM, START, downstream_project, exact, judge
from tools.make.render import modules
from tools.registry.backends import NAMES

UP, DOWN = "mathcore_meson_shared", "downstream_meson"
BOTH = {UP: True, DOWN: True}


def seen(result: float = 100.0, threads: object = 2, up: str | None = "u.so", down: str | None = "d.so", same=False):
    return {"result": result, "threads": threads, "utility": {UP: up, DOWN: down}, "same": same}


def test_the_right_answer_with_two_utility_modules_passes():
    assert judge(seen(), UP, DOWN, BOTH, 100) == []
    assert judge(seen(down=None), UP, DOWN, {UP: True, DOWN: False}, 100) == []


@pytest.mark.parametrize(
    ("report", "shared", "said"),
    [
        (seen(result=100.5), BOTH, "the twin says 100"),
        (seen(result=99.0), BOTH, "the twin says 100"),
        (seen(threads=0), BOTH, "not a count"),
        (seen(up=None), BOTH, f"{UP}._cyutility is not in sys.modules"),
        (seen(down=None), BOTH, f"{DOWN}._cyutility is not in sys.modules"),
        (seen(), {UP: True, DOWN: False}, f"{DOWN}._cyutility was imported"),
        (seen(same=True), BOTH, "are one module"),
        (seen(up="one.so", down="one.so"), BOTH, "are one module"),
    ],
)
def test_a_wrong_answer_or_a_missing_or_shared_utility_module_fails(report, shared, said):
    problems = judge(report, UP, DOWN, shared, 100)
    assert len(problems) == 1
    assert said in problems[0]


def test_the_expected_answer_is_the_twins_exact_sum():
    assert exact(0, 10) == sum(abs(pos - 1_000_000) for pos in range(1, 11))
    assert exact(START, NUM) == sum(abs(pos - 1_000_000) for pos in range(START + 1, NUM + 1))
    assert exact(START, NUM) < 2**53  # so the double the kernel sums is exact


@pytest.mark.parametrize("backend", NAMES)
def test_the_downstream_project_cimports_the_upstream_and_requires_it(tmp_path, backend):
    upstream = f"mathcore_{backend}_shared"
    project = downstream_project(backend, tmp_path, upstream, f"downstream_{backend}")
    package = project / "src" / f"downstream_{backend}"
    assert (package / f"{MODULE}.pyx").read_text() == DOWNSTREAM_PYX.format(upstream=upstream)
    assert f"from {upstream}._kernels cimport block_sum, max_threads" in DOWNSTREAM_PYX.format(upstream=upstream)
    assert MODULE in modules(project, backend)
    pyproject = (project / "pyproject.toml").read_text()
    assert f'requires = ["{upstream}", ' in pyproject
    assert f'dependencies = ["{upstream}"]' in pyproject
