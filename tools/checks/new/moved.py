"""MOVING.md's steps, taken: the example out, the fixture's package in, then built, tested, covered, checked."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

from tools.checks.new.built import ASKS_TEST, check_coverage, check_twine
from tools.checks.new.fixture import (
    CPP_MODULE,
    DISTUTILS_LINE,
    EXAMPLE,
    MOVED,
    MOVED_AUTHORS,
    MOVED_EXTRAS,
    MOVED_KEYWORDS,
    MOVED_LICENSE,
    MOVED_MARKERS,
    MOVED_METADATA,
    MOVED_MODULES,
    MOVED_README,
    MOVED_TEST_GROUP,
    MOVED_TESTS,
    MOVED_URLS,
)
from tools.checks.new.runner import (
    NAME,
    Failed,
    changed_lines,
    docs_gaps,
    line,
    log,
    rename,
    replace,
    run_nox,
    snapshot,
)
from tools.make.new import new
from tools.make.render import commit
from tools.registry.backends import backend as backend_of

# What each backend's README says to add, and after which line of the template (setuptools, meson's cython_args: the line it changes).
DIRECTIVES = {
    "setuptools": (
        'DIRECTIVES = {"linetrace": COVERAGE}',
        'DIRECTIVES = {"linetrace": COVERAGE, "embedsignature": True, "binding": True}',
    ),
    "meson": ("cython_args = []", "cython_args = ['-X', 'embedsignature=True', '-X', 'binding=True']"),
    "cmake": (
        "find_package(Cython MODULE REQUIRED VERSION 3.1)",
        "list(APPEND CYTHON_ARGS -X embedsignature=True -X binding=True)",
    ),
}
DEFINES = {
    "setuptools": (
        '        include_dirs=["src/mathcore"],',
        """\
        include_dirs=["src/mathcore"],
        define_macros=[("MATHCORE_SCALE", "2")],""",
    ),
    "meson": (
        "py = import('python').find_installation(pure: false)",
        "add_project_arguments('-DMATHCORE_SCALE=2', language: 'c')",
    ),
    "cmake": ("find_package(Cython MODULE REQUIRED VERSION 3.1)", "add_compile_definitions(MATHCORE_SCALE=2)"),
}

# A C++ module, as DEVELOPING.md's "C and C++" says: (the line the step changes or follows, what it becomes).
SETUP_DEPENDS = '        depends=[p for p in paths if p.endswith((".h", ".hpp"))],\n'
CPP_STEPS = {
    "setuptools": [
        (SETUP_DEPENDS, SETUP_DEPENDS + '        language=LANGUAGES.get(name, "c"),\n'),
        (
            "\n\ndef extension(",
            '\nLANGUAGES = {"_edit": "c++"}  # the modules that are C++ (Cython writes C++)\n\n\ndef extension(',
        ),
    ],
    "meson": [
        ("  'c',\n", "  'c',\n  'cpp',\n"),
        (
            "package = 'src/mathcore'\n",
            "package = 'src/mathcore'\nlanguages = {'_edit': 'cpp'}  # the modules that are C++ (Cython writes C++)\n",
        ),
        (
            "  generated += 'mathcore.' + name + '.c'\n",
            "  generated += 'mathcore.' + name + '.' + languages.get(name, 'c')\n",
        ),
        ("    c_args: c_args,\n    # Cython's C", "    c_args: c_args,\n    cpp_args: c_args,\n    # Cython's C"),
    ],
    "cmake": [
        ("LANGUAGES C)", "LANGUAGES C CXX)"),
        ("  find_package(OpenMP REQUIRED COMPONENTS C)", "  find_package(OpenMP REQUIRED COMPONENTS C CXX)"),
        ("  find_package(OpenMP COMPONENTS C)", "  find_package(OpenMP COMPONENTS C CXX)"),
        ("set(_edit_SOURCES edit.cpp edit.h)\n", "set(_edit_SOURCES edit.cpp edit.h)\nset(_edit_LANGUAGE CXX)\n"),
        (
            "  list(APPEND generated ${CMAKE_CURRENT_BINARY_DIR}/mathcore.${name}.c)\n",
            (
                "  if(${name}_LANGUAGE STREQUAL CXX)  # Cython writes C++ for a .cpp\n"
                "    list(APPEND generated ${CMAKE_CURRENT_BINARY_DIR}/mathcore.${name}.cpp)\n  else()\n"
                "    list(APPEND generated ${CMAKE_CURRENT_BINARY_DIR}/mathcore.${name}.c)\n  endif()\n"
            ),
        ),
        ("PRIVATE OpenMP::OpenMP_C)", "PRIVATE OpenMP::OpenMP_C OpenMP::OpenMP_CXX)"),
    ],
}


def list_moved_modules(project: Path, backend: str) -> None:
    """The module list as the docs show it: each module, with the hand-written C and C++ compiled into it."""
    spec = backend_of(backend)
    listing = project / spec.modules.file
    text = spec.modules.write(listing.read_text(encoding="utf-8"), list(MOVED_MODULES))
    if backend == "cmake":  # a <name>_SOURCES line for each, in place of the example's
        lines = "\n".join(f"set({m}_SOURCES {' '.join(own)})" for m, own in MOVED_MODULES.items() if own)
        text = re.sub(r"^set\(_kernels_SOURCES .*\)$", lines, text, flags=re.MULTILINE)
    else:  # the new entries' lists of sources
        quote = spec.modules.quote.format
        for module, own in MOVED_MODULES.items():
            if own:
                entry = f"{quote(module)}: [],"
                text = text.replace(entry, f"{quote(module)}: [{', '.join(quote(s) for s in own)}],")
    listing.write_text(text, encoding="utf-8")
    if (found := spec.modules.sources(text)) != MOVED_MODULES:
        msg = f"{spec.modules.file} lists {found} after the move, not {MOVED_MODULES}: update tools/checks/new/"
        raise Failed(msg)


def take_out_the_example(project: Path) -> None:
    """Step 1: the example out (its package and its tests; tests/test_openmp.py stays), the package in."""
    example_tests = [f"tests/{t}" for t in ("conftest.py", "test_core.py", "children.py")]
    subprocess.run(["git", "rm", "-r", "-q", f"src/{NAME}", *example_tests], cwd=project, check=True)
    if (project / "src").exists():
        msg = "git rm -r src/<package> left src/ behind: MOVING.md's `mkdir -p src` is no longer needed"
        raise Failed(msg)
    for relative, text in MOVED.items():
        path = project / rename(relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rename(text), encoding="utf-8")


def tree_check(project: Path) -> str:
    """What `tools/check_contents.py --tree` says of the tree (its notes and problems)."""
    done = subprocess.run(
        [sys.executable, "tools/check_contents.py", "--tree"], cwd=project, capture_output=True, text=True, check=False
    )
    return done.stdout + done.stderr


def clean_up_the_tree(project: Path, backend: str) -> None:
    """What the tree check names goes: the old sdist's C, and a `# distutils:` line that the build file ignores."""
    said = tree_check(project)
    if f"src/{NAME}/_base.c is C that Cython generated from _base.pyx" not in said:
        msg = f"tools/check_contents.py --tree did not name the old sdist's generated C:\n{said}"
        raise Failed(msg)
    (project / "src" / NAME / "_base.c").unlink()
    pyx = f"src/{NAME}/{CPP_MODULE}.pyx"
    named = f"{pyx}:1: `{DISTUTILS_LINE.strip()}` is read by setup.py builds only"
    if (named in said) is (backend == "setuptools"):
        msg = (
            f"tools/check_contents.py --tree {'named' if named in said else 'did not name'} {pyx}'s first line:\n{said}"
        )
        raise Failed(msg)
    # Gone in all three: setuptools honours it, but then the C++ of the module would not rest on setup.py's line.
    replace(project / pyx, DISTUTILS_LINE, "")
    if backend != "setuptools":
        log(f"the tree check names {pyx}'s `{DISTUTILS_LINE.strip()}`, which {backend} ignores")


def move_package(project: Path, backend: str) -> dict[str, list[str]]:
    """Take MOVING.md's steps to move MOVED in; return, per configuration file, the lines they added or changed."""
    spec = backend_of(backend)
    take_out_the_example(project)
    clean_up_the_tree(project, backend)
    # Tests inside the package move to tests/; the old pytest.ini goes into pyproject.toml.
    inside = project / "src" / NAME / "tests"
    shutil.move(inside / "test_weights.py", project / "tests" / "test_weights.py")
    shutil.rmtree(inside)
    (project / "pytest.ini").unlink()
    before = snapshot(project, [*spec.config_files, ".github/workflows/ci.yml"])
    build_file = project / spec.build_files[0]
    list_moved_modules(project, backend)
    for step in (DIRECTIVES[backend], DEFINES[backend]):
        anchor, added = (rename(text) for text in step)
        if backend == "setuptools" or step is DIRECTIVES["meson"]:  # the line changes in place
            replace(build_file, f"{anchor}\n", f"{added}\n")
        elif backend == "meson":  # after project(): before the line that follows it
            replace(build_file, f"{anchor}\n", f"{added}\n{anchor}\n")
        else:
            replace(build_file, f"{anchor}\n", f"{anchor}\n{added}\n")
    for old, new_text in CPP_STEPS[backend]:
        replace(build_file, rename(old), rename(new_text))
    pyproject = project / "pyproject.toml"
    for pattern, text in MOVED_METADATA.items():
        replace(pyproject, line(pyproject, pattern), text)
    description = line(pyproject, r"description = .*")
    replace(pyproject, description, "\n".join([description, rename(MOVED_AUTHORS), MOVED_KEYWORDS]))
    replace(pyproject, "\n[dependency-groups]\n", f"\n{rename(MOVED_URLS)}\n{MOVED_EXTRAS}\n[dependency-groups]\n")
    # requires-python >= 3.11: 3.10 leaves the classifiers and CI's test matrix.
    replace(pyproject, '  "Programming Language :: Python :: 3.10",\n', "")
    workflow = project / ".github" / "workflows" / "ci.yml"
    replace(workflow, line(workflow, r"        python: \[.*\]"), '        python: ["3.11", "3.x", "3.14t"]')
    replace(pyproject, line(pyproject, r"test = \[.*\]"), MOVED_TEST_GROUP)
    testpaths = line(pyproject, r"testpaths = .*")
    replace(pyproject, testpaths, f"{testpaths}\n{MOVED_MARKERS}")
    return changed_lines(project, before)


def check_example_gone(project: Path) -> None:
    """No file that git tracks in the moved project names the example any more."""
    listed = subprocess.run(["git", "ls-files"], cwd=project, capture_output=True, text=True, check=True)
    left = [
        f"{file}:{number}: {line.strip()}"
        for file in listed.stdout.splitlines()
        for number, line in enumerate((project / file).read_text(encoding="utf-8").splitlines(), 1)
        if EXAMPLE.search(line)
    ]
    if left:
        msg = "the example is still named in the moved project:\n  " + "\n  ".join(left)
        raise Failed(msg)


def check_ignored_c(project: Path) -> None:
    """A hand-written .c that git ignores: `nox -s tests` and `nox -s build` fail, naming it and the .gitignore line."""
    source = f"src/{NAME}/scale.c"
    gitignore = project / ".gitignore"
    original = gitignore.read_text(encoding="utf-8")
    gitignore.write_text(original + "*.c\n", encoding="utf-8")
    line = len(original.splitlines()) + 1
    subprocess.run(["git", "rm", "-q", "--cached", source], cwd=project, check=True)
    commit(project, "Ignore *.c, as an old .gitignore did", [".gitignore"])
    expected = f"{source} is ignored by git (line {line} of .gitignore: *.c)"
    try:
        for session in ("tests", "build"):
            output = run_nox(project, session, capture=True)
            if "Session " + session + " failed" not in output or expected not in output:
                msg = (
                    f"`nox -s {session}` with {source} ignored did not fail naming it ({expected!r}):\n{output[-4000:]}"
                )
                raise Failed(msg)
            named = [line for line in output.splitlines() if expected in line]
            log(f"ignored {source}: `nox -s {session}` fails with: {named[-1].strip()}")
    finally:
        gitignore.write_text(original, encoding="utf-8")
        commit(project, "Track scale.c again", [".gitignore", source])
        shutil.rmtree(project / "dist", ignore_errors=True)


def check_metadata(wheel: Path) -> None:
    """The wheel's metadata is the moved package's: version, summary, authors, license, Python, URLs, README."""
    with zipfile.ZipFile(wheel) as whl:
        metadata = whl.read(next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))).decode()
        licenses = [n for n in whl.namelist() if ".dist-info/licenses/" in n]
    expected = [
        "Version: 1.4.0",
        "Summary: Scaled sums, moved here from a setup.py project",
        "License-Expression: BSD-3-Clause",
        "License-File: LICENSE",
        "Requires-Python: >=3.11",
        "Classifier: Typing :: Typed",
        f"Project-URL: Homepage, https://example.org/{NAME}",
        "Provides-Extra: numpy",
        MOVED_README.splitlines()[2],
    ]
    lines = metadata.splitlines()
    lacking = [text for text in expected if text not in lines]
    # Field names are case-insensitive (Author-email, Author-Email).
    lacking += [f for f in ("author-email:", "keywords:") if not any(t.lower().startswith(f) for t in lines)]
    if lacking or "Programming Language :: Python :: 3.10" in metadata or len(licenses) != 1:
        msg = f"{wheel.name}'s metadata is not the moved package's (lacks {lacking}, licenses {licenses}):\n{metadata}"
        raise Failed(msg)
    with zipfile.ZipFile(wheel) as whl:
        carried = whl.read(licenses[0]).decode()
    if carried != MOVED_LICENSE:
        msg = f"{wheel.name} carries the template's LICENSE, not the moved package's:\n{carried}"
        raise Failed(msg)


def check_moved(tmp: Path, backend: str) -> None:
    """A second project: the example taken out and MOVED put in as MOVING.md says, then built, tested, covered."""
    project = tmp / "moved" / NAME
    new(backend, project, NAME)
    added = move_package(project, backend)
    if gaps := docs_gaps(project, added):
        raise Failed("the docs do not show what their steps to move a package write:\n  " + "\n  ".join(gaps))
    # The README and the LICENSE are the package's own; the guide is deleted once followed.
    (project / "README.md").write_text(MOVED_README, encoding="utf-8")
    (project / "LICENSE").write_text(MOVED_LICENSE, encoding="utf-8")
    subprocess.run(["git", "rm", "-q", "MOVING.md"], cwd=project, check=True)
    commit(project, "Move fastsum here, as MOVING.md says")
    check_example_gone(project)
    junit = tmp / "junit-moved.xml"
    # `build` runs the project's tools/check_contents.py: the .pxd and the subpackage must be in the sdist and the wheel.
    run_nox(project, "tests", "build", env={"PYTEST_ADDOPTS": f"--junitxml={junit}"})
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    bad = [c.get("name") for c in cases if any(x.tag in {"failure", "error", "skipped"} for x in c)]
    ran = {f: sum(1 for c in cases if c.get("classname", "").endswith(Path(f).stem)) for f in MOVED_TESTS}
    # tests/test_openmp.py outlives the example: _ops uses OpenMP (prange, scale.c), and so does edit.cpp.
    linkage = sorted(c.get("name") for c in cases if c.get("classname", "").endswith("test_openmp"))
    wanted = [f"{ASKS_TEST}[{NAME}.{module}]" for module in sorted([CPP_MODULE, "_ops"])]
    if ran != MOVED_TESTS or bad or linkage != wanted:
        msg = f"the moved package's tests did not all pass: ran {ran} (expected {MOVED_TESTS}), {linkage}, not passed: {bad}"
        raise Failed(msg)
    wheels = sorted((project / "dist").glob(f"{NAME}-1.4.0-*.whl"))
    if len(wheels) != 1:
        msg = f"expected one wheel of version 1.4.0 in {project / 'dist'}"
        raise Failed(msg)
    check_metadata(wheels[0])
    check_twine(project)
    log(
        f"moved: {sum(ran.values())} tests and {', '.join(linkage)} passed; {wheels[0].name} holds the .pxd, the data, no C"
    )
    check_coverage(project, required={CPP_MODULE, "_ops"})
    check_ignored_c(project)
