"""Settings every test shares. Each part's own fixtures live in its folder's conftest."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
