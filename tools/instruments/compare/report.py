"""compare's Markdown: build times, sizes, linkage and configuration per backend, then the default flags against equal ones."""

from __future__ import annotations

from tools.instruments.compare.setups import SETTING_TITLES, SETTINGS
from tools.instruments.measure import DASH, NO_SPREAD, fmt_change, mark_best, md_table
from tools.registry.backends import NAMES


def _listed(values: list[str] | None) -> str:
    return "n/a" if values is None else ", ".join(values) or "none"


def _timed(data: dict, mode: str, spec: str = ".1f") -> list[str]:
    """One cell per backend: median (min-max), the fastest in bold when clear of the next, or "tie"."""
    return mark_best([data["backends"][b]["times"][mode] for b in NAMES], spec)


def rows(data: dict) -> list[list[str]]:
    b = data["backends"]

    def each(fn) -> list[str]:
        return [fn(b[k]) for k in NAMES]

    def imports(key: str) -> list[str]:
        return mark_best([b[k][key] for k in NAMES], ".2f")

    out = [["", *(f"{k} ({b[k]['backend']})" for k in NAMES)]]
    out += [[f"{m} (s)", *_timed(data, m)] for m in data["modes"]]
    if shared := data.get("shared_mode"):  # reports before 2026-12-05 have no shared build
        out.append([f"{shared} (s)", *_timed(data, shared)])
        change = [fmt_change(b[k]["times"]["uv isolated"], b[k]["times"][shared]) for k in NAMES]
        out.append(["build time, per-module → shared utility", *change])
    out += [
        ["sdist size (kB)", *each(lambda r: f"{r['sdist_bytes'] / 1000:.1f}")],
        ["sdist files", *each(lambda r: str(len(r["sdist_files"])))],
        ["wheel builds from sdist", *each(lambda r: "yes" if r["wheel_from_sdist"] else "NO")],
        ["import, nothing changed (s)", *imports("import_unchanged_s")],
        ["editable: .pyx edit seen on import", *each(lambda r: "yes" if r["edit_visible"] else "no")],
        ["editable: first import after edit (s)", *imports("import_after_edit_s")],
        ["wheel size (kB)", *each(lambda r: f"{r['wheel_bytes'] / 1000:.1f}")],
        *(
            [["wheel size, shared utility (kB)", *each(lambda r: f"{r['shared_wheel_bytes'] / 1000:.1f}")]]
            if shared
            else []
        ),
        ["wheel files", *each(lambda r: str(len(r["files"])))],
        ["compile flags", *each(lambda r: "n/a" if r["compile_flags"] is None else " ".join(r["compile_flags"]))],
        ["libraries linked (DT_NEEDED)", *each(lambda r: "n/a" if r["needed"] is None else ", ".join(r["needed"]))],
        ["libgomp linked", *each(lambda r: {None: "n/a", True: "yes", False: "NO"}[r["libgomp"]])],
        ["SIMD square roots in _kernels (objdump)", *each(lambda r: _listed(r.get("simd_square_roots")))],
        ["build-file lines that choose an instruction set", *each(lambda r: str(r["dispatch_lines"]))],
        ["config lines", *each(lambda r: " + ".join(f"{n} {f}" for f, n in r["config_lines"].items()))],
    ]
    return out


def describe(effective: dict | None) -> str:
    """-O3, -g, visibility=default, -fwrapv, -DNDEBUG: the flags that decide, as the compiler takes them."""
    if effective is None:
        return "n/a"
    return " ".join(
        [
            effective["opt"],
            "-g" if effective["debug"] else "no -g",
            f"visibility={effective['visibility']}",
            "-fwrapv" if effective["wrapv"] else "no -fwrapv",
            "-DNDEBUG" if effective["ndebug"] else "no -DNDEBUG",
        ]
    )


def agree(data: dict, setting: str) -> bool | None:
    """Whether every backend compiled `setting` with the same -O, -g, visibility, -fwrapv and -DNDEBUG; None if unread."""
    found = [data["backends"][b]["flag_builds"][setting]["effective_flags"] for b in NAMES]
    return None if None in found else all(f == found[0] for f in found)


def _kb(change: float) -> str:
    """+337.7, or +0.0 where a few bytes less would print as -0.0."""
    return f"{round(change, 1) + 0.0:+.1f}"


def _debug(build: dict) -> str:
    if build["debug_bytes"] is None:
        return "n/a"
    return f"{build['debug_bytes'] / 1000:.1f} kB, {'symbol table' if build['symtab'] else 'stripped'}"


def flag_rows(data: dict) -> list[list[str]]:
    """The default build against the equal-flags build, and the price of -g, per backend."""
    b = data["backends"]
    modes = data["flag_modes"]

    def each(fn) -> list[str]:
        return [fn(b[k]) for k in NAMES]

    def times(r: dict, setting: str) -> list[float]:
        return r["times"][modes[setting]]

    def size(r: dict, setting: str) -> float:
        return r["flag_builds"][setting]["wheel_bytes"] / 1000

    out = [["", *(f"{k} ({b[k]['backend']})" for k in NAMES)]]
    for setting in SETTINGS:
        title = SETTING_TITLES[setting]
        out.append(
            [f"as compiled, {title}", *each(lambda r, s=setting: describe(r["flag_builds"][s]["effective_flags"]))]
        )
    for setting in SETTINGS:
        out.append([f"clean wheel build, {SETTING_TITLES[setting]} (s)", *_timed(data, modes[setting])])
    out.append(
        ["build time, default → equal flags", *each(lambda r: fmt_change(times(r, "default"), times(r, "equal")))]
    )
    out.append(
        ["**-g**: build time, equal flags → + -g", *each(lambda r: fmt_change(times(r, "equal"), times(r, "equal_g")))]
    )
    for setting in SETTINGS:
        out.append([f"wheel size, {SETTING_TITLES[setting]} (kB)", *each(lambda r, s=setting: f"{size(r, s):.1f}")])
    out.append(
        ["**-g**: wheel size, equal flags → + -g", *each(lambda r: f"{_kb(size(r, 'equal_g') - size(r, 'equal'))} kB")]
    )
    for setting in SETTINGS:
        out.append(
            [
                f"debug info in the extensions, {SETTING_TITLES[setting]}",
                *each(lambda r, s=setting: _debug(r["flag_builds"][s])),
            ]
        )
    out.append(
        [
            "compile flags, equal flags",
            *each(lambda r: _listed(r["flag_builds"]["equal"]["compile_flags"]).replace(", ", " ")),
        ]
    )
    return out


def markdown(data: dict) -> str:
    tools = ", ".join(f"{k} {v}" for k, v in data["tools"].items())
    reps = data["reps"]
    if data.get("smoke", reps < 2):
        runs = f"**smoke run: 1 repetition, no spread** (nothing below is a tie or a difference: {NO_SPREAD})"
    else:
        runs = f"median (min{DASH}max) of {reps} interleaved repetitions"
    if len(data["flag_modes"]) < len(SETTINGS):  # --quick: the default build only
        equal = (
            "A quick run (`--quick`, the main job's): the default build only. The equal-flags and shared-utility "
            "builds are in every other run (`nox -s compare`)."
        )
    else:
        equal = equal_flags(data)
    return f"""# Compare

{data["date"]} · `{data["command"]}` · Python {data["python"]} · {runs}
(imports: median of 5 runs in each repetition) · {tools}

Clean wheel builds from a fresh copy of each template; "isolated" is what users get (a fresh build environment),
"no isolation" is the backend alone (`--full` measures pip and builds without isolation too). Editable installs
without isolation; the edit sets a module-level variable in the `.pyx`, and the next import is checked for it,
without reinstalling. Compile flags are read from the compile command of `_core.c` (setuptools' verbose log,
compile_commands.json for meson and CMake). "Config lines" count code, not comments. No build uses a compiler
cache (`CCACHE_DISABLE=1`: meson would take ccache from PATH by itself; `nox -s compare_ccache` times the cache).
The kernels' speed is `nox -s bench`'s; `nox -s summary` puts both side by side.

A time is the median with the range of the repetitions; the fastest is in **bold** only when its range is clear of
the runner-up's; otherwise every backend whose range overlaps the fastest's is marked "tie", and none is ranked.

{md_table(rows(data))}

{equal}
"""


def equal_flags(data: dict) -> str:
    """The default build against equal flags, and the price of -g: a section of its own."""
    verdicts = {True: "yes", False: "**NO**", None: "n/a"}
    same = ", ".join(f"{SETTING_TITLES[s]}: {verdicts[agree(data, s)]}" for s in SETTINGS)
    flags = "; ".join(f"{SETTING_TITLES[k]} `{v}`" for k, v in data["equal_flags"].items())
    return f"""## The default build against equal flags

Each backend as users get it, and built with the same flags: {flags}.
setuptools takes them through `CFLAGS`, which its distutils puts in place of Python's (setuptools 65 appended it);
meson through `-Dc_args`, after the buildtype's `-O3`; CMake through `CMAKE_C_FLAGS`, before Release's
`-O3 -DNDEBUG`. "As compiled" reads the compile command of one more build of each, the last of each kind of flag
winning. The same -O, -g, visibility, -fwrapv and -DNDEBUG in every column: {same}.
A change is called a tie when the two ranges overlap. The **-g** rows are the price of debug info alone: equal
flags against equal flags with `-g`.

{md_table(flag_rows(data))}"""
