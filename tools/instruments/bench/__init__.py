"""Time every installed build against the others, the twin, NumPy and Numba.

Run by `nox -s bench` in an environment holding the wheels from dist/ and
the bench dependency group; `python -m tools.instruments.bench --help` lists the options.

Method: every implementation's answer is checked against the closed-form
total before it is timed (a wrong answer is reported WRONG and never timed);
the element count of each is calibrated so one call takes about --target
seconds; after a warm-up, R rounds each run every implementation once in a
shuffled order, and the median of the R times is reported.

By concern: `impls` (every implementation timed: the builds, the twin, the C
reference of `reference.c`, NumPy, Numba), `timing` (answers checked,
calls sized, rounds interleaved), `report` (the table, ratios, Markdown),
`chart` (PNG), `cli` (options and the files written).
"""
