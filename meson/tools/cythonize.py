"""Translate every .pyx of the package to C in one Cython process; the build file runs it.

Why: ninja would start one `cython` per .pyx, and each start costs about 1 s
of CPU before any work. Here Cython starts once and translates, in a pool of
workers, the modules whose C is missing, was written by another Cython
version, or is older than a file its Cython depfile names (its .pyx, every
.pxd it cimports however deep).

    python cythonize.py DEPFILE CYTHON [cython options] --sources A.pyx ... --outputs A.c ...

Each output is its module's C; a `.cpp` one translates that module as C++.
The options (-X directives, --shared=..., any of `cython`'s) apply to every
module; CYTHON, the Cython command that comes before them, is not run. An
output is rewritten only when its text changed, so that ninja (restat)
compiles only what changed. DEPFILE tells ninja every .pyx and .pxd read, and
Cython itself (its package and its `cython` script, which an upgrade writes
anew even where the installer keeps the package files' old dates): an
upgrade translates everything again.
"""

import copy
import os
import select
import shutil
import stat
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import Cython
from Cython.Compiler.CmdLine import parse_command_line
from Cython.Compiler.Main import compile_single
from Cython.Utils import file_generated_by_this_cython

try:
    from fcntl import LOCK_EX, flock
except ImportError:  # Windows has no flock(): two builds in one folder at once are not serialized there
    flock = None


def die_with_build():
    """Exit once the build that started this process is gone.

    ninja runs each command in a process group of its own: a build killed
    with its group (Ctrl-C, an importer killed) leaves this process and its
    workers running, holding the lock that the next build waits on. Gone is
    a new parent, or nobody left to read the output (ninja's pipe): a
    shell between ninja and this process, which a build file may put there,
    stays.
    """
    if not hasattr(select, "poll"):  # Windows: no poll(), and an orphan keeps its parent's pid: nothing to watch
        return
    parent = os.getppid()
    out = select.poll()
    if stat.S_ISFIFO(os.fstat(sys.stdout.fileno()).st_mode):  # a tty or /dev/null never hangs up (macOS: POLLNVAL)
        out.register(sys.stdout.fileno(), 0)  # no events asked: POLLERR or POLLHUP come when the reader is gone

    def watch():
        while os.getppid() == parent and not any(e & (select.POLLERR | select.POLLHUP) for _, e in out.poll(0)):
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def read(made):
    """What Cython read to write `made`, from the depfile it wrote beside it (-M): one file a line after the first.

    Cython escapes spaces from 3.2.5 on; before, a line is one name with its spaces as they are.
    """
    lines = Path(f"{made}.dep").read_text(encoding="utf-8").splitlines()[1:]
    return [Path(line.strip().removesuffix("\\").rstrip().replace("\\ ", " ")).resolve() for line in lines]


def escape(path):
    """A file name as make and ninja read it in a depfile."""
    return str(path).replace("$", "$$").replace("#", "\\#").replace(" ", "\\ ")


def stale(made):
    if not file_generated_by_this_cython(made) or not Path(f"{made}.dep").exists():
        return True
    newest = max(path.stat().st_mtime if path.exists() else float("inf") for path in read(made))
    return newest > made.stat().st_mtime


def translate(job):
    source, options, name = job
    return compile_single(source, options, name).num_errors


def main(depfile, cython, *args):
    die_with_build()
    depfile = Path(depfile).absolute()
    split, end = args.index("--sources"), args.index("--outputs")
    sources = [Path(p).resolve() for p in args[split + 1 : end]]
    outputs = [Path(p).absolute() for p in args[end + 1 :]]
    # Module names, and the file names in errors and line traces, start at
    # the folder of the top-level package (src/ in a src layout): pkg/_core.pyx.
    root = sources[0].parent
    while (root / "__init__.py").exists():
        root = root.parent
    os.chdir(root)
    sources = [s.relative_to(root) for s in sources]
    options, _ = parse_command_line([*args[:split], "-M", *map(str, sources)])
    stage = depfile.with_suffix("")  # Cython's C, dated as Cython wrote it
    stage.mkdir(parents=True, exist_ok=True)
    with (stage / "lock").open("w") as lock:
        if flock:  # two builds at once in one folder (two importers): one after the other
            flock(lock, LOCK_EX)
        # A build killed while Cython wrote a C file leaves it cut short but
        # newer than its .pyx, and other options (--shared=..., -X ...) make
        # other C from the same files: translate everything after either.
        unfinished, used = stage / "unfinished", stage / "options"
        wanted = "\n".join(args[:split])
        force = unfinished.exists() or not used.exists() or used.read_text(encoding="utf-8") != wanted
        unfinished.touch()
        jobs = []
        for source, out in zip(sources, outputs, strict=True):
            made = (stage / source).with_suffix(out.suffix)
            if force or stale(made):
                made.parent.mkdir(parents=True, exist_ok=True)
                own = copy.copy(options)
                own.output_file, own.cplus = str(made), out.suffix == ".cpp"
                jobs.append((str(source), own, ".".join(source.with_suffix("").parts)))
                sys.stdout.write(f"Cythonizing {source}\n")
        sys.stdout.flush()
        # The workers watch their parent as well: forked ones hold the lock too.
        cpus = os.process_cpu_count() if hasattr(os, "process_cpu_count") else os.cpu_count()  # Python 3.13+
        workers = max(1, min(len(jobs), cpus or 1, 61))  # 61: Windows' limit
        with ProcessPoolExecutor(workers, initializer=die_with_build) as pool:
            failed = [job[0] for job, errors in zip(jobs, pool.map(translate, jobs), strict=True) if errors]
        if failed:  # Cython printed each error with its file and line; their C says #error
            unfinished.unlink(missing_ok=True)
            sys.exit(f"Cython could not translate {', '.join(failed)}")
        deps = {Path(p).resolve() for p in (Cython.__file__, shutil.which(cython)) if p}
        for source, out in zip(sources, outputs, strict=True):
            made = (stage / source).with_suffix(out.suffix)
            text = made.read_bytes()
            if not out.exists() or out.read_bytes() != text:
                part = out.with_name(out.name + ".part")
                part.write_bytes(text)
                part.replace(out)
            deps.update(read(made))
        names = " ".join(map(escape, sorted(deps)))
        depfile.write_text(f"{escape(outputs[0])}: {names}\n", encoding="utf-8")
        used.write_text(wanted, encoding="utf-8")
        unfinished.unlink(missing_ok=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
