"""Measure what each backend costs and produces, side by side, in one run.

Run by `nox -s compare` in an environment that holds every template's build
requirements (for the builds without isolation) plus pip and uv;
`python -m tools.instruments.compare --help` lists the options.

By default a lean set of what a user meets, three repetitions: a clean wheel
build through uv (isolated), the sdist and a wheel built from it, an editable
install (does a .pyx edit show on the next import, and how long do imports
take), the clean wheel build again with the flags common to all three
backends (EQUAL_FLAGS in tools/registry/backends.py) and with those plus -g,
and with Cython's utility code in one module of its own (the shared-utility
switch, the wheel's size kept), then the compile flags, linkage, debug info and contents of one more build
per flags setting, and each template's configuration size. --full adds pip
and builds without isolation; --reps 1 is a smoke run (no spread, so no
verdicts). Every timed step renders a fresh copy of the template first
(untimed); the steps of all backends are interleaved in a shuffled order in
every repetition; every repetition is kept in the JSON, and the tables show
the median with the min-max, calling overlapping ranges a tie.

By concern: `setups` (what is timed, and the kept build that
tools/inspect/builds.py reads), `cli` (options and the run), `report`
(Markdown), `chart` (PNG); the configuration size is tools/inspect/templates.py's.
"""
