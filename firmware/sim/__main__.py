"""`python -m firmware.sim` = `pooldesk-sim`."""

import sys

from firmware.sim.cli import main

sys.exit(main())
