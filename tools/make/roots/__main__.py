import sys

from tools.make.roots.cli import main

sys.exit(main())
