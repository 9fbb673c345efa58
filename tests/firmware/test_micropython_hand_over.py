"""A hand-over under the real MicroPython interpreter (its asyncio, its json, the board
stand-ins): the unit takes its new binding from P/binding/set on a real managed Mosquitto,
connects with the new login, stores it and answers `ok` on the new prefix; a refused login
brings it back to the old one with `failed` on the old prefix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.broker.conftest import broker, data_dir  # noqa: F401 - the real managed Mosquitto
from tests.firmware.test_hand_over_device import World, _binding, _set
from tests.support.mpy_board import MicroPythonBoard

pytestmark = pytest.mark.timeout(120)
DEVICE_ID = "ESP-A1B2C3"  # the board stand-in's default MAC


def _online(e: dict) -> bool:
    return e["state"] == "mqtt_connected"


async def _moved(broker, tmp_path: Path, put_new: bool) -> tuple[World, MicroPythonBoard]:  # noqa: F811
    w = World(broker, DEVICE_ID)
    await broker.put_logins([w.old, w.mover_login, *([w.new] if put_new else [])])
    board = MicroPythonBoard(tmp_path, binding=_binding(broker.port, w.old, "olduser", DEVICE_ID))
    return w, board


async def test_micropython_unit_moves_to_the_new_owner(broker, tmp_path):  # noqa: F811
    w, board = await _moved(broker, tmp_path, put_new=True)
    try:
        board.wait_event("status", _online)
        mover = await w.probe(w.mover_login, "users/+/devices/+/binding/state")
        moved_at = board.mark()
        body = _set("mpy-1", w.new, w.new_prefix)
        assert await mover.publish(f"{w.old_prefix}/binding/set", body, True) == 0
        board.wait_event("status", _online, after=moved_at, timeout=30)
        (answer,) = await mover.wait_for(f"{w.new_prefix}/binding/state")
        got = json.loads(answer.payload)
        assert (got["result"], got["mqtt_user"]) == ("ok", w.new.username)
        stored = board.stored_config()["binding"]
        assert (stored["topic_prefix"], stored["mqtt_user"]) == (w.new_prefix, w.new.username)
    finally:
        board.stop()
        w.close()


async def test_micropython_unit_refused_by_the_broker_stays_with_the_old_owner(broker, tmp_path):  # noqa: F811
    w, board = await _moved(broker, tmp_path, put_new=False)
    try:
        board.wait_event("status", _online)
        mover = await w.probe(w.mover_login, "users/+/devices/+/binding/state")
        body = _set("mpy-2", w.new, w.new_prefix)
        assert await mover.publish(f"{w.old_prefix}/binding/set", body, True) == 0
        answer = (await mover.wait_for(f"{w.old_prefix}/binding/state", within=30))[0]
        got = json.loads(answer.payload)
        assert (got["result"], got["reason"]) == ("failed", "refused")
        assert board.stored_config()["binding"]["topic_prefix"] == w.old_prefix
        assert w.answers(mover, w.new_prefix) == []
    finally:
        board.stop()
        w.close()
