"""`python -m pooldesk_firmware.sim` = `pooldesk-sim`."""

import sys

from pooldesk_firmware.sim.cli import main

sys.exit(main())
