"""`nox -s faults`: faults played against every backend's build, and what each leaves behind.

Each fault runs on a copy of this repository (build/ and dist/ here stay as
they are; every copy is made from one snapshot taken when the run starts),
through the command a user types, `nox -s build_<backend>`, with
SOURCE_DATE_EPOCH set so that any two wheels of one backend must be equal
byte for byte. Per backend the copy is first built clean: that wheel is the
reference every later build must equal.

- interrupted: SIGINT, SIGTERM or SIGKILL to the build's process group when
  a phase starts (configure, compile, link: the first such call of the C
  compiler, through a CC wrapper that logs each call as it starts; pack: the
  wheel's file appearing where the frontend writes it), then the same command
  again;
- two builds at once in one checkout: the second starts once the first holds
  build/.lock;
- odd places: the checkout (and TMPDIR) under a path with a space, with
  non-ASCII letters, longer than 200 characters; every file dated a day
  ahead; the same for a project made by `nox -s new`; the wheel is installed
  and its selftest run;
- a read-only source tree (root on Linux only): the rendered project on a
  read-only bind mount, built by `python -m build` into another folder;
- out of disk (root on Linux only): build/, dist/ and TMPDIR on a tmpfs with
  4 MiB free, then the room made and the build run again;
- the editable install: SIGINT, SIGTERM or SIGKILL during the rebuild on
  import (at its first C compile, and while tools/cythonize.py translates);
  4 processes importing at once after a .pyx edit; Cython changed.

An outcome is "recovered" (the next run, or this one, is correct), "clear
error" (the cause is named and nothing half-made is left in dist/), "lost or
wrong" (a bug), or "skipped" (with why). Results: reports/faults.{json,md}.

    python -m tools.checks.faults [BACKEND ...] [--smoke] [--only FAULT ...] [--keep]
"""
