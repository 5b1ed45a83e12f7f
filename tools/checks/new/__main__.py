import sys

from tools.checks.new.cli import main

sys.exit(main())
