"""What `nox -s test_new` checks: a project from `new` stands on its own, and its docs' steps work.

Two projects per backend: the example grown by a module that cimports NumPy,
as DEVELOPING.md says; and a second one where the example is taken out and a
package of a real package's shape moved in, as MOVING.md says: modules that
cimport each other through a .pxd, hand-written C with an OpenMP loop of its
own compiled into one of them, a module compiled with hand-written C++ and
its header (its `# distutils: language = c++` named by the tree check where
the backend ignores it), an old sdist's generated C, a subpackage with data,
global Cython directives, a define from an old setup.py, tests inside the
package, an old pytest.ini, a test-only requirement, and its metadata
(version, summary, authors, keywords, URLs, extras, license, README, oldest
Python).

Each is generated outside this repository under a name other than mathcore,
and must name no other backend. The steps of its docs are taken as a user
would; the lines each step adds must appear in the docs as they are. The
project is committed and built and tested by its own noxfile (fresh
environments, only its own files); its sdist and wheel must pass `twine
check --strict`; a meson project must refuse to build from uncommitted
changes; the `develop` session's editable install must show an edit to a
.pyx; the `coverage` session must report the lines of every .pyx, the C++
module's included; a wheel built from the tree with strays planted beside
the sources (Cython's C, __pycache__/) must hold what the wheel from the
sdist holds; the docs' switch for the shared utility module, passed to `nox
-s build` as they say, must give a wheel with <name>/_cyutility that the
project's tests pass against; its CI configuration is checked as far as it
can be here. The moved project's hand-written C, once ignored by git, must
make `nox -s tests` and `nox -s build` fail, naming it and the line of
.gitignore.

By concern: `runner` (the name, the docs, edits as a user makes them, the
project's noxfile run), `numpy_example` (DEVELOPING.md's module that cimports
NumPy), `fixture` (the package moved in, as files), `moved` (MOVING.md's
steps and the moved project's checks), `built` (the checks on a built
project), `cli` (the run, in order).
"""

from tools.checks.new.built import BACKEND_NAMES, shared_switch

__all__ = ["BACKEND_NAMES", "shared_switch"]
