"""Build each backend's sdist and wheel twice with SOURCE_DATE_EPOCH; compare the bytes.

The rendered project is copied to two directories and each copy is built
(sdist, then wheel from it) with the same SOURCE_DATE_EPOCH. Identical files
mean the backend's output depends on the sources and that date only. Where
they differ, the members that differ are listed, and for a compiled module
the ELF sections that differ. Results go to reports/reproducible.{json,md}.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import nox

from tools.building import build
from tools.render import BACKENDS, ROOT, render, variant

WORK = ROOT / "build" / "reproducible"
REPORTS = ROOT / "reports"


def _epoch() -> str:
    """The last commit's time: what a release build would use."""
    done = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=ROOT, check=False, capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else "1700000000"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sections(data: bytes, tmp: Path) -> dict[str, str]:
    """sha256 of each ELF section's contents (debug sections included), via binutils."""
    lib = tmp / "lib.so"
    lib.write_bytes(data)
    listing = subprocess.run(["readelf", "-SW", str(lib)], check=True, capture_output=True, text=True).stdout
    sums = {}
    for name in re.findall(r"^\s*\[\s*\d+\]\s+(\S+)", listing, re.MULTILINE):
        out = tmp / "section"
        subprocess.run(
            ["objcopy", f"--dump-section={name}={out}", str(lib), str(tmp / "scratch")],
            capture_output=True,
            check=False,
        )
        sums[name] = hashlib.sha256(out.read_bytes()).hexdigest() if out.exists() else "(no contents)"
        out.unlink(missing_ok=True)
    return sums


# Names of the metadata fields that _wheel and _sdist record per member.
ZIP_FIELDS = ("date_time", "external_attr", "compress_type")
TAR_FIELDS = ("mtime", "mode", "uid", "gid", "uname", "gname", "type")


def _diff_members(a: dict[str, tuple], b: dict[str, tuple], order: tuple[list, list], fields, tmp: Path) -> list[str]:
    """What differs between two archives' members: metadata fields by name, then contents."""
    notes, by_field = [], {}
    if order[0] != order[1]:
        notes.append("member order")
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            notes.append(f"{name} only in build {'1' if name in a else '2'}")
            continue
        (meta_a, data_a), (meta_b, data_b) = a[name], b[name]
        for field, x, y in zip(fields, meta_a, meta_b, strict=False):
            if x != y:
                by_field.setdefault(field, []).append(name)
        if data_a != data_b:
            note = f"contents of {name}"
            if data_a[:4] == b"\x7fELF" and shutil.which("objcopy"):
                sa, sb = _sections(data_a, tmp), _sections(data_b, tmp)
                note += f" (ELF sections {', '.join(sorted(x for x in set(sa) | set(sb) if sa.get(x) != sb.get(x)))})"
            notes.append(note)
    notes += [f"{field} of {len(names)} members" for field, names in by_field.items()]
    return notes


def _wheel(path: Path) -> tuple[dict, list]:
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        members = {i.filename: ((i.date_time, i.external_attr, i.compress_type), z.read(i)) for i in infos}
    return members, [i.filename for i in infos]


def _sdist(path: Path) -> tuple[dict, list]:
    raw = path.read_bytes()
    # The gzip header holds a time of its own (bytes 4-8).
    members = {"(gzip header)": ((int.from_bytes(raw[4:8], "little"),), b"")}
    with tarfile.open(path) as t:
        infos = t.getmembers()
        for i in infos:
            data = t.extractfile(i).read() if i.isfile() else b""
            members[i.name] = ((i.mtime, i.mode, i.uid, i.gid, i.uname, i.gname, i.type), data)
    return members, [i.name for i in infos]


def compare(one: Path, two: Path, tmp: Path) -> dict:
    """Compare two builds' artifacts of the same kind."""
    same = _sha(one) == _sha(two)
    result = {"file": one.name, "identical": same, "sha256": [_sha(one), _sha(two)], "differences": []}
    if not same:
        read, fields = (_wheel, ZIP_FIELDS) if one.suffix == ".whl" else (_sdist, TAR_FIELDS)
        (a, order_a), (b, order_b) = read(one), read(two)
        result["differences"] = _diff_members(a, b, (order_a, order_b), fields, tmp) or ["compressed bytes only"]
    return result


def check(session: nox.Session, *backends: str) -> None:
    """Build `backends` (default: all) twice each and report which give identical bytes."""
    epoch = _epoch()
    results = {}
    for backend in backends or BACKENDS:
        base = WORK / backend
        shutil.rmtree(base, ignore_errors=True)
        render(backend, base / "source", variant(backend))
        outs = []
        for run in ("1", "2"):
            # A second checkout of the same commit, at another path.
            project = base / f"checkout-{run}"
            shutil.copytree(base / "source", project, symlinks=True)
            outs.append(base / f"dist-{run}")
            build(session, backend, variant(backend), project, outs[-1], env={"SOURCE_DATE_EPOCH": epoch})
        tmp = base / "tmp"
        tmp.mkdir()
        results[backend] = [
            compare(one, outs[1] / one.name, tmp) for one in sorted(outs[0].iterdir()) if (outs[1] / one.name).exists()
        ]
    REPORTS.mkdir(exist_ok=True)
    report = {"SOURCE_DATE_EPOCH": epoch, "backends": results}
    (REPORTS / "reproducible.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [f"# Reproducible builds (SOURCE_DATE_EPOCH={epoch}, two checkouts, two builds)", ""]
    lines += ["| backend | file | identical | what differs |", "|---|---|---|---|"]
    for backend, files in results.items():
        for f in files:
            lines.append(
                f"| {backend} | {f['file']} | {'yes' if f['identical'] else 'no'} | {'; '.join(f['differences'])} |"
            )
    (REPORTS / "reproducible.md").write_text("\n".join(lines) + "\n")
    for line in lines[2:]:
        session.log(line)
    session.log(f"wrote {(REPORTS / 'reproducible.md').relative_to(ROOT)} and reproducible.json")
