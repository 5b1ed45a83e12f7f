"""python -m mathcore.selftest [-v]: exit status 0 when every answer is exact."""

import sys

from mathcore import build_info
from mathcore.selftest import cases, run

wrong = run(verbose="-v" in sys.argv[1:])
info = build_info()
print(f"{info['backend']}, kernel {info['kernel']}, parallel runner {info['parallel_runner']}, ", end="")
print(f"{len(cases())} cases: " + ("all exact" if not wrong else f"{len(wrong)} WRONG"))
if wrong:
    print(*wrong, sep="\n")
sys.exit(1 if wrong else 0)
