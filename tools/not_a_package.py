"""A PEP 517 build backend that refuses to build: the repository root is not a package.

The root pyproject.toml holds tooling configuration only. Without a
[build-system] table, pip and build would fall back to setuptools, which
either guesses packages from the folders here or builds an empty package
named UNKNOWN. This in-tree backend (`backend-path`) turns every build
request into one clear error instead, with no download and nothing written.
"""

MESSAGE = """\
This repository is not a Python package: there is nothing here to build or install.
It builds one Cython core with three backends, each a package of its own:
    nox -s build            sdists and wheels of all three, into dist/<backend>/
    nox -s build_meson      one of them (or build_setuptools, build_cmake)
The development tools are dependency groups of pyproject.toml:
    pip install --group dev     (pip >= 25.1)
See README.md."""


def _refuse(*_args: object, **_kwargs: object) -> None:
    raise SystemExit(MESSAGE)


# The mandatory hooks, the optional ones a frontend calls first, and PEP 660's
# editable hooks: `pip install .`, `pip install -e .` and `python -m build`
# all stop at their first step with the message above.
build_wheel = build_sdist = build_editable = _refuse
get_requires_for_build_wheel = get_requires_for_build_sdist = get_requires_for_build_editable = _refuse
prepare_metadata_for_build_wheel = prepare_metadata_for_build_editable = _refuse
