"""One edited .pyx compiles exactly one C file again, in a project made by `nox -s new`, in each backend.

    python -m tools.checks.rebuild [BACKEND ...]

Per backend: `nox -s new` into a temporary folder, the project's own `nox -s
develop` with CC naming a wrapper that logs every C file compiled, an edit
to one .pyx, then what the project's developer does next: import it
(meson-python and scikit-build-core rebuild on import) or `nox -s develop`
again (setuptools). The import must see the edit, and the log must hold one
compile inside the project, of that module's C. meson and CMake keep the
wrapper in their build folder, so the rebuild on import uses it too.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.make.new import new
from tools.registry.backends import NAMES

NAME, MODULE = "onecompile", "_core"


def logging_cc(folder: Path) -> tuple[dict[str, str], Path]:
    """The environment that compiles through the wrapper, and the log it appends to."""
    folder.mkdir(parents=True, exist_ok=True)
    log, wrapper = folder / "compiled.log", folder / "cc"
    real = os.environ.get("CC", "cc")
    wrapper.write_text(
        "#!/bin/sh\n"
        'for arg in "$@"; do case "$arg" in *.c|*.cpp) '
        f'printf "%s\\t%s\\n" "$PWD" "$arg" >> {shlex.quote(str(log))};; esac; done\n'
        f'exec {real} "$@"\n',
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    log.write_text("", encoding="utf-8")
    return {"CC": str(wrapper)}, log


def compiled(log: Path, project: Path) -> list[Path]:
    """The C and C++ files compiled since the log was emptied, inside `project` (not a compiler probe's scratch file)."""
    found = []
    for line in log.read_text(encoding="utf-8").splitlines():
        folder, _, source = line.partition("\t")
        path = (Path(folder) / source).resolve()
        if path.is_relative_to(project.resolve()):
            found.append(path)
    return found


def check(backend: str, work: Path) -> list[str]:
    """What went wrong in `backend`'s project, or nothing."""
    project = work / backend
    new(backend, project, NAME)
    env, log = logging_cc(work / f"cc-{backend}")
    env = {**os.environ, **env}
    nox = [sys.executable, "-m", "nox", "--noxfile", str(project / "noxfile.py"), "--sessions", "develop"]
    subprocess.run(nox, env=env, check=True, capture_output=True)
    log.write_text("", encoding="utf-8")
    with (project / "src" / NAME / f"{MODULE}.pyx").open("a", encoding="utf-8") as pyx:
        pyx.write("\n_EDITED = 'one compile'\n")
    if backend == "setuptools":  # it compiles at install time only
        subprocess.run(nox, env=env, check=True, capture_output=True)
    python = project / ".nox" / "develop" / "bin" / "python"
    probe = [python, "-c", f"import {NAME}.{MODULE} as m; print(m._EDITED)"]
    seen = subprocess.run(probe, cwd=work, env=env, capture_output=True, text=True, check=False)
    problems = []
    if "one compile" not in seen.stdout:
        problems.append(f"{backend}: the import did not see the edit: {seen.stdout}{seen.stderr[-2000:]}")
    files = compiled(log, project)
    print(f"{backend}: compiled after the edit: {[str(f.relative_to(project)) for f in files]}")
    if len(files) != 1 or MODULE not in files[0].name:
        problems.append(f"{backend}: the edit to {MODULE}.pyx compiled {len(files)} C files, not its own only")
    return problems


def main(argv: list[str] | None = None) -> int:
    backends = (argv if argv is not None else sys.argv[1:]) or list(NAMES)
    problems = []
    with tempfile.TemporaryDirectory(prefix="rebuild-") as tmp:
        for backend in backends:
            problems += check(backend, Path(tmp))
    print("\n".join(problems) or f"ok: one edited .pyx compiled one C file in {', '.join(backends)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
