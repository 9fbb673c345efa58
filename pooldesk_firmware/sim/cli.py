"""`pooldesk-sim`: simulated PoolDesk controllers running the real firmware on this computer."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from pooldesk_contract.ids import device_id_from_mac
from pooldesk_contract.ids import topic_id as topic_level
from pooldesk_contract.topics import device_prefix
from pooldesk_firmware.sim.device import FakeNetwork, default_networks
from pooldesk_firmware.sim.runner import SimulatedController, mac_for, parse_mac
from pooldesk_firmware.sim.water import HELP as WATER_HELP
from pooldesk_firmware.sim.water import apply_spec


def parse_wifi(text: str) -> FakeNetwork:
    """SSID:PASSWORD[:RSSI[:nodhcp]] -> a fake network."""
    parts = text.split(":")
    if len(parts) < 2 or not parts[0]:
        raise argparse.ArgumentTypeError(
            f"--wifi wants SSID:PASSWORD[:RSSI[:nodhcp]], got {text!r}"
        )
    net = FakeNetwork(parts[0], parts[1], security=3 if parts[1] else 0)
    if len(parts) > 2 and parts[2]:
        try:
            net.rssi = int(parts[2])
        except ValueError:
            raise argparse.ArgumentTypeError(f"RSSI must be a number like -60: {text!r}") from None
    if len(parts) > 3:
        if parts[3] != "nodhcp":
            raise argparse.ArgumentTypeError(f"the 4th field may only be 'nodhcp': {text!r}")
        net.dhcp = False
    return net


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pooldesk-sim",
        description="Run simulated PoolDesk pool controllers "
        "(the real pooldesk_firmware/device code) with simulated relay, "
        "sensor, Wi-Fi and Bluetooth; MQTT is real.",
    )
    p.add_argument("-n", "--devices", type=int, default=1, help="how many controllers (1)")
    p.add_argument(
        "--flash-dir",
        type=Path,
        default=Path("pooldesk-sim-flash"),
        help="folder holding one flash folder per device (kept between runs)",
    )
    p.add_argument(
        "--mac",
        action="append",
        default=[],
        type=parse_mac_arg,
        help="MAC of a device (repeat for several); default 24:0A:C4:A1:B2:C3, +1...",
    )
    p.add_argument("--claim-code", help="claim code for a single new device (default: random)")
    p.add_argument(
        "--wifi",
        action="append",
        type=parse_wifi,
        default=None,
        metavar="SSID:PASSWORD[:RSSI[:nodhcp]]",
        help="a network the devices can see (repeat); default PoolNet:poolpass123, "
        "Neighbour-5G and GardenCafe",
    )
    p.add_argument(
        "--broker",
        help="bind each device to this broker at once (mqtt://host:port), "
        "skipping Bluetooth provisioning",
    )
    p.add_argument("--user", default="demo", help="owner username for --broker (demo)")
    p.add_argument("--mqtt-user", default="", help="broker login for --broker")
    p.add_argument("--mqtt-password", default="", help="broker password for --broker")
    p.add_argument(
        "--binding",
        type=Path,
        help="JSON binding applied to each device; {device_id} and {topic_id} are replaced",
    )
    p.add_argument(
        "--ble",
        default="virtual",
        help="'virtual' (in-process radio, default), 'none', or a Bumble transport "
        "such as usb:0 or tcp-client:127.0.0.1:1234",
    )
    p.add_argument("--water", default="daily", help=WATER_HELP)
    p.add_argument("--no-ntp", action="store_true", help="network time never answers")
    p.add_argument("--log-level", default="WARNING")
    return p


def parse_mac_arg(text: str) -> bytes:
    try:
        return parse_mac(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def binding_for(args: argparse.Namespace, device_id: str) -> dict | None:
    topic_id = topic_level(device_id)
    if args.binding is not None:
        raw = json.loads(args.binding.read_text())
        return {
            k: v.replace("{device_id}", device_id).replace("{topic_id}", topic_id)
            if isinstance(v, str)
            else v
            for k, v in raw.items()
        }
    if args.broker:
        return {
            "ssid": "PoolNet",
            "password": "poolpass123",
            "broker_url": args.broker,
            "mqtt_user": args.mqtt_user,
            "mqtt_password": args.mqtt_password,
            "client_id": topic_id,
            "topic_prefix": device_prefix(args.user, topic_id),
            "username": args.user,
            "ca_cert": None,
        }
    return None


def open_radio(setting: str) -> Any:
    if setting == "none":
        return None
    if setting != "virtual":
        return setting  # a Bumble transport name, opened per device by blectx.open_peripheral
    try:
        from bumble.link import LocalLink
    except ImportError as e:
        print(f"Bluetooth not available ({e}); running without it", file=sys.stderr)
        return None
    return LocalLink()  # this process's own virtual radio, shared by its devices


async def run(args: argparse.Namespace) -> int:
    radio = open_radio(args.ble)
    sims: list[SimulatedController] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    presses: set[asyncio.Task[None]] = set()

    def press_buttons() -> None:
        """SIGUSR1: a short press on every device (Bluetooth back on for a Wi-Fi change)."""
        for sim in sims:
            print(f"{sim.device_id}  button pressed: Bluetooth on for 10 minutes", flush=True)
            task = asyncio.ensure_future(sim.hold_button(2))
            presses.add(task)
            task.add_done_callback(presses.discard)

    with contextlib.suppress(NotImplementedError, AttributeError):
        loop.add_signal_handler(signal.SIGUSR1, press_buttons)
    try:
        for i in range(args.devices):
            mac = args.mac[i] if i < len(args.mac) else mac_for(i)
            device_id = device_id_from_mac(mac)
            sim = SimulatedController(
                args.flash_dir / device_id,
                mac=mac,
                index=i,
                claim_code=args.claim_code if args.devices == 1 else None,
                networks=list(args.wifi) if args.wifi else default_networks(),
                binding=binding_for(args, device_id),
                ble=radio,
                ntp=not args.no_ntp,
                tick_s=0.5,
                sensor_period_s=5.0,
                conversion_s=0.75,
            )
            apply_spec(sim.device.water, args.water, sim.device.clock)
            await sim.start()
            sims.append(sim)
            code = sim.claim_code
            print(
                f"{device_id}  claim code {'-'.join(code[i : i + 4] for i in range(0, 16, 4))}"
                f"  BLE {sim.ble_address if radio is not None else '(off)'}"
                f"  flash {sim.device.flash}"
                f"  {'bound' if sim.controller.bound else 'not bound'}",
                flush=True,
            )
        print("running; Ctrl-C to stop, kill -USR1 to press the buttons", flush=True)
        await stop.wait()
    finally:
        for sim in reversed(sims):
            await sim.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper())
    if args.devices < 1:
        print("--devices must be at least 1", file=sys.stderr)
        return 2
    if args.claim_code and args.devices != 1:
        print("--claim-code works with a single device", file=sys.stderr)
        return 2
    try:
        apply_spec(
            __import__("pooldesk_firmware.sim.device", fromlist=["WaterModel"]).WaterModel(),
            args.water,
            __import__("pooldesk_firmware.sim.device", fromlist=["SimClock"]).SimClock(),
        )
        for i in range(args.devices):
            binding_for(args, device_id_from_mac(mac_for(i)))
    except (ValueError, OSError) as e:
        print(f"pooldesk-sim: {e}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
