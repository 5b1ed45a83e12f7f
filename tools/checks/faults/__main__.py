import sys

from tools.checks.faults.cli import main

sys.exit(main())
