"""`pooldesk demo --headless`: run the story on a plain asyncio loop and turn it into an exit code.

Ctrl-C and SIGTERM end the demo through the same clean-up as a normal end: the backend and its
broker are stopped and the temporary data folder is removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

from pooldesk.demo.processes import DemoError
from pooldesk.demo.story import run_story

EXIT_OK, EXIT_STEP_FAILED, EXIT_SETUP_FAILED, EXIT_INTERRUPTED = 0, 1, 3, 130


def _say(text: str) -> None:
    print(text, flush=True)


async def _main(wifi_password: str | None) -> int:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows: no handlers
            loop.add_signal_handler(sig, task.cancel)  # type: ignore[union-attr]
    try:
        ok = await run_story(_say, wifi_password=wifi_password)
    except DemoError as exc:
        print(f"pooldesk demo: could not set up the demo: {exc}", file=sys.stderr, flush=True)
        return EXIT_SETUP_FAILED
    except asyncio.CancelledError:
        print("pooldesk demo: interrupted; everything it started was stopped.", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK if ok else EXIT_STEP_FAILED


def run_headless(wifi_password: str | None = None) -> int:
    return asyncio.run(_main(wifi_password))
