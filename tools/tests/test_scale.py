"""scale without a build: the module graph, fits and predictions, efficiency, resuming, and the report's shape."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tools.instruments.measure import Task, interleave
from tools.instruments.scale import analysis, record, report
from tools.instruments.scale.cli import options
from tools.instruments.steps import module_graph, module_names


def test_module_graph_has_two_levels():
    graph = module_graph(6)
    assert set(graph) == set(module_names(6))
    assert graph["_core"] == graph["_core_1"] == graph["_core_3"] == "_kernels"
    assert (graph["_core_2"], graph["_core_4"]) == ("_core_1", "_core_3")
    assert module_graph(2) == {"_kernels": "", "_core": "_kernels"}
    # Every module reaches _kernels, so every one must see an edit of _kernels.pxd.
    for module in graph:
        at, hops = module, 0
        while at != "_kernels":
            at, hops = graph[at], hops + 1
        assert hops <= 2


def test_per_module_is_the_marginal_cost():
    assert analysis.per_module({2: 10.0, 4: 14.0, 8: 22.0}) == {4: 2.0, 8: 2.0}


def test_fit_uses_every_repetition():
    # t = 5 + 2N exactly at N = 2, 8, 32 (three repetitions each, noise symmetric about the line).
    series = {n: [5 + 2 * n - 0.5, 5 + 2 * n, 5 + 2 * n + 0.5] for n in (2, 8, 32)}
    fit = analysis.fit_line(series)
    assert fit["a"] == pytest.approx(5.0)
    assert fit["b"] == pytest.approx(2.0)
    assert fit["points"] == 9
    assert fit["b_se"] > 0
    assert analysis.fit_line({8: [1.0, 2.0]}) is None


def test_prediction_of_a_straight_line_is_trusted():
    series = {n: [5 + 2 * n - 0.1, 5 + 2 * n + 0.1, 5 + 2 * n] for n in (2, 8, 32, 64)}
    p = analysis.predict(series, 200)
    assert p["value"] == pytest.approx(405.0, rel=1e-3)
    assert p["from_last_segment"] == pytest.approx(405.0, rel=1e-3)
    assert p["low"] <= p["value"] <= p["high"]
    assert p["beyond"] == pytest.approx(200 / 64)
    assert p["trust"].startswith("good to")


def test_prediction_of_a_curve_says_so():
    # The cost per module doubles at the large end: the last segment's slope predicts far more than the fit.
    series = {2: [10.0, 10.2, 9.8], 8: [22.0, 22.1, 21.9], 32: [70.0, 70.5, 69.5], 64: [198.0, 199.0, 197.0]}
    p = analysis.predict(series, 200)
    assert p["from_last_segment"] > p["value"]
    assert p["high"] == pytest.approx(p["from_last_segment"]) or p["high"] > p["from_last_segment"]
    assert "changed by" in p["trust"]
    assert not p["trust"].startswith("good to")


def test_far_beyond_two_n_is_a_guess_whatever_the_band():
    series = {n: [5 + 2 * n - 0.1, 5 + 2 * n + 0.1] for n in (2, 8)}
    p = analysis.predict(series, 200)
    assert p["trust"].startswith("a guess: 25.0 times")
    near = analysis.predict(series, 16)
    assert near["trust"].startswith("rough, within")  # two N: no check of the shape, so never "good"


def test_peak_memory_that_stops_growing_is_predicted_flat():
    mb = 1e6
    series = {2: [594 * mb, 595 * mb], 8: [767 * mb, 769 * mb], 32: [766 * mb, 770 * mb], 64: [763 * mb, 791 * mb]}
    p = analysis.predict_peak(series, 200)
    assert p["value"] == pytest.approx(777 * mb)
    assert (p["low"], p["high"]) == (763 * mb, 791 * mb)
    assert p["trust"].startswith("flat from N=8 on")
    growing = {2: [100.0, 101.0], 8: [400.0, 401.0], 32: [1600.0, 1601.0]}
    assert analysis.predict_peak(growing, 200)["value"] == pytest.approx(analysis.predict(growing, 200)["value"])


def test_efficiency_with_ranges_and_ties():
    wheel = {
        "meson": {2: [7.0, 7.2, 6.9], 32: [37.0, 38.0, 36.0]},
        "meson_j1": {2: [9.0, 9.1, 8.9], 32: [69.0, 70.0, 68.0]},
    }
    rows = analysis.efficiency(wheel, {"meson": "meson_j1"}, cores=2)
    at2, at32, marginal = rows
    assert (at2["n"], at32["n"], marginal["n"]) == (2, 32, [2, 32])
    assert at32["whole_build"] == pytest.approx(69.0 / (2 * 37.0))
    assert at32["whole_build_range"] == pytest.approx([68.0 / 76.0, 70.0 / 72.0])
    assert at32["tie"] is False
    # One job: 2 s per module; all cores: 1 s per module; 2 cores: 100 %.
    assert marginal["marginal"] == pytest.approx(1.0)
    one_rep = analysis.efficiency({"a": {2: [1.0]}, "a_j1": {2: [1.5]}}, {"a": "a_j1"}, cores=2)
    assert one_rep[0]["tie"] is None


def test_ranking_changes_name_where_the_order_flips_and_keep_ties():
    series = {"a": {2: [1.0, 1.1], 4: [3.0, 3.1], 8: [9.0, 9.1]}, "b": {2: [2.0, 2.1], 4: [2.5, 2.6], 8: [3.0, 3.1]}}
    (change,) = analysis.ranking_changes(series, ["a", "b"])
    assert (change["from"], change["to"], change["before"], change["after"]) == (2, 4, "a < b", "b < a")
    # Overlapping ranges are a tie, whichever median is lower: no change between two ties.
    tied = {"a": {2: [1.0, 2.0], 4: [2.0, 3.0]}, "b": {2: [1.5, 2.5], 4: [1.8, 2.2]}}
    assert analysis.ranking_changes(tied, ["a", "b"]) == []
    assert analysis.ordering(tied, ["a", "b"], 4) == "a \u2248 b"
    resolved = {"a": {2: [1.0, 2.0], 4: [1.0, 1.1]}, "b": {2: [1.5, 2.5], 4: [2.0, 2.1]}}
    (change,) = analysis.ranking_changes(resolved, ["a", "b"])
    assert (change["before"], change["after"]) == ("a \u2248 b", "a < b")


def test_crossings_of_fitted_lines():
    # a = 1 + 2N, b = 5 + N: they cross at N = 4.
    table = {"a": {2: [5.0], 8: [17.0]}, "b": {2: [7.0], 8: [13.0]}}
    (cross,) = analysis.crossings(table, ["a", "b"])
    assert cross["n"] == pytest.approx(4.0)


def test_interleave_resumes_and_saves_each_point(tmp_path: Path):
    ran: list[str] = []

    def task(name: str, seconds: float) -> Task:
        return Task(("wheel", name, 2), name, lambda: ran.append(name) or seconds, 1.0)

    header = {"options": {}}
    rec = record.Record(tmp_path / "scale.json", header)
    tasks = [task("a", 1.0), task("b", 2.0)]
    # A first run cut after one repetition: its points are on disk.
    interleave(tasks, 1, 0, "test", on_result=rec.add)
    on_disk = json.loads((tmp_path / "scale.json").read_text())
    assert len(on_disk["points"]) == 2
    ran.clear()
    resumed = record.Record.resume(tmp_path / "scale.json", tmp_path / "again.json", {"options": {}})
    times = interleave(tasks, 3, 0, "test", done=resumed.done(), on_result=resumed.add)
    assert sorted(ran) == ["a", "a", "b", "b"]  # the first repetition was not run again
    assert times[("wheel", "a", 2)] == [1.0, 1.0, 1.0]
    assert resumed.header["resumed_from"]["points"] == 2
    assert {p["rep"] for p in resumed.points if p["task"][1] == "a"} == {0, 1, 2}
    # A complete run resumed with the same options runs nothing.
    ran.clear()
    interleave(tasks, 3, 0, "test", done=resumed.done())
    assert ran == []


def test_collect_keeps_medians_every_time_and_the_build_details():
    phases = {"wall": {"compile": 3.0}, "work": {"compile": 5.5}, "jobs_max": 2, "events": 9, "flags": {}}
    points = [
        {"task": ["wheel", "meson", 8], "rep": r, "seconds": s, "phases": phases, "peak_bytes": 1e8, "disk_bytes": 2e7}
        for r, s in enumerate([10.0, 12.0, 11.0])
    ]
    points += [{"task": ["edit pxd", "meson", 8], "rep": 0, "seconds": 4.0, "seen": True}]
    points += [{"task": ["wheel", "meson", 64], "rep": 0, "seconds": 99.0}]  # not in this run's plan
    data = record.collect(points, {("wheel", "meson", 8), ("edit pxd", "meson", 8)})
    assert data["wheel"]["meson"] == {8: 11.0}  # summary reads the medians here
    assert data["times"]["wheel"]["meson"][8] == [10.0, 12.0, 11.0]
    assert data["edit seen"]["pxd"]["meson"] == {8: True}
    assert len(data["builds"]["meson"][8]) == 3
    summary = analysis.build_summary({"meson": {8: data["builds"]["meson"][8], 32: data["builds"]["meson"][8]}}, 200)
    assert summary["meson"]["jobs_max"] == {8: 2, 32: 2}
    assert summary["meson"]["peak_bytes"][8]["median"] == 1e8


def test_options_defaults_and_edit_max():
    args = options([])
    assert (args.modules, args.reps, args.one_job_modules) == ([2, 8, 32, 64], 3, [2, 32])
    assert args.edit_modules == [2, 8, 32, 64]
    args = options(["--edit-max", "32", "--one-job-at", "none"])
    assert (args.edit_modules, args.one_job_modules) == ([2, 8, 32], [])
    quick = options(["--quick"])
    assert (quick.modules, quick.reps) == ([2, 4], 1)
    with pytest.raises(SystemExit):
        options(["--one-job-at", "5"])


def fake_report(edit_max: int, old: bool = False) -> dict:
    """A small report as cli.main makes it, from made-up points (stub phases), for the Markdown.

    old: meson's template also as it was at a commit (--old-templates), 1.5 times as slow per module.
    """
    points = []
    built = [("setuptools", 1.0), ("meson", 2.0), ("cmake", 1.5), ("meson_j1", 3.5), *([("meson_old", 3.0)] * old)]
    for label, per in built:
        for n in (2, 8, 32):
            for rep in range(3):
                phases = {
                    "wall": {"configure": 2.0, "cython": 0.2 * n, "compile": per * n / 2, "link": 0.1 * n},
                    "work": {"configure": 2.0, "cython": 0.2 * n, "compile": per * n, "link": 0.1 * n},
                    "jobs_max": 2,
                    "events": 4 * n,
                    "flags": {},
                }
                extra = {
                    "phases": phases,
                    "peak_bytes": 5e7 * n,
                    "disk_bytes": 1e6 * n,
                    "libs": {"_core": ["libgomp.so.1"]},
                }
                points.append({"task": ["wheel", label, n], "rep": rep, "seconds": 5 + per * n + rep * 0.1, **extra})
    for b in ("setuptools", "meson", "cmake", *(["meson_old"] * old)):
        for n in (2, 8, 32):
            if n > edit_max:
                continue
            for kind in ("edit", "edit pxd", "import"):
                for rep in range(3):
                    seconds = (1 + 0.1 * n + rep) * (2 if b.endswith("_old") else 1)
                    points.append({"task": [kind, b, n], "rep": rep, "seconds": seconds, "seen": True})
            points.append({"task": ["editable install", b, n], "rep": 0, "seconds": 3.0 * n})
    data = record.collect(points)
    pairs = {"setuptools": "setuptools_j1", "meson": "meson_j1", "cmake": "cmake_j1"}
    machine = {"cpu": "test", "cores": 2, "python": "3.x", "load_average": [0, 0, 0], "load_average_after": [0, 0, 0]}
    edit_modules = [n for n in (2, 8, 32) if n <= edit_max]
    return {
        "date": "today",
        "command": "nox -s scale",
        "options": {
            "modules": [2, 8, 32],
            "edit_modules": edit_modules,
            "edit_max": edit_max,
            "one_job_modules": [2, 32],
            "reps": 3,
            "predict": 200,
            "shared": False,
            "old_templates": {"rev": "HEAD~1", "commit": "abc1234" * 5, "short": "abc123412", "backends": ["meson"]}
            if old
            else None,
        },
        "machine": machine,
        "tools": {"gcc": "12"},
        "duration_s": 60.0,
        "data": data,
        "derived": analysis.analyse(data, pairs, ["setuptools", "meson", "cmake"], 2, 200),
    }


def test_markdown_has_the_phases_the_prediction_and_where_the_edit_loops_stopped():
    md = report.markdown(fake_report(edit_max=8))
    assert "measured up to N = 8 (`--edit-max 8`), not at 32" in md
    assert "N=200, predicted" in md
    assert "| compile |" in md
    assert "most jobs at once: N=2 2" in md
    assert "meson_j1" in md
    assert "`_core_2` -> `_core_1` -> `_kernels`" in md
    full = report.markdown(fake_report(edit_max=32))
    assert "The edit loops were measured at every N." in full


def test_charts(tmp_path: Path):
    pytest.importorskip("matplotlib")  # scale's group has it, the tools' tests need not
    from tools.instruments.scale.chart import chart, phases_chart

    rep = fake_report(edit_max=32, old=True)  # meson_old: dotted, and a phases panel of its own
    chart(rep, tmp_path / "scale.png")
    assert phases_chart(rep, tmp_path / "scale-phases.png")
    assert (tmp_path / "scale-phases.png").stat().st_size > 0


class StubPhases:
    """tools/inspect/phases.py's API as scale uses it, without a build."""

    def __init__(self) -> None:
        self.read_args: tuple = ()

    def instrument(self, _backend: str, logdir: Path, _cc: str = "gcc") -> tuple[list[str], dict[str, str]]:
        return [f"-Cstub-log={logdir}"], {"CFLAGS": "-stub"}

    def read(self, logdir: Path, modules: list[str], start: float, end: float) -> dict:
        self.read_args = (logdir, modules, start, end)
        return {"wall": {"compile": 1.0}, "work": {"compile": 2.0}, "jobs_max": 2, "events": 3, "flags": {}}

    class PeakMemory:
        peak_bytes = 123

        def __enter__(self):
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    @staticmethod
    def disk_usage(_path: Path) -> int:
        return 456


def test_wheel_task_records_phases_memory_and_the_kept_build_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from tools.instruments.scale import setups
    from tools.registry.variants import Variant

    stub, seen = StubPhases(), {}

    def fresh(backend, *_args, **_kwargs):
        project = tmp_path / f"{backend}-project"
        (project / "wheel-out").mkdir(parents=True)
        with zipfile.ZipFile(project / "wheel-out" / "x.whl", "w") as whl:
            whl.writestr("x/_core.so", b"\0" * 1000)
        return project

    def wheel(*_args, args, env):
        seen.update(args=args, env=env)
        for arg in args:
            if arg.startswith("-Cbuild-dir="):
                Path(arg.split("=", 1)[1]).mkdir()
        return 9.5

    monkeypatch.setattr(setups, "phases", stub)
    monkeypatch.setattr(setups.steps, "fresh", fresh)
    monkeypatch.setattr(setups.steps, "wheel", wheel)
    monkeypatch.setattr(setups, "extension_libs", lambda _whl: {"_core": ["libgomp.so.1"]})
    rec = record.Record(None, {})
    task = setups.wheel_task(Variant("meson"), 4, tmp_path, rec)
    assert task.run() == 9.5
    rec.add(task.key, 0, 9.5)
    (point,) = rec.points
    assert point["task"] == ["wheel", "meson", 4]
    assert (point["peak_bytes"], point["disk_bytes"], point["phases"]["jobs_max"]) == (123, 456, 2)
    assert point["installed_bytes"] == 1000
    assert point["wheel_bytes"] > 0
    assert stub.read_args[1] == [*module_names(4), "_cyutility"]
    assert any(a.startswith("-Cstub-log=") for a in seen["args"])
    assert any(a.startswith("-Cbuild-dir=") for a in seen["args"])  # kept, to be measured
    assert seen["env"]["CFLAGS"] == "-stub"
    assert not (tmp_path / "meson-project").exists()  # removed once measured

    # The shared build: the switch names the package built (not the folder it is in), and a wheel without
    # the utility module is refused rather than timed under the wrong name.
    shared = setups.wheel_task(Variant("setuptools", utility="shared"), 4, tmp_path, rec)
    with pytest.raises(setups.StepFailed, match="_cyutility is missing"):
        shared.run()
    assert seen["env"]["SCALE_SETUPTOOLS_SHARED_N4_SHARED_UTILITY"] == "1"


def test_merge_env_joins_flags():
    from tools.instruments.scale.setups import merge_env

    assert merge_env({"CFLAGS": "-O2", "A": "1"}, {"CFLAGS": "-g", "A": "2", "B": "3"}) == {
        "CFLAGS": "-O2 -g",
        "A": "2",
        "B": "3",
    }


def test_the_shared_builds_are_planned_at_every_n_and_named_for_the_package_built():
    from tools.instruments.scale import setups
    from tools.registry.backends import NAMES
    from tools.registry.variants import Variant

    keys = setups.plan([2, 8, 32], [2, 8], [2])
    for b in NAMES:
        assert {("wheel", f"{b}_shared", n) for n in (2, 8, 32)} <= set(keys)
        assert {(k, f"{b}_shared", n) for k in setups.DEV_KINDS for n in (2, 8)} <= set(keys)
        assert ("edit", f"{b}_shared", 32) not in keys
    shared = Variant("setuptools", utility="shared")
    name = setups.package_name(shared, 8)
    assert name == "scale_setuptools_shared_n8"
    # setuptools' switch names the package: the variable must be the rendered package's, not the variant's.
    assert shared.settings(name)[1] == {"SCALE_SETUPTOOLS_SHARED_N8_SHARED_UTILITY": "1"}


def test_shared_gains_call_ties_and_find_the_break_even_n():
    from tools.instruments.scale import shared

    times = {
        "meson": {2: [5.0, 5.1, 5.2], 8: [10.0, 10.5, 11.0], 32: [40.0, 41.0, 42.0]},
        "meson_shared": {2: [6.0, 6.1, 6.2], 8: [10.2, 10.4, 10.6], 32: [30.0, 31.0, 32.0]},
    }
    builds = {
        label: {n: [{"wheel_bytes": w * n, "installed_bytes": 3 * w * n}] for n in (2, 8, 32)}
        for label, w in (("meson", 100), ("meson_shared", 90))
    }
    builds["meson_shared"][2] = [{"wheel_bytes": 500, "installed_bytes": 1500}]  # the utility module outweighs at 2
    found = shared.gains({"times": {"wheel": times}, "builds": builds})["meson"]
    assert found["times"]["wheel"][8]["tie"] is True
    assert found["times"]["wheel"][32]["tie"] is False
    assert found["break_even"]["clean wheel"] == 32  # slower at 2, a tie at 8: neither counts
    assert found["break_even"]["wheel kB"] == 8
    assert shared.break_even({2: True, 8: False, 32: True}) == 32
    assert shared.break_even({2: True, 8: True}) == 2
    assert shared.break_even({2: True, 8: False}) is None


def test_old_templates_are_twins_with_their_own_label_and_the_same_package():
    from tools.instruments.scale import setups
    from tools.registry.variants import Variant

    old = setups.OldTemplate("meson", commit="f" * 40)
    assert old.label == "meson_old"
    assert setups.package_name(old, 8) == setups.package_name(Variant("meson"), 8) == "scale_meson_n8"
    assert old.settings("scale_meson_n8") == Variant("meson").settings("scale_meson_n8")
    assert setups.estimate("wheel", "meson_old", 8) == setups.estimate("wheel", "meson", 8)
    assert setups.template(Variant("meson"), Path("unused")) is None  # the working tree's template

    variants = setups.builds([old], shared=False)
    assert [v.label for v in variants] == ["setuptools", "meson", "cmake", "meson_old"]
    keys = set(setups.plan([2, 8, 32], [2, 8], [], variants))
    assert {("wheel", "meson_old", n) for n in (2, 8, 32)} <= keys
    assert {(k, "meson_old", n) for k in setups.DEV_KINDS for n in (2, 8)} <= keys
    assert not any(label.endswith("_shared") for _, label, _ in keys)
    assert ("editable install", "meson_old", 8) in setups.installs([2, 8], variants)
    assert {label for _, label, _ in setups.plan([2], [2], [])} == {v.label for v in setups.DEV}  # as before


def test_an_old_template_is_exported_from_git(tmp_path: Path):
    import subprocess

    from tools.instruments.scale import setups
    from tools.make.render import ROOT

    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    commit = head.stdout.strip()
    folder = setups.template(setups.OldTemplate("meson", commit=commit), tmp_path)
    shown = subprocess.run(["git", "show", f"{commit}:meson/meson.build"], cwd=ROOT, capture_output=True, check=True)
    assert folder is not None
    assert (folder / "meson.build").read_bytes() == shown.stdout
    with pytest.raises(ValueError, match="is it a commit"):
        setups.changed_templates("no-such-revision")


def test_render_needs_the_file_it_reports():
    """--render measures nothing: it reports an interrupted run's points, so it needs --resume."""
    with pytest.raises(SystemExit):
        options(["--render"])
    assert options(["--render", "--resume", "reports/scale.json"]).render


def test_options_old_templates_and_no_shared(monkeypatch: pytest.MonkeyPatch):
    from tools.instruments.scale import cli, setups

    monkeypatch.setattr(setups, "changed_templates", lambda _commit: ["meson", "cmake"])
    args = options(["--old-templates", "HEAD", "--no-shared", "--modules", "2,8", "--edit-max", "2"])
    assert [v.label for v in args.variants] == ["setuptools", "meson", "cmake", "meson_old", "cmake_old"]
    assert {v.commit for v in args.old} == {cli.old_templates(args)["commit"]}
    assert cli.old_templates(args)["backends"] == ["meson", "cmake"]
    plain = options(["--modules", "2,8", "--edit-max", "2"])
    assert cli.old_templates(plain) is None
    assert cli.guess(args) > cli.guess(options(["--no-shared", "--modules", "2,8", "--edit-max", "2"]))
    with pytest.raises(SystemExit):
        options(["--old-templates", "no-such-revision"])
    monkeypatch.setattr(setups, "changed_templates", lambda _commit: [])
    with pytest.raises(SystemExit):  # nothing to compare
        options(["--old-templates", "HEAD"])


def test_markdown_sets_old_and_new_side_by_side_with_the_phases():
    md = report.markdown(fake_report(edit_max=8, old=True))
    assert "## The templates as they were at abc123412 against as they are" in md
    side = md.split("## The templates as they were")[1].split("\n## ")[0]
    assert "**N = 32**" in side
    assert "| meson | clean wheel |" in side
    assert "| meson | of which cython, wall |" in side
    assert "| meson | edit the .pxd |" in side  # measured at N = 8
    assert "| N | setuptools | meson | cmake | meson_old |" in md  # a column of its own, after the ranked three
    assert "**meson_old** (most jobs at once" in md  # its phases
    assert "Not measured: this run has no shared builds." in md
    assert report.ratio([10.0, 11.0, 12.0], [5.0, 5.5, 6.0]) == "0.50"
    assert report.ratio([10.0, 11.0, 12.0], [9.0, 10.5, 11.0]) == "0.95 (tie)"
    assert report.ratio([10.0], [5.0]) == "0.50 (1 rep, no spread)"
    assert "templates as they were" not in report.markdown(fake_report(edit_max=8))


def test_choice_renders_from_the_templates_labels_whatever_else_the_report_holds():
    from tools.instruments import choice
    from tools.instruments.measure import _str_keys

    def rows(old: bool) -> list[list[str]]:
        return choice.rows(json.loads(json.dumps(_str_keys(fake_report(edit_max=32, old=old)))))

    assert rows(old=True) == rows(old=False)


def test_scale_jobs_times_each_template_and_meson_and_cmake_with_a_job_per_core():
    from tools.instruments.scale import jobs

    found = {label: extra for label, _v, extra in jobs.setups(2)}
    assert found == {
        "setuptools": [],
        "meson": [],
        "cmake": [],
        "meson_j2": ["-Ccompile-args=-j2"],
        "cmake_j2": ["-Cbuild.tool-args=-j2"],
    }
    data = {
        "command": "nox -s scale_jobs",
        "machine": {"cpu": "X", "cpu_family": "25", "cpu_model": "1", "cores": 2, "load_average": [0.1, 0.2, 0.3]},
        "modules": 64,
        "reps": 3,
        "started": "2026-12-07 23:00 UTC",
        "wall_s": {"meson": [130.0, 120.0, 140.0]},
        "cpu_s": {"meson": [250.0, 240.0, 260.0]},
    }
    text = jobs.markdown(data)
    assert text.startswith("# Compile jobs")
    assert "| meson | 130.0 (120.0\u2013140.0) | 250.0 (240.0\u2013260.0) |" in text
    assert [label for label, _v, _e in jobs.setups(2, "phases")][3:] == [
        "setuptools_phases",
        "meson_phases",
        "cmake_phases",
    ]
    assert jobs.markdown({**data, "against": "phases"}).startswith("# The clean wheel, plain and measured as scale")
