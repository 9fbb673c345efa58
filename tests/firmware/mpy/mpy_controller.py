# The whole controller under MicroPython with its own asyncio, on the board stand-ins
# (pooldesk_firmware/sim/mpy/). Environment: PD_FLASH (the flash root: factory.json, config.json),
# PD_WORLD (the world file), PD_CONTROL (a file of JSON lines the test appends: requests the
# provisioning side would make), PD_WIFI_TIMEOUT, PD_BLE (the Bluetooth bridge's address
# "127.0.0.1:<port>", tests/support/ble_bridge.py: provisioning runs over it; "0" or unset: none).
# Prints tagged JSON lines (board_world.emit): boot, status, log, control, pin, reset.
import asyncio
import os
import sys

import board_world
import fw_boot

# As main.py -> fw_boot.run(): the version an update installed boots from its folder.
_version, _trial = fw_boot.choose(os.getenv("PD_FLASH"))
if _version is not None:
    sys.path.insert(0, _version)
    sys.modules.pop("fw_store", None)

import fw_controller  # noqa: E402 - after the version's folder is on the path
import fw_log  # noqa: E402


def _log(text):
    board_world.emit("log", text=text)


fw_log.sink = _log


class Observed(fw_controller.Controller):
    """The controller, with its status changes printed for the test (then handled as usual)."""

    def on_status(self, state, detail):
        board_world.emit("status", state=state, detail=detail)
        super().on_status(state, detail)


async def _control(c, path):
    done = 0
    while True:
        await asyncio.sleep(0.1)
        try:
            with open(path) as f:
                lines = [line for line in f.read().split("\n") if line.strip()]
        except OSError:
            continue
        for line in lines[done:]:
            done += 1
            await _do(c, line)


async def _do(c, line):
    import json

    req = json.loads(line)
    op = req["op"]
    try:
        if op == "apply_wifi":
            await c.apply_wifi(req["ssid"], req["password"])
            board_world.emit("control", op=op, ok=True)
        elif op == "apply_binding":
            await c.apply_binding(req["binding"])
            board_world.emit("control", op=op, ok=True)
        elif op == "scan":
            board_world.emit("control", op=op, ok=True, networks=await c.wifi_scan())
        else:
            raise ValueError("unknown op " + op)
    except Exception as e:
        board_world.emit("control", op=op, ok=False, error=repr(e))


def main():
    c = Observed(
        os.getenv("PD_FLASH"),
        ble=os.getenv("PD_BLE", "0") != "0",
        tick_s=0.1,
        sensor_period_s=0.5,
        conversion_s=0.05,
        wifi_timeout_s=float(os.getenv("PD_WIFI_TIMEOUT") or "20"),
    )
    board_world.emit("boot", device_id=c.device_id, bound=c.bound)

    async def run():
        control = os.getenv("PD_CONTROL")
        if control:
            asyncio.create_task(_control(c, control))
        await c.main()

    asyncio.run(run())


main()
