"""Repair the built wheels as a release would: `auditwheel repair`, OpenMP runtime vendored, manylinux tag.

    python -m tools.instruments.repair [--out DIR]

Each wheel under dist/ (gcc's, clang's and the abi3 ones) links the build
machine's OpenMP runtime, libgomp.so.1 or libomp.so.5: where that runtime is
absent, the import fails. `auditwheel repair` copies it into the wheel, as
`<package>.libs/libgomp-<hash>.so.1.0.0`, points the modules at the copy, and
tags the wheel with the oldest manylinux the libraries allow; cibuildwheel
does the same for wheels on PyPI. The repaired wheels go to
build/repaired/<folder>/, and reports/repair.{json,md} give, per wheel, the
tag, the libraries vendored and the size before and after. Linux only; needs
auditwheel and patchelf.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tools.inspect.host import machine
from tools.instruments.measure import md_table, write_report
from tools.make.render import ROOT
from tools.registry.variants import Variant, select

REPAIRED = ROOT / "build" / "repaired"


def candidates() -> list[Variant]:
    """The variants under dist/ (gcc's, clang's, abi3): the wheels a release would repair."""
    return select(dist_root="dist")


def repaired_wheels(variant: Variant) -> list[Path]:
    return sorted((REPAIRED / variant.folder).glob(f"{variant.name}-*.whl"))


def vendored(wheel: Path, name: str) -> list[str]:
    with zipfile.ZipFile(wheel) as whl:
        return sorted(Path(p).name for p in whl.namelist() if p.startswith(f"{name}.libs/") and not p.endswith("/"))


def repair(variant: Variant) -> dict | None:
    """auditwheel repair of the variant's wheel into build/repaired/<folder>/; what it did, or None if not built."""
    wheels = variant.wheels(ROOT)
    if not wheels:
        return None
    (wheel,) = wheels[-1:]
    out = REPAIRED / variant.folder
    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run(
        [sys.executable, "-m", "auditwheel", "repair", "--wheel-dir", str(out), str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        msg = f"auditwheel repair {wheel.name} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        raise SystemExit(msg)
    (fixed,) = repaired_wheels(variant)
    return {
        "variant": variant.label,
        "wheel": wheel.name,
        "repaired": fixed.name,
        "tag": "-".join(fixed.stem.split("-")[-3:]),
        "vendored": vendored(fixed, variant.name),
        "bytes_before": wheel.stat().st_size,
        "bytes_after": fixed.stat().st_size,
    }


def markdown(rows: list[dict]) -> str:
    table = [["wheel", "tag after repair", "vendored", "kB before", "kB after"]]
    table += [
        [
            r["variant"],
            f"`{r['tag']}`",
            ", ".join(r["vendored"]) or "nothing",
            f"{r['bytes_before'] / 1000:.1f}",
            f"{r['bytes_after'] / 1000:.1f}",
        ]
        for r in rows
    ]
    return f"""# Repaired wheels (`nox -s repair`)

`auditwheel repair` of each wheel under dist/: the OpenMP runtime it links is copied into the wheel, and the
wheel tagged with the oldest manylinux its libraries allow (the vendored runtime of this machine's Debian sets it).

{md_table(table, "lllrr")}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nox -s repair --", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "reports", help="where repair.json and .md go")
    args = parser.parse_args(argv)
    if sys.platform != "linux":
        print("auditwheel repairs Linux wheels: nothing to do here (delocate and delvewheel do it on macOS, Windows)")
        return 0
    rows = [r for v in candidates() if (r := repair(v))]
    if not rows:
        sys.exit("no wheel under dist/: run `nox -s build` (and build_clang, build_abi3) first")
    data = {"command": "nox -s repair", "machine": machine(), "wheels": rows}
    path = write_report(args.out, "repair", data, markdown(rows))
    print(markdown(rows))
    print(f"repaired into {REPAIRED.relative_to(ROOT)}/; wrote {path} and repair.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
