"""The roots' command line: `make SUITE ARCH PKGS`, `why ARCH`, `run SUITE ARCH PKGS [--bind ...] -- CMD`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from tools.make.roots import __doc__ as DOC
from tools.make.roots.cache import Root, ensure
from tools.make.roots.chroot import Bind, run
from tools.make.roots.host import unavailable


def _packages(text: str) -> tuple[str, ...]:
    return tuple(p for p in text.replace(" ", ",").split(",") if p)


def main(argv: Sequence[str] | None = None) -> int:
    """`make SUITE ARCH PKGS`, `why ARCH`, `run SUITE ARCH PKGS [--bind H:T[:rw]] [--cwd D] [--timeout S] -- CMD`."""
    parser = argparse.ArgumentParser(description=DOC.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    make = verbs.add_parser("make", help="make the root if it is not cached; print its path")
    why = verbs.add_parser("why", help="print why roots of ARCH cannot be used here, or ok")
    why.add_argument("arch", nargs="?", default=None)
    runner = verbs.add_parser("run", help="run a command in a root (made when needed)")
    for sub in (make, runner):
        sub.add_argument("suite")
        sub.add_argument("arch")
        sub.add_argument("packages", nargs="?", default="", help="comma-separated Debian packages")
    runner.add_argument("--bind", action="append", default=[], help="HOST:TARGET or HOST:TARGET:rw")
    runner.add_argument("--cwd")
    runner.add_argument("--timeout", type=float, default=3600)
    # Everything after the first "--" is the command, whatever options it has.
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    command = argv[split + 1 :]
    if args.verb == "why":
        print(unavailable(args.arch) or "ok")
        return 0
    root = Root(args.suite, args.arch, _packages(args.packages))
    path = ensure(root)
    if args.verb == "make":
        print(path)
        return 0
    binds: dict[str | os.PathLike[str], str | Bind] = {}
    for spec in args.bind:
        host, _, rest = spec.partition(":")
        target, _, mode = rest.partition(":")
        binds[host] = Bind(target or host, writable=mode == "rw")
    return run(root, command or ["/bin/sh"], binds=binds, cwd=args.cwd, timeout=args.timeout, check=False).returncode
