"""A whole update under real MicroPython: the controller (its own asyncio, the board
stand-ins) on a real Mosquitto takes a compiled (.mpy) release from the backend's transport,
checks the signature and every chunk on the interpreter, swaps, resets, boots the new version
from its folder and confirms it online."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from pooldesk_firmware.tools.release import read_bundle
from pooldesk_server.broker.base import BrokerLogin
from pooldesk_server.firmware.transport import OtaSession, offer_payload
from tests.firmware.conftest import PREFIX, make_binding
from tests.support import ota
from tests.support.mpy_board import MicroPythonBoard

pytestmark = pytest.mark.timeout(300)


async def _wait(statuses: list[dict], state: str, within: float) -> dict:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for s in statuses:
            if s.get("state") in (state, "failed", "rolled_back"):
                return s
        await asyncio.sleep(0.05)
    raise TimeoutError(f"no {state} in {within} s: {statuses[-3:]}")


async def test_an_mpy_release_is_installed_and_confirmed_under_micropython(
    tmp_path: Path, broker: int
) -> None:
    key, pub = ota.keypair(tmp_path)
    bundle = read_bundle(ota.build(tmp_path, key, "0.5.0", fmt="mpy").read_bytes())
    statuses: list[dict] = []
    session = OtaSession(
        f"mqtt://127.0.0.1:{broker}",
        None,
        BrokerLogin("svc-ota-mpy", "unused", "svc-ota-mpy", ()),
        PREFIX,
        "mpy-update-1",
        offer_payload("mpy-update-1", bundle, False),
        bundle.files,
        bundle.manifest["chunk"],
        statuses.append,
    )
    with MicroPythonBoard(tmp_path, binding=make_binding(broker), ota_key=pub) as board:
        board.wait_event("status", lambda e: e["state"] == "mqtt_connected")
        await session.start()
        try:
            installed = await _wait(statuses, "installed", 120)
            assert installed["state"] == "installed", installed
            assert installed["running"] == "0.4.0"
            board.wait_event("reset", timeout=30)
        except BaseException:
            await session.close()
            raise
    assert (tmp_path / "flash" / "fw" / "0.5.0" / "fw_controller.mpy").exists()
    try:
        # power on again: fw_boot boots the release from fw/0.5.0/, on trial
        with MicroPythonBoard(tmp_path, ota_key=pub) as board:
            board.wait_event("status", lambda e: e["state"] == "mqtt_connected", timeout=30)
            confirmed = await _wait(statuses, "confirmed", 30)
            assert confirmed["state"] == "confirmed", confirmed
            assert confirmed["running"] == "0.5.0"
    finally:
        await session.close()
