"""The wizard's window tests run like the app's other window tests: pytest-qt, offscreen, on
the app's own qasync loop (see tests/app/integration/conftest.py)."""

from tests.app.integration.conftest import (  # noqa: F401 - the hook and fixtures, reused
    make_app,
    pytest_asyncio_loop_factories,
    temp_qsettings,
)
