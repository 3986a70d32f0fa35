import sys

from sim.asterisk.cli import main

sys.exit(main())
