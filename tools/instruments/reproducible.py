"""Build each backend's sdist and wheel twice with SOURCE_DATE_EPOCH; compare the bytes.

The rendered project is copied to two directories and each copy is built
(sdist, then wheel from it) with the same SOURCE_DATE_EPOCH. Identical files
mean the backend's output depends on the sources and that date only. Where
they differ, the members that differ are listed, and for a compiled module
the ELF sections that differ. Results go to reports/reproducible.{json,md}.

    python -m tools.instruments.reproducible [BACKEND ...] [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from tools.instruments.measure import md_table, write_report
from tools.make.build import BuildFailed, build
from tools.make.render import ROOT, render
from tools.registry.backends import NAMES, PLACEHOLDER

WORK = ROOT / "build" / "reproducible"


def epoch() -> str:
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


def measure(backends: list[str]) -> dict:
    """Build `backends` twice each and compare the bytes."""
    date = epoch()
    results = {}
    for backend in backends:
        name = f"{PLACEHOLDER}_{backend}"
        base = WORK / backend
        shutil.rmtree(base, ignore_errors=True)
        render(backend, base / "source", name)
        outs = []
        for run in ("1", "2"):
            # A second checkout of the same commit, at another path.
            project = base / f"checkout-{run}"
            shutil.copytree(base / "source", project, symlinks=True)
            outs.append(base / f"dist-{run}")
            build(project, outs[-1], env={"SOURCE_DATE_EPOCH": date})
        tmp = base / "tmp"
        tmp.mkdir()
        results[backend] = [
            compare(one, outs[1] / one.name, tmp) for one in sorted(outs[0].iterdir()) if (outs[1] / one.name).exists()
        ]
    return {"command": "nox -s reproducible", "SOURCE_DATE_EPOCH": date, "backends": results}


def markdown(data: dict) -> str:
    rows = [["backend", "file", "identical", "what differs"]]
    for backend, files in data["backends"].items():
        rows += [[backend, f["file"], "yes" if f["identical"] else "no", "; ".join(f["differences"])] for f in files]
    epoch = data["SOURCE_DATE_EPOCH"]
    return f"# Reproducible builds (SOURCE_DATE_EPOCH={epoch}, two checkouts, two builds)\n\n{md_table(rows)}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nox -s reproducible --", description=__doc__.split("\n\n")[0])
    parser.add_argument("backends", nargs="*", metavar="BACKEND", help=f"any of {', '.join(NAMES)} (default: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "reports", help="where reproducible.json/.md go")
    args = parser.parse_args(argv)
    if unknown := set(args.backends) - set(NAMES):
        parser.error(f"unknown backend(s) {sorted(unknown)}: choose from {', '.join(NAMES)}")
    try:
        data = measure(args.backends or list(NAMES))
    except BuildFailed as error:
        print(error, file=sys.stderr)
        return 1
    path = write_report(args.out, "reproducible", data, markdown(data))
    print(markdown(data))
    print(f"wrote {path} and reproducible.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
