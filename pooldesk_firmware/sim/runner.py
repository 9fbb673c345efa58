"""Run simulated controllers in-process: the unchanged firmware on simulated hardware.

async with SimulatedController(tmp_path / "dev0", binding=...) as sim:
    await sim.wait_until(lambda: sim.online)
    sim.device.water.set(1.5)           # script the world
    sim.device.clock.advance(7200)       # two hours later

async with start_devices(3, tmp_path, link=link) as sims:   # share one Bumble LocalLink
    ...

Each boot of a unit runs in a `FirmwareImage` of its own (`loader.py`): the firmware's
modules, its `sys` and its MicroPython `time`, none of them shared with other units or with the
process that runs them.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from pooldesk_contract import claimcode
from pooldesk_contract.ids import device_id_from_mac
from pooldesk_firmware.sim.context import DEVICE
from pooldesk_firmware.sim.device import (
    FakeNetwork,
    SimClock,
    SimDevice,
    SimReset,
    WaterModel,
    default_networks,
)
from pooldesk_firmware.sim.loader import FirmwareImage

log = logging.getLogger("pooldesk.sim")

PWRON_RESET, WDT_RESET, SOFT_RESET = 1, 3, 5
DEFAULT_MAC_BASE = 0x240AC4A1B2C3  # ESP-A1B2C3, ESP-A1B2C4, ...


def mac_for(index: int) -> bytes:
    return (DEFAULT_MAC_BASE + index).to_bytes(6, "big")


def parse_mac(text: str) -> bytes:
    raw = bytes.fromhex(text.replace(":", "").replace("-", ""))
    if len(raw) != 6:
        raise ValueError(f"a MAC has 6 bytes: {text!r}")
    return raw


new_claim_code = claimcode.generate  # 16 base32 characters = 80 bits (docs/provisioning.md §9)


def _log_to(device_id: str) -> Callable[[str], None]:
    """The firmware's log lines (fw_log) go to logging, tagged with the device's id."""
    logger = logging.getLogger(f"pooldesk.sim.{device_id}")

    def sink(text: str) -> None:
        logger.info("%s", text)

    return sink


async def _cancel_and_wait(task: asyncio.Task, device_id: str) -> None:
    """Cancel a firmware task and wait until it has ended.

    Bumble's HCI waits can swallow a cancellation that lands in the same loop turn as their
    reply, so the task may carry on: cancel again until it ends, rather than wait forever.
    """
    for _ in range(40):
        task.cancel()
        done, _pending = await asyncio.wait({task}, timeout=0.25)
        if done:
            break
    else:
        log.warning("%s: a firmware task did not stop after 10 s of cancelling", device_id)
        return
    if not task.cancelled() and task.exception() is not None:
        log.debug("%s: stopped: %r", device_id, task.exception())


class SimulatedController:
    """One simulated ESP32 running `pooldesk_firmware/device/` (`fw_controller.Controller`).

    flash_dir: the device's flash (created; `factory.json` holds the claim code).
    binding: optional binding dict written to flash before the first boot (skips provisioning).
    ble: a Bumble `LocalLink` (the caller's: to reach the app's central, the one its Bumble
         back end uses), a Bumble transport name ("usb:0"), or None (no Bluetooth).
    """

    def __init__(
        self,
        flash_dir: Path | str,
        *,
        mac: bytes | str | None = None,
        index: int = 0,
        claim_code: str | None = None,
        networks: list[FakeNetwork] | None = None,
        binding: dict | None = None,
        ble: Any = None,
        water: WaterModel | None = None,
        utc_start: float | None = None,
        ntp: bool = True,
        tick_s: float = 0.1,
        sensor_period_s: float = 0.5,
        conversion_s: float = 0.02,
        wdt_timeout_ms: int = 30000,
        wifi_timeout_s: float = 2.0,
        trial_s: float | None = None,
        ota_key: str | None = None,
    ) -> None:
        flash = Path(flash_dir)
        flash.mkdir(parents=True, exist_ok=True)
        raw_mac = parse_mac(mac) if isinstance(mac, str) else (mac or mac_for(index))
        self.device = SimDevice(
            mac=raw_mac,
            flash=flash,
            networks=networks if networks is not None else default_networks(),
            clock=SimClock(utc_start),
            water=water or WaterModel(),
            ntp_ok=ntp,
        )
        if ble == "virtual":
            raise ValueError(
                'ble="virtual" is gone: pass the Bumble LocalLink itself (the app\'s is '
                "pooldesk.ble.radio.get_virtual_link())"
            )
        self.ble = ble
        # The unit's firmware as the simulator reads it before boot and from outside (flash
        # through the firmware's own store, pin numbers); the running firmware has its own.
        self._outside = self._boot_image()
        self.image: FirmwareImage | None = None
        self.tick_s = tick_s
        self.sensor_period_s = sensor_period_s
        self.conversion_s = conversion_s
        self.wdt_timeout_ms = wdt_timeout_ms
        self.wifi_timeout_s = wifi_timeout_s
        # How long a firmware version on trial has to confirm itself (fw_boot.TRIAL_S on the
        # board, where a machine.Timer armed by fw_boot.run() enforces it).
        self.trial_s = trial_s if trial_s is not None else self._outside.module("fw_boot").TRIAL_S
        self.boots = 0
        self.version_folder: str | None = None
        self.controller: Any = None
        self.peripheral: Any = None
        self.crashed: BaseException | None = None
        self._task: asyncio.Task | None = None
        self._watchdog: asyncio.Task | None = None
        self._booted = asyncio.Event()
        self._write_factory(claim_code, ota_key)
        if binding is not None:
            self._write_binding(binding)

    # ---- identity ----

    @property
    def mac(self) -> bytes:
        return self.device.mac

    @property
    def device_id(self) -> str:
        return device_id_from_mac(self.device.mac)

    @property
    def ble_address(self) -> str:
        """Random static address of the simulated radio: C0:DE:00 + the MAC's last 3 bytes."""
        return "C0:DE:00:" + ":".join(f"{b:02X}" for b in self.device.mac[-3:])

    @property
    def claim_code(self) -> str:
        return json.loads((self.device.flash / "factory.json").read_text())["claim_code"]

    # ---- what a test looks at ----

    @property
    def relay_on(self) -> bool:
        return self.device.pin(self._outside.module("fw_board").RELAY_PIN) == 1

    @property
    def online(self) -> bool:
        c = self.controller
        return c is not None and c.client is not None and c.client.connected

    @property
    def status(self) -> tuple[str, dict]:
        """The firmware's last network status, e.g. ("failed", {"reason": "wifi_auth"})."""
        return self.controller.net_status if self.controller else ("off", {})

    def stored_config(self) -> dict:
        """The configuration in flash, read back by the firmware's own store."""
        return self._outside.module("fw_store").Store(str(self.device.flash)).load()

    async def wait_until(self, predicate: Callable[[], bool], within: float = 10.0) -> None:
        """Poll `predicate` until true; TimeoutError after `within` seconds."""
        deadline = time.monotonic() + within
        while not predicate():
            if self.crashed is not None:
                raise RuntimeError(f"{self.device_id} firmware crashed") from self.crashed
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.device_id}: condition not met in {within} s")
            await asyncio.sleep(0.02)

    # ---- flash written before boot, through the firmware's own store ----

    def _write_factory(self, claim_code: str | None, ota_key: str | None = None) -> None:
        """factory.json: the claim code and, when given, the operator's public update key
        (hex, docs/updates.md), as written at install time."""
        path = self.device.flash / "factory.json"
        if path.exists() and claim_code is None and ota_key is None:
            return
        data = json.loads(path.read_text()) if path.exists() else {}
        if claim_code is not None or "claim_code" not in data:
            data["claim_code"] = claim_code or new_claim_code()
        if ota_key is not None:
            data["ota_key"] = ota_key
        path.write_text(json.dumps(data))

    def _write_binding(self, binding: dict) -> None:
        store = self._outside.module("fw_store").Store(str(self.device.flash))
        config = store.load()
        config["binding"] = self._outside.module("fw_binding").validate(binding)
        store.save(config)

    # ---- power ----

    async def __aenter__(self) -> SimulatedController:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        await self.power_on()

    async def stop(self) -> None:
        await self.power_cut()

    async def power_on(self, cause: int = PWRON_RESET) -> None:
        if self._task is not None:
            raise RuntimeError("already powered on")
        self.crashed = None
        self._booted.clear()
        ctx = contextvars.copy_context()
        ctx.run(DEVICE.set, self.device)
        self._task = asyncio.create_task(self._run(cause), context=ctx)
        self._watchdog = asyncio.create_task(self._watch())
        await asyncio.wait_for(self._booted.wait(), 10)

    async def power_cut(self) -> None:
        """Cut power at once: no goodbye on MQTT (the broker sends the will), relay opens."""
        for task in (self._watchdog, self._task):
            if task is not None:
                await _cancel_and_wait(task, self.device_id)
        self._task = self._watchdog = None
        await self._close_radio()
        self.device.power_off()
        self.controller = None

    async def reboot(self) -> None:
        """A power cycle."""
        await self.power_cut()
        await self.power_on()

    async def hold_button(self, seconds: float) -> None:
        """Hold the button for `seconds` of device time (the clock is advanced, not waited)."""
        pin = self._outside.module("fw_board").BUTTON_PIN
        self.device.inputs[pin] = 0
        await asyncio.sleep(0.15)
        self.device.clock.advance(seconds)
        await asyncio.sleep(0.15)
        self.device.inputs[pin] = 1

    # ---- inside the device's context ----

    def _fw(self, name: str) -> Any:
        """Firmware module `name` of the running boot (imported there if not yet)."""
        if self.image is None:
            raise RuntimeError(f"{self.device_id} is not running")
        return self.image.module(name)

    def _boot_image(self) -> FirmwareImage:
        """A fresh module table for one boot: nothing survives a reset but the flash."""
        sink = _log_to(self.device_id)

        def on_load(name: str, module: Any) -> None:
            if name == "fw_log":
                module.sink = sink

        return FirmwareImage(self.device, on_load=on_load)

    async def _open_radio(self) -> None:
        if self.ble is None:
            return
        from pooldesk_firmware.sim import blectx

        self.peripheral = await blectx.open_peripheral(self.ble, self.ble_address, self.device_id)
        blectx.PERIPHERAL.set(self.peripheral)

    async def _close_radio(self) -> None:
        if self.peripheral is not None:
            peripheral, self.peripheral = self.peripheral, None
            await peripheral.close()

    async def _run(self, cause: int) -> None:
        while True:
            self.device.power_on(cause)
            self.boots += 1
            await self._open_radio()
            folder = None
            try:
                image = self.image = self._boot_image()
                # main.py -> fw_boot.run(): which version, and is it on trial
                folder, trial = image.module("fw_boot").choose(str(self.device.flash))
                self.version_folder = folder
                if folder is not None:
                    # the version's folder first on the module path, its own fw_store
                    image.sys.path.insert(0, folder)
                    image.modules.pop("fw_store", None)
                self.controller = image.module("fw_controller").Controller(
                    root=str(self.device.flash),
                    ble=self.ble is not None,
                    tick_s=self.tick_s,
                    sensor_period_s=self.sensor_period_s,
                    conversion_s=self.conversion_s,
                    wifi_timeout_s=self.wifi_timeout_s,
                )
                self._booted.set()
                await self._run_firmware(trial)
                return
            except SimReset as e:
                log.info("%s: %s, rebooting", self.device_id, e)
                cause = SOFT_RESET
            except Exception as e:
                if folder is not None:
                    # fw_app.run() on the board: log, reset, start over (fw_boot counts it)
                    log.info(
                        "%s: firmware in %s crashed (%r), resetting", self.device_id, folder, e
                    )
                    self._booted.set()
                    cause = SOFT_RESET
                    continue
                log.exception("%s: firmware crashed", self.device_id)
                self.crashed = e
                self._booted.set()
                raise
            finally:
                await self._close_radio()
                self.device.power_off()

    async def _run_firmware(self, trial: dict | None) -> None:
        main = asyncio.ensure_future(self.controller.main(wdt_timeout_ms=self.wdt_timeout_ms))
        if trial is None:
            await main
            return
        guard = asyncio.ensure_future(asyncio.sleep(self.trial_s))
        try:
            done, _ = await asyncio.wait({main, guard}, return_when=asyncio.FIRST_COMPLETED)
            if main in done:
                main.result()
                return
            root = str(self.device.flash)
            if self._fw("fw_boot").expire(root, int(self.trial_s)):
                await _cancel_and_wait(main, self.device_id)
                raise SimReset("trial time over: rolled back")
            await main
        finally:
            guard.cancel()
            if not main.done():
                await _cancel_and_wait(main, self.device_id)

    async def _watch(self) -> None:
        """The watchdog timer: a firmware that stops feeding it is reset, as on the board."""
        while True:
            await asyncio.sleep(0.5)
            timeout = self.device.wdt_timeout_ms
            if timeout and time.monotonic() - self.device.wdt_fed_at > timeout / 1000:
                log.warning("%s: watchdog reset", self.device_id)
                task, self._task = self._task, None
                if task is not None:
                    task.cancel()
                    try:
                        await task
                    except (asyncio.CancelledError, Exception) as e:  # noqa: BLE001 - the unit is powered off whatever its task died of
                        log.debug("%s: stopped by the watchdog: %r", self.device_id, e)
                self.device.power_off()
                self.crashed = None
                ctx = contextvars.copy_context()
                ctx.run(DEVICE.set, self.device)
                self._booted.clear()
                self._task = asyncio.create_task(self._run(WDT_RESET), context=ctx)


@asynccontextmanager
async def start_devices(
    n: int, base_dir: Path | str, *, link: Any = None, **kwargs: Any
) -> AsyncIterator[list[SimulatedController]]:
    """Start n controllers (ESP-A1B2C3, ESP-A1B2C4, ...) with flash in base_dir/<device id>,
    all on one Bumble radio `link` when given. Extra keyword arguments go to each
    SimulatedController; a `binding` may hold "{device_id}" / "{topic_id}" placeholders."""
    sims: list[SimulatedController] = []
    binding = kwargs.pop("binding", None)
    try:
        for i in range(n):
            dev_id = device_id_from_mac(mac_for(i))
            b = None
            if binding is not None:
                b = {
                    k: v.replace("{device_id}", dev_id).replace("{topic_id}", dev_id.lower())
                    if isinstance(v, str)
                    else v
                    for k, v in binding.items()
                }
            sim = SimulatedController(
                Path(base_dir) / dev_id, index=i, ble=link, binding=b, **kwargs
            )
            sims.append(sim)
            await sim.start()
        yield sims
    finally:
        for sim in reversed(sims):
            await sim.stop()
