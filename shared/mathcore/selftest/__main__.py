"""python -m mathcore.selftest [-v]: exit status 0 when every answer is exact."""

import sys

from mathcore import build_info
from mathcore.selftest import run

wrong = run(verbose="-v" in sys.argv[1:])
info = build_info()
if wrong:
    pass
sys.exit(1 if wrong else 0)
