"""How each backend's builds and development loop grow with the number of compiled modules (`nox -s scale`).

For each N in --modules, each backend's template is rendered with N compiled
modules on two levels around the core's `_kernels` (steps.module_graph), and
these are timed, interleaved in a shuffled order in every repetition:

- a clean wheel build, the user's path: `uv build --wheel`, isolated, taken
  apart into phases, with its peak memory and the size of its build folder;
  each backend also with one compile job at some N (parallel efficiency);
- the edit loop, in each backend's editable install: an edit to one .pyx,
  and an edit to `_kernels.pxd`, until the next import sees it (in every
  module for the .pxd, the second level included); and the import with
  nothing changed.

With `--old-templates REV`, each template that changed since REV is timed
twice in every step, as it is and as it was there (`meson_old`, exported
with `git archive`), interleaved: the two ways side by side, like for like.
`--no-shared` leaves the shared-utility builds out.

By concern: `setups` (what is timed), `record` (every point saved at once,
and read back by --resume), `analysis` (fits, predictions, efficiency,
phases), `report` (Markdown), `chart` (PNG), `cli` (options and the run).
"""

from tools.instruments.scale.setups import build_requires

__all__ = ["build_requires"]
