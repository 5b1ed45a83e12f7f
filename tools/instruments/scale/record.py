"""Every measured point as it comes, written to the JSON at once, and read back to resume a run.

A run of the default sizes takes over an hour, so a lost terminal or a reboot must
not lose what was measured: each (task, repetition) becomes a point in
`points`, and the file is rewritten after each one (to a temporary file,
then renamed, so that a kill mid-write leaves the previous version).
`--resume FILE` reads the points back: interleave skips the pairs they hold
and keeps their times.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Hashable
from pathlib import Path
from typing import Any

from tools.instruments.measure import _str_keys

# A task's key: (kind, backend or variant label, N).
Key = tuple[str, str, int]
KINDS = ("wheel", "edit", "edit pxd", "import", "editable install")
# What each clean wheel build records about its wheel: its size, and what it unpacks to (the installed size).
SIZES = ("wheel_bytes", "installed_bytes")


def key_of(task: list | tuple) -> Key:
    """A point's task as the key interleave uses (JSON turns the tuple into a list)."""
    kind, name, n = task
    return (str(kind), str(name), int(n))


class Record:
    """The points measured so far (resumed ones included) and where they are written after each one."""

    def __init__(self, path: Path | None, header: dict[str, Any], points: list[dict] | None = None) -> None:
        self.path, self.header = path, header
        self.points: list[dict] = list(points or [])
        self._pending: dict[Hashable, dict] = {}
        self._start = time.perf_counter()

    @classmethod
    def resume(cls, source: Path, path: Path | None, header: dict[str, Any]) -> Record:
        """The points of an earlier run's JSON (complete or cut short); this run writes to `path`."""
        earlier = json.loads(Path(source).read_text(encoding="utf-8"))
        record = cls(path, header, earlier.get("points", []))
        record.header["resumed_from"] = {"file": str(source), "points": len(record.points)}
        record.header["earlier_duration_s"] = earlier.get("duration_s", 0.0) + earlier.get("earlier_duration_s", 0.0)
        return record

    def done(self) -> dict[Key, list[float]]:
        """Each task's recorded seconds, in the order of their repetitions."""
        out: dict[Key, list[tuple[int, float]]] = {}
        for p in self.points:
            out.setdefault(key_of(p["task"]), []).append((p["rep"], p["seconds"]))
        return {k: [s for _, s in sorted(v)] for k, v in out.items()}

    def note(self, key: Hashable, **extra: Any) -> None:
        """What a task saw besides its seconds (phases, memory, libraries); kept with its next point."""
        self._pending.setdefault(key, {}).update(extra)

    def add(self, key: Hashable, rep: int, seconds: float | None) -> None:
        """A task's repetition finished: keep it and write the file now."""
        extra = self._pending.pop(key, {})
        if seconds is None:
            return
        self.points.append({"task": list(key), "rep": rep, "seconds": seconds, **extra})
        self.save()

    def keep_first(self, key: Hashable, seconds: float | None) -> None:
        """Record a measurement made once (the first editable install) unless a resumed run has it."""
        if key_of(key) not in self.done():
            self.add(key, 0, seconds)
        else:
            self._pending.pop(key, None)

    def save(self, extra: dict[str, Any] | None = None) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The time so far, so that a run resumed after a kill still adds up what the earlier one took.
        data = {**self.header, "duration_s": time.perf_counter() - self._start, **(extra or {}), "points": self.points}
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(json.dumps(_str_keys(data), indent=1) + "\n", encoding="utf-8")
        partial.replace(self.path)


def collect(points: list[dict], wanted: set[Key] | None = None) -> dict:
    """The report's `data` from the points: medians as before (summary reads them), every time, each build's details.

    Only the tasks in `wanted` (this run's plan) when given: a resumed file
    may hold sizes this run no longer asks for.
    """
    data: dict[str, Any] = {kind: {} for kind in KINDS}
    data.update({"times": {}, "edit seen": {}, "libs": {}, "builds": {}})
    ordered = sorted(points, key=lambda p: (key_of(p["task"]), p["rep"]))
    for p in ordered:
        kind, name, n = key = key_of(p["task"])
        if wanted is not None and key not in wanted:
            continue
        data["times"].setdefault(kind, {}).setdefault(name, {}).setdefault(n, []).append(p["seconds"])
        if "seen" in p:
            seen = data["edit seen"].setdefault("pyx" if kind == "edit" else "pxd", {}).setdefault(name, {})
            seen[n] = seen.get(n, True) and bool(p["seen"])
        if p.get("libs") is not None:
            data["libs"].setdefault(name, {}).setdefault(n, p["libs"])
        if kind == "wheel":
            build = {k: p.get(k) for k in ("seconds", "phases", "peak_bytes", "disk_bytes", *SIZES)}
            data["builds"].setdefault(name, {}).setdefault(n, []).append(build)
    for kind, per_name in data["times"].items():
        for name, series in per_name.items():
            data[kind][name] = {n: statistics.median(v) for n, v in sorted(series.items())}
    return data
