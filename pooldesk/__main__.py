"""`python -m pooldesk`."""

import sys

from pooldesk.cli import main

sys.exit(main())
