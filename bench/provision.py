"""Scan-to-online over Bumble's virtual radio, split by phase, beside same-run baselines.

    .venv/bin/python bench/provision.py [--runs 5]

Each run takes a fresh simulated controller (the unchanged firmware) through the Qt-free
provisioning flow the wizard uses — Bluetooth scan, connect, secure session, the controller's
Wi-Fi scan, registration and device credentials at a real backend, binding, Wi-Fi, MQTT on the
backend's managed Mosquitto, and `online` as the backend records it. Baselines, measured against
the same controller in the same run: one plain GATT read (the raw Bluetooth round trip) and one
bare secure-session handshake. Goal: scan to online under 3 s apart from the simulated Wi-Fi
delay.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["POOLDESK_BLE"] = "virtual"

PHASES = (
    ("scanning", "Bluetooth scan (until heard)"),
    ("connecting_ble", "Bluetooth connect + device-info"),
    ("opening_session", "secure session (claim code handshake)"),
    ("wifi_scan", "the controller's Wi-Fi scan"),
    ("registering", "register at the backend"),
    ("credentials", "device MQTT credentials"),
    ("sending", "binding written"),
    ("connecting", "Wi-Fi + NTP + MQTT on the device"),
    ("waiting_online", "`online` seen by the backend"),
)


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:8.1f} ms" if values else "       - ms"


async def one_run(account, username: str, base: Path, index: int) -> tuple[dict, float, float]:
    from pooldesk.ble.radio import get_virtual_link
    from pooldesk.core.provisioning_flow import ProvisioningFlow
    from pooldesk_firmware.sim.runner import SimulatedController

    mac = "24:0A:C4:" + ":".join(f"{b:02X}" for b in secrets.token_bytes(3))
    async with SimulatedController(base / f"run{index}", mac=mac, ble=get_virtual_link()) as sim:
        await asyncio.sleep(0.2)  # advertising
        flow = ProvisioningFlow(account, username, poll_interval=0.02)
        started = time.perf_counter()
        found = await flow.scan(5.0, wanted=sim.device_id)
        [controller] = [c for c in found if c.device_id == sim.device_id]
        await flow.select(controller)
        await flow.open_session(sim.claim_code)
        await flow.scan_wifi()
        outcome = await flow.connect("PoolNet", "poolpass123")
        total = time.perf_counter() - started
        await flow.close()
        if not outcome.online:
            raise SystemExit(f"run {index}: not online ({outcome.reason})")
        phases: dict[str, float] = {}
        for step, seconds in flow.timings:
            phases[step.value] = phases.get(step.value, 0.0) + seconds
        return phases, total, sim.device.wifi_delay_s


async def baselines(base: Path, runs: int) -> tuple[list[float], list[float]]:
    from pooldesk.ble.link import open_gatt_link
    from pooldesk.ble.radio import get_virtual_link
    from pooldesk.ble.scan import scan_for_controllers
    from pooldesk.provisioning import ProvisioningClient
    from pooldesk_firmware.sim.runner import SimulatedController

    reads, handshakes = [], []
    async with SimulatedController(base / "baseline", ble=get_virtual_link()) as sim:
        found = await scan_for_controllers(5.0, stop_when=lambda seen: sim.device_id in seen)
        [controller] = [c for c in found if c.device_id == sim.device_id]
        async with open_gatt_link(controller.ble_device) as link:
            client = ProvisioningClient(link)
            for _ in range(runs * 4):
                t0 = time.perf_counter()
                await link.read("device-info")
                reads.append(time.perf_counter() - t0)
            await client.device_info()
            for _ in range(runs):
                t0 = time.perf_counter()
                await client.open_session(sim.claim_code)
                handshakes.append(time.perf_counter() - t0)
            await client.close()
    return reads, handshakes


async def main(runs: int) -> int:
    from pooldesk.ble.central import close_shared_central
    from pooldesk.core.backend_client import BackendClient
    from tests.support.backend import BackendProcess

    with tempfile.TemporaryDirectory(prefix="pooldesk-bench-prov-") as folder:
        base = Path(folder)
        (base / "backend").mkdir()
        server = BackendProcess(base / "backend")
        server.start()
        account = BackendClient(server.url)
        try:
            stamp = secrets.token_hex(3).upper()
            username = f"bench{stamp.lower()}"
            await account.register(
                username, f"{username}@example.com", "Blue-Lagoon-2026!", f"ESP-{stamp}"
            )
            await account.login(username, "Blue-Lagoon-2026!")
            reads, handshakes = await baselines(base, runs)
            results = [await one_run(account, username, base, i) for i in range(runs)]
        finally:
            await account.aclose()
            await close_shared_central()
            server.stop()

    wifi_delay = results[0][2]
    totals = [total for _, total, _ in results]
    print(f"scan to online over the virtual radio, {runs} runs (median per phase)\n")
    for key, label in PHASES:
        print(f"  {label:<40} {median_ms([p.get(key, 0.0) for p, _, _ in results])}")
    net = [t - wifi_delay for t in totals]
    print(
        f"\n  {'total, scan to online':<40} {median_ms(totals)}"
        f"   (min {min(totals) * 1000:.0f}, max {max(totals) * 1000:.0f})"
    )
    print(f"  {'simulated Wi-Fi delay':<40} {wifi_delay * 1000:8.1f} ms")
    print(
        f"  {'total without it':<40} {median_ms(net)}   goal < 3000 ms: "
        f"{'met' if statistics.median(net) < 3.0 else 'NOT met'}"
    )
    print("\nbaselines (same run, same radio)")
    read, hand = statistics.median(reads), statistics.median(handshakes)
    print(f"  {'one GATT read (raw BLE round trip)':<40} {median_ms(reads)}")
    print(f"  {'one secure-session handshake':<40} {median_ms(handshakes)}")
    print(
        f"  scan to online = {statistics.median(totals) / read:.0f} GATT round trips"
        f" = {statistics.median(totals) / hand:.1f} handshakes"
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.runs)))
