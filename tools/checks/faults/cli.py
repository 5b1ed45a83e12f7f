"""The plan of cases, the run, and reports/faults.{json,md}."""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path

from tools.checks.faults import __doc__ as DOC
from tools.checks.faults import cases, editable, mounts, new_project
from tools.checks.faults.bench import ODD, SIGNALS, Bench
from tools.checks.faults.core import LOST, OUTCOMES, SKIPPED, WHEEL, Row, known
from tools.inspect.host import describe, machine
from tools.instruments.measure import command_line, md_table, write_report
from tools.make.render import ROOT
from tools.registry.backends import NAMES

FAULTS = ("interrupt", "new", "concurrent", "odd", "future", "readonly", "disk", "editable", "cython")


def plan(backends: list[str], faults: list[str], smoke: bool) -> list[tuple[str, Callable[[], Row]]]:
    """(label, case) in the order they run; smoke: one interruption and one concurrent case per backend (CI)."""
    bench_cases: list[tuple[str, Callable]] = []
    for backend in backends:
        if smoke:
            bench_cases.append(
                (
                    f"{backend}: SIGKILL during compile",
                    partial(cases.interrupted, backend=backend, phase="compile", name="SIGKILL"),
                )
            )
            bench_cases.append((f"{backend}: two builds at once", partial(cases.concurrent, backend=backend)))
            continue
        if "interrupt" in faults:
            for phase in cases.PHASES:
                for name in SIGNALS:
                    case = partial(cases.interrupted, backend=backend, phase=phase, name=name)
                    bench_cases.append((f"{backend}: {name} during {phase}", case))
        if "new" in faults:
            for name in SIGNALS:
                case = partial(new_project.new_project_pack, backend=backend, name=name)
                bench_cases.append((f"{backend}: new project, {name} during pack", case))
            for kind in [*ODD, "future"]:
                case = partial(new_project.new_project_odd, backend=backend, kind=kind)
                bench_cases.append((f"{backend}: new project, {kind}", case))
        if "concurrent" in faults:
            bench_cases.append((f"{backend}: two builds at once", partial(cases.concurrent, backend=backend)))
        if "odd" in faults:
            for kind in ODD:
                bench_cases.append(
                    (f"{backend}: path with {kind}", partial(cases.odd_place, backend=backend, kind=kind))
                )
        if "future" in faults:
            bench_cases.append((f"{backend}: future mtimes", partial(cases.future_mtimes, backend=backend)))
        if "readonly" in faults:
            bench_cases.append((f"{backend}: read-only source tree", partial(mounts.read_only, backend=backend)))
        if "disk" in faults:
            bench_cases.append((f"{backend}: out of disk", partial(mounts.out_of_disk, backend=backend)))
        if "editable" in faults:
            for name in SIGNALS:
                case = partial(editable.interrupted_rebuild, backend=backend, name=name)
                bench_cases.append((f"{backend}: {name} during the rebuild on import", case))
                case = partial(editable.interrupted_translation, backend=backend, name=name)
                bench_cases.append((f"{backend}: {name} during the translation on import", case))
            case = partial(editable.importers_at_once, backend=backend)
            bench_cases.append((f"{backend}: {editable.WORKERS} imports at once after an edit", case))
        if "cython" in faults:
            bench_cases.append((f"{backend}: Cython changed", partial(editable.changed_cython, backend=backend)))
    return bench_cases


def markdown(data: dict) -> str:
    rows = [["fault", "backend", "mode", "where", "outcome", "what happened"]]
    for r in data["rows"]:
        outcome = f"**{r['outcome']}**" if r["outcome"] == LOST else r["outcome"]
        rows.append([r["fault"], r["backend"], r["mode"], r["where"], outcome, r["note"].replace("|", "\\|")])
    counts = ", ".join(f"{n} {o}" for o, n in data["counts"].items() if n)
    if linked := sum(r["outcome"] == LOST and bool(r["details"].get("backend")) for r in data["rows"]):
        counts += f" ({linked} of the lost through the backend itself, its issue linked in the row)"
    return (
        f"# Faults ({data['date']}, {data['machine']})\n\n"
        f"`{data['command']}`, {data['seconds'] / 60:.1f} min; SOURCE_DATE_EPOCH={data['SOURCE_DATE_EPOCH']}. "
        f"{counts}.\n\n{md_table(rows)}\n"
    )


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="nox -s faults --", description=DOC.split("\n\n")[0])
    parser.add_argument("backends", nargs="*", metavar="BACKEND", help=f"any of {', '.join(NAMES)} (default: all)")
    parser.add_argument("--smoke", action="store_true", help="CI's set: SIGKILL during compile, two builds at once")
    parser.add_argument("--only", nargs="+", choices=FAULTS, default=list(FAULTS), help="these faults only")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (checkouts, logs) for reading")
    parser.add_argument("--out", type=Path, default=ROOT / "reports", help="where faults.json and .md go")
    args = parser.parse_args(argv)
    if unknown := set(args.backends) - set(NAMES):
        parser.error(f"unknown backend(s) {sorted(unknown)}: choose from {', '.join(NAMES)}")
    if sys.platform == "win32":
        print("skipped: the faults use POSIX signals, process groups and a shell wrapper for CC")
        return 0
    # A shell starts a background job (`nox -s faults &`, nohup) with SIGINT ignored, and its children
    # inherit that: every "SIGINT during ..." build would go on as if nothing came. A handler here is
    # reset to the default in each command the run starts.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    work = Path(tempfile.mkdtemp(prefix="faults-"))
    bench = Bench(work)
    todo = plan(args.backends or list(NAMES), args.only, args.smoke)
    rows, t0 = [], time.perf_counter()
    try:
        for i, (label, case) in enumerate(todo, 1):
            print(f"[{i}/{len(todo)}] {label} ...", flush=True)
            try:
                row = case(bench)
            except Exception as error:  # noqa: BLE001  # one case that cannot run is a row, not the end of the run
                backend = label.split(":")[0]
                row = Row(label.split(": ", 1)[1], backend, WHEEL, "repo", SKIPPED, f"could not run: {error}")
            if row.outcome == LOST and (why := known(row)):
                row.note += f"; backend: {why}"
                row.details["backend"] = why
            rows.append(row)
            print(f"    {row.outcome} ({row.seconds:.0f} s): {row.note}", flush=True)
    except KeyboardInterrupt:
        print("interrupted: the report holds the cases run so far", file=sys.stderr)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    counts = Counter(r.outcome for r in rows)
    data = {
        "command": command_line("faults", argv),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": describe(machine()),
        "SOURCE_DATE_EPOCH": bench.epoch,
        "seconds": time.perf_counter() - t0,
        "counts": {o: counts.get(o, 0) for o in OUTCOMES},
        "rows": [r.as_dict() for r in rows],
    }
    md = markdown(data)
    path = write_report(args.out, "faults", data, md)
    print(md)
    print(f"wrote {path} and faults.md")
    # A lost row fails the run unless the backend's own issue is beside it (KNOWN).
    return 1 if any(r.outcome == LOST and not r.details.get("backend") for r in rows) else 0
