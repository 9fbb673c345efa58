"""A controller running under real MicroPython on the board stand-ins (pooldesk_firmware/sim/mpy/),
driven from a CPython test: its flash folder, its world file, its control file, its events.

    with MicroPythonBoard(tmp_path, binding=...) as board:
        board.wait_event("status", lambda e: e["state"] == "mqtt_connected")
        board.set_world(water_c=1.5)
        board.control(op="apply_wifi", ssid="PoolNet", password="...")
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support import micropython

SCRIPT = micropython.SCRIPTS_DIR / "mpy_controller.py"
RELAY_PIN = 26
DEFAULT_WORLD: dict[str, Any] = {
    "mac": "240ac4a1b2c3",
    "networks": [
        {"ssid": "PoolNet", "password": "poolpass123", "rssi": -52, "security": 3},
        {"ssid": "GardenCafe", "password": "", "rssi": -83, "security": 0},
    ],
    "connect_s": 0.3,
    "scan_s": 2.5,
    "water_c": 24.0,
    "report_pins": [RELAY_PIN],
}


def encode_config(seq: int, data: dict) -> bytes:
    """The firmware's config file format (fw_store: header line with seq and SHA-256, JSON)."""
    body = json.dumps(data).encode()
    return f"PDCFG1 {seq} {hashlib.sha256(body).hexdigest()}\n".encode() + body


def decode_config(raw: bytes) -> dict:
    head, _, body = raw.partition(b"\n")
    magic, _seq, digest = head.decode().split(" ")
    assert magic == "PDCFG1", raw[:80]
    assert hashlib.sha256(body).hexdigest() == digest, raw[:80]
    return json.loads(body)


class MicroPythonBoard:
    def __init__(
        self,
        folder: Path,
        *,
        binding: dict | None = None,
        claim_code: str = "KQ4M7XTZ2PB6WRHD",
        wifi_timeout_s: float = 3.0,
        ble: str | None = None,
        ota_key: str | None = None,
        **world: Any,
    ) -> None:
        self.flash = folder / "flash"
        self.flash.mkdir(parents=True, exist_ok=True)
        self.world_file = folder / "world.json"
        self.control_file = folder / "control.jsonl"
        self.world = {**DEFAULT_WORLD, **world}
        self._write_world()
        self.control_file.write_text("")
        mac = self.world["mac"]
        device_id = "ESP-" + mac[-6:].upper()
        factory = {"device_id": device_id, "claim_code": claim_code}
        if ota_key is not None:  # the operator's public update key (docs/updates.md)
            factory["ota_key"] = ota_key
        (self.flash / "factory.json").write_text(json.dumps(factory))
        if binding is not None:
            (self.flash / "config.json").write_bytes(encode_config(1, {"binding": binding}))
        self.process = micropython.Process(
            SCRIPT,
            env={
                "PD_FLASH": str(self.flash),
                "PD_WORLD": str(self.world_file),
                "PD_CONTROL": str(self.control_file),
                "PD_WIFI_TIMEOUT": str(wifi_timeout_s),
                "PD_BLE": ble or "0",  # a BleBridge address (tests/support/ble_bridge.py)
            },
        )

    def _write_world(self) -> None:
        tmp = self.world_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.world))
        os.replace(tmp, self.world_file)  # the stand-ins never read half a file

    def set_world(self, **changes: Any) -> None:
        self.world.update(changes)
        self._write_world()

    def control(self, **request: Any) -> None:
        with open(self.control_file, "a") as f:
            f.write(json.dumps(request) + "\n")

    def events(self, kind: str) -> list[dict]:
        return [r for r in self.process.records() if r.get("event") == kind]

    def mark(self) -> int:
        """Where the output is now: `wait_event(..., after=board.mark())` sees only later events."""
        return self.process.mark()

    def wait_event(
        self,
        kind: str,
        pred: Callable[[dict], bool] = lambda e: True,
        timeout: float = 20.0,
        after: int = 0,
    ) -> dict:
        def match(line: str) -> bool:
            if not line.startswith(micropython.RESULT_TAG):
                return False
            record = json.loads(line[len(micropython.RESULT_TAG) :])
            return record.get("event") == kind and pred(record)

        line = self.process.wait_for(match, timeout, after)
        return json.loads(line[len(micropython.RESULT_TAG) :])

    def statuses(self) -> list[tuple[str, dict]]:
        return [(e["state"], e["detail"]) for e in self.events("status")]

    def stored_config(self) -> dict:
        return decode_config((self.flash / "config.json").read_bytes())

    def relay(self) -> int | None:
        pins = [e["value"] for e in self.events("pin") if e["pin"] == RELAY_PIN]
        return pins[-1] if pins else None

    def stop(self) -> None:
        self.process.stop()

    def __enter__(self) -> MicroPythonBoard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
