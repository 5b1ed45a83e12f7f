"""Timing and reporting shared by the instruments: one way to interleave, show progress, take options and write.

- `interleave` runs every task once per repetition, in a new shuffled order
  each time, and keeps each task's times, every one of them;
- `spread`, `tie`, `fmt_spread`, `mark_best` and `fmt_change`: how every
  report shows a time, as its median with the min-max of the repetitions,
  and calls two times a tie when their ranges overlap (one repetition has no
  spread, and then nothing is called a tie or a difference);
- a progress line with an estimate of the time left (tqdm): a live bar on a
  terminal, one plain line per finished task otherwise (CI logs);
- `write_report` writes <stem>.json and <stem>.md side by side; `report`
  measures, writes and prints, and ends a failed or interrupted run with a
  short message.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.make.build import StepFailed


@contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    """A temporary folder, removed at the end even after an error or Ctrl-C."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def median(values: Sequence[float]) -> float | None:
    """The median, or None when nothing was measured."""
    return statistics.median(values) if values else None


# What a report says where one repetition leaves no spread to judge a difference by.
NO_SPREAD = "1 rep, no spread"
# Between a range's ends: an en dash, as a hyphen would read as a minus sign.
DASH = "\u2013"


def spread(values: Sequence[float]) -> dict[str, float] | None:
    """{"median", "min", "max", "n"} of the repetitions, as the JSON reports store it; None when nothing was measured."""
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def tie(a: Sequence[float], b: Sequence[float]) -> bool | None:
    """Whether the min-max ranges of two sets of repetitions overlap; None when either has fewer than two.

    None is neither a tie nor a difference: with one repetition the noise of
    this machine is unknown, so reports print NO_SPREAD instead of a verdict.
    Test it with `is True` / `is False`, never by truth value.
    """
    if len(a) < 2 or len(b) < 2:
        return None
    return min(a) <= max(b) and min(b) <= max(a)


def fmt_spread(values: Sequence[float], spec: str = ".1f") -> str:
    """'12.3 (11.9-13.0)', an en dash between the ends: the median and range of the repetitions; 'n/a' for none.

    One repetition has no range: its value alone.
    """
    s = spread(values)
    if s is None:
        return "n/a"
    if s["n"] == 1:
        return format(s["median"], spec)
    return f"{s['median']:{spec}} ({s['min']:{spec}}{DASH}{s['max']:{spec}})"


def mark_best(columns: Sequence[Sequence[float]], spec: str = ".1f", *, higher_is_better: bool = False) -> list[str]:
    """fmt_spread of each column, the best median in bold only when its range is clear of the runner-up's.

    When the best ties with the runner-up, every column whose range overlaps
    the best one's is marked "tie" instead: no ranking is printed on a tie.
    With a single repetition anywhere, nothing is marked (see `tie`).
    """
    cells = [fmt_spread(c, spec) for c in columns]
    measured = [i for i, c in enumerate(columns) if c]
    if len(measured) < 2 or any(len(columns[i]) < 2 for i in measured):
        return cells
    sign = -1 if higher_is_better else 1
    best, runner_up = sorted(measured, key=lambda i: sign * statistics.median(columns[i]))[:2]
    if tie(columns[best], columns[runner_up]) is False:
        cells[best] = f"**{cells[best]}**"
        return cells
    return [f"{cell} tie" if i in measured and tie(columns[i], columns[best]) else cell for i, cell in enumerate(cells)]


@dataclass
class Task:
    """One measured step: `run()` does it and returns the seconds to record (None: nothing to record)."""

    key: Hashable
    label: str
    run: Callable[[], float | None]
    estimate: float = 10.0  # expected wall seconds, for the first estimate of the time left only


class Progress:
    """Progress in seconds of work, with the time left: a tqdm bar on a terminal, plain lines in a log."""

    def __init__(self, total: float, desc: str) -> None:
        self.total, self.done, self.count, self.start = total, 0.0, 0, time.perf_counter()
        self.live = sys.stderr.isatty()
        from tqdm import tqdm  # the instruments' dependency group has it; the summary's users need not

        bar_format = "{desc}: {percentage:3.0f}%|{bar}| {elapsed} elapsed, about {remaining} left{postfix}"
        self.bar = tqdm(total=total, desc=desc, bar_format=bar_format, smoothing=0) if self.live else None

    def step(self, label: str) -> None:
        """Say which task starts."""
        if self.bar is not None:
            self.bar.set_postfix_str(label, refresh=True)

    def advance(self, seconds: float, remaining: float, label: str) -> None:
        """A task took `seconds`; `remaining` is the new estimate of the work still to do."""
        self.done += seconds
        self.count += 1
        self.total = self.done + remaining
        if self.bar is not None:
            self.bar.total = self.total
            self.bar.update(self.done - self.bar.n)
            return
        from tqdm import tqdm

        meter = tqdm.format_meter(
            self.done,
            self.total,
            time.perf_counter() - self.start,
            bar_format="{percentage:3.0f}% · {elapsed} elapsed · about {remaining} left",
        )
        print(f"[{self.count}] {label}: {seconds:.1f} s · {meter}", flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def interleave(
    tasks: Sequence[Task],
    reps: int,
    seed: int,
    desc: str,
    *,
    done: Mapping[Hashable, Sequence[float]] | None = None,
    on_result: Callable[[Hashable, int, float | None], None] | None = None,
) -> dict[Hashable, list[float]]:
    """Run every task once per repetition, in a fresh shuffled order each time; return each key's times.

    The time left is estimated from the tasks' own estimates until a task has
    run once, then from its last measured wall time. A long run can be cut
    and resumed: `done` holds times already measured (a task's first
    len(done[key]) repetitions are not run again, their times are kept), and
    `on_result(key, rep, value)` is called after each run, to save it at once.
    """
    rng = random.Random(seed)
    done = done or {}
    times: dict[Hashable, list[float]] = {task.key: list(done.get(task.key, ()))[:reps] for task in tasks}
    skipped = {task.key: len(times[task.key]) for task in tasks}
    last = {task.key: times[task.key][-1] if times[task.key] else task.estimate for task in tasks}

    def left(order: Sequence[Task], rep: int) -> float:
        return sum(last[t.key] for t in order if rep >= skipped[t.key])

    progress = Progress(sum(left(tasks, rep) for rep in range(reps)), desc)
    try:
        for rep in range(reps):
            order = list(tasks)
            rng.shuffle(order)
            for i, task in enumerate(order):
                if rep < skipped[task.key]:
                    continue
                label = f"rep {rep + 1}/{reps}, {task.label}"
                progress.step(label)
                t0 = time.perf_counter()
                value = task.run()
                wall = time.perf_counter() - t0
                if value is not None:
                    times[task.key].append(value)
                if on_result is not None:
                    on_result(task.key, rep, value)
                last[task.key] = wall
                remaining = left(order[i + 1 :], rep) + sum(left(tasks, r) for r in range(rep + 1, reps))
                progress.advance(wall, remaining, label)
    finally:
        progress.close()
    return times


def fmt_change(before: Sequence[float], after: Sequence[float], spec: str = "+.1f", unit: str = " s") -> str:
    """The change of the median from `before` to `after`, called a tie when their ranges overlap.

    '+1.2 s' (a difference), 'tie (+0.3 s)', or '+0.3 s (1 rep, no spread)'.
    """
    if not before or not after:
        return "n/a"
    change = f"{statistics.median(after) - statistics.median(before):{spec}}{unit}"
    verdict = tie(before, after)
    if verdict is None:
        return f"{change} ({NO_SPREAD})"
    return f"tie ({change})" if verdict else change


def parser(session: str, doc: str, stem: str, *, reps: int = 3) -> argparse.ArgumentParser:
    """The options every instrument takes: --reps, --seed and --out (where <stem>.json and .md go).

    Three repetitions by default: the least that shows a spread, and so tells
    a difference from this machine's noise; --reps 1 is a smoke run.
    """
    from tools.make.render import ROOT

    parser = argparse.ArgumentParser(prog=f"nox -s {session} --", description=doc.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--reps", type=int, default=reps, help=f"interleaved repetitions (default {reps})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the shuffled order")
    parser.add_argument("--out", type=Path, default=ROOT / "reports", help=f"where {stem}.json and .md go")
    return parser


def command_line(session: str, argv: Sequence[str]) -> str:
    """How the report was made: `nox -s <session> -- <argv>`."""
    return " ".join([f"nox -s {session}", *(["--", *argv] if argv else [])])


def md_table(rows: Sequence[Sequence[str]], align: str = "") -> str:
    """A Markdown table: the first row is the header; `align` gives one of 'l', 'r' per column (default left)."""
    header, *body = rows
    marks = {"l": "---", "r": "--:"}
    rule = [marks[a] for a in align] if align else ["---"] * len(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def write_report(out: Path, stem: str, data: dict, markdown: str) -> Path:
    """Write <out>/<stem>.json and <out>/<stem>.md; return the .json path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{stem}.json"
    path.write_text(json.dumps(_str_keys(data), indent=2) + "\n", encoding="utf-8")
    (out / f"{stem}.md").write_text(markdown, encoding="utf-8")
    return path


def _str_keys(value: Any) -> Any:
    """`value` with every dict key a string: JSON has only string keys (scale keys some by N, or by (name, N))."""
    if isinstance(value, dict):
        return {str(k): _str_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_str_keys(v) for v in value]
    return value


def uncached() -> None:
    """Time builds, not a compiler cache: CCACHE_DISABLE=1 for this process and every build it starts.

    meson puts ccache in front of the compiler by itself where ccache is on
    PATH and CC is not set; setuptools and CMake do not. Left on, meson's
    column of a timing was served from the cache (a shared-utility build of
    2 modules: 7.4 s cached, 11.2 s not, on 2026-12-05). `nox -s
    compare_ccache` times the cache itself.
    """
    os.environ["CCACHE_DISABLE"] = "1"


def report(stem: str, measure: Callable[[Any], dict], markdown: Callable[[dict], str], args: Any) -> tuple[dict, Path]:
    """measure(args), its Markdown printed and both written to args.out; a failed step or Ctrl-C ends the program."""
    try:
        data = measure(args)
    except StepFailed as exc:
        sys.exit(str(exc))
    except KeyboardInterrupt:
        print("interrupted: stopped, temporary folders removed", file=sys.stderr)
        sys.exit(130)
    md = markdown(data)
    path = write_report(args.out, stem, data, md)
    print(md)
    return data, path
