"""Desktop app figures, each beside a baseline measured in the same run.

    .venv/bin/python bench/ui.py [--seconds 10] [--devices 50] [--rate 10]

1. Start-up: a whole `pooldesk` process until its sign-in window is shown and the loop idles,
   against a bare PySide6 process that shows an empty window (goal: under 1.5 s).
2. Dashboard under load: the real DashboardController with N devices, each sending `rate`
   messages/s (telemetry and pump state, alternating) through a real Mosquitto from a separate
   publisher process. Event-loop lag p50/p99 (a 10 ms ticker's lateness) against the same
   dashboard idle; CPU share and peak memory (goals: lag p99 under 30 ms, memory under 250 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STARTUP_APP = r"""
import asyncio, os, sys, time
t0 = float(sys.argv[1])
from pooldesk.cli import setup_logging
from PySide6.QtWidgets import QApplication
from PySide6.QtCore import QSettings
from pooldesk.core.settings import AppSettings
from pooldesk.ui.controllers.app import AppController
from pooldesk.ui.event_loop import AppEventLoop
from pooldesk.ui.settings_store import SettingsStore
import keyring, keyring.backends.fail
keyring.set_keyring(keyring.backends.fail.Keyring())
setup_logging("warning")
app = QApplication(sys.argv[:1]); app.setOrganizationName("PoolDeskBench")
QSettings.setDefaultFormat(QSettings.Format.IniFormat)
QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, os.environ["BENCH_DIR"])
store = SettingsStore(); store.save(AppSettings(server_confirmed=True))
loop = AppEventLoop(app); asyncio.set_event_loop(loop)
async def main():
    controller = AppController(store)
    await controller.start()
    while controller.window.page is not controller.window.sign_in_view:
        await asyncio.sleep(0.001)
    await asyncio.sleep(0)  # one more turn: painted and idle
    print(time.time() - t0, flush=True)
    await controller.shutdown()
with loop:
    loop.run_until_complete(main())
"""

STARTUP_BARE = r"""
import sys, time
t0 = float(sys.argv[1])
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication(sys.argv[:1]); w = QWidget(); w.show(); app.processEvents()
print(time.time() - t0, flush=True)
"""

PUBLISHER = r"""
import json, sys, time, socket
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
port, devices = int(sys.argv[1]), int(sys.argv[2])
rate, seconds = float(sys.argv[3]), float(sys.argv[4])
TS = "2026-01-01T00:00:00Z"
c = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-pub", protocol=paho.MQTTv5)
c.connect("127.0.0.1", port); c.loop_start()
c.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for d in range(devices):
    c.publish(f"users/bench/devices/esp-{d:06x}/status", "online", qos=1, retain=True)
interval = 1.0 / (devices * rate); n = 0; start = time.monotonic()
while time.monotonic() - start < seconds:
    d = n % devices; p = f"users/bench/devices/esp-{d:06x}"
    if (n // devices) % 2:
        body = {"water_c": 20 + n % 100 / 10, "ts": TS}
        c.publish(p + "/telemetry", json.dumps(body), qos=1)
    else:
        body = {"on": bool(n % 3), "mode": "manual", "cmd_id": None, "ts": TS}
        c.publish(p + "/pump/state", json.dumps(body), qos=1)
    n += 1
    delay = start + n * interval - time.monotonic()
    if delay > 0: time.sleep(delay)
print(n, flush=True)
c.loop_stop(); c.disconnect()
"""


def run_startup(script: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            env = {
                **os.environ,
                "BENCH_DIR": folder,
                "XDG_STATE_HOME": folder,
                "XDG_CONFIG_HOME": folder,
                "XDG_DATA_HOME": folder,
                "PYTHONPATH": str(ROOT),
            }
            out = subprocess.run(
                [sys.executable, "-c", script, repr(time.time())],
                env=env,
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            )
            times.append(float(out.stdout.strip().splitlines()[-1]))
    return times


def start_mosquitto(folder: Path) -> tuple[subprocess.Popen, int]:
    from tests.support.ports import free_port, wait_for_port

    port = free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n"
        + ("user root\n" if os.geteuid() == 0 else "")
    )
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen(
        [exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_for_port(port)
    return proc, port


async def ticker_lag(seconds: float, tick: float = 0.01) -> list[float]:
    lags = []
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        before = loop.time()
        await asyncio.sleep(tick)
        lags.append(max(0.0, loop.time() - before - tick))
    return lags


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def dashboard_run(port: int, devices: int, rate: float, seconds: float) -> dict:
    from pooldesk.core.models import DeviceInfo, MqttCredentials
    from pooldesk.ui.controllers.dashboard import DashboardController
    from pooldesk.ui.views.dashboard_view import DashboardView

    view = DashboardView()
    view.resize(1200, 900)
    view.show()
    controller = DashboardController(view)

    async def creds() -> MqttCredentials:
        return MqttCredentials(
            "bench", "-", "bench-dash", "users/bench", f"mqtt://127.0.0.1:{port}"
        )

    controller.credentials_source = creds

    async def no_backend(*, background: bool = False) -> None:  # noqa: ARG001 - as replaced
        controller.store.load([DeviceInfo(f"ESP-{d:06X}", f"Pool {d}", "") for d in range(devices)])

    controller.reload_devices = no_backend  # type: ignore[method-assign]
    controller.store.topic_prefix = "users/bench"
    controller.start()
    while not (controller.link and controller.link.connected):  # noqa: ASYNC110 - a bench poll
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.5)
    idle = await ticker_lag(min(3.0, seconds))
    received = [0]
    controller.store.subscribe(
        lambda _k, what: (
            received.__setitem__(0, received[0] + 1) if what in ("pump", "telemetry") else None
        )
    )
    publisher = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        PUBLISHER,
        str(port),
        str(devices),
        str(rate),
        str(seconds),
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    cpu0, wall0 = time.process_time(), time.monotonic()
    loaded = await ticker_lag(seconds)
    cpu = (time.process_time() - cpu0) / (time.monotonic() - wall0)
    out, _ = await publisher.communicate()
    await asyncio.sleep(0.5)
    await controller.stop()
    view.close()
    return {
        "idle": idle,
        "loaded": loaded,
        "cpu": cpu,
        "sent": int(out.strip() or 0),
        "received": received[0],
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--rate", type=float, default=10.0, help="messages/s per device")
    parser.add_argument("--startup-runs", type=int, default=3)
    args = parser.parse_args()

    app_times = run_startup(STARTUP_APP, args.startup_runs)
    bare_times = run_startup(STARTUP_BARE, args.startup_runs)
    app_s, bare_s = statistics.median(app_times), statistics.median(bare_times)
    print(
        f"start-up to sign-in window: {app_s:.2f} s (median of {len(app_times)})   "
        f"bare PySide6 window: {bare_s:.2f} s   ratio {app_s / bare_s:.1f}x   goal < 1.5 s"
    )

    from pooldesk.ui.event_loop import AppEventLoop, application

    qt = application(sys.argv[:1])
    loop = AppEventLoop(qt)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory() as folder:
        broker, port = start_mosquitto(Path(folder))
        try:
            with loop:
                r = loop.run_until_complete(
                    dashboard_run(port, args.devices, args.rate, args.seconds)
                )
        finally:
            broker.terminate()
            broker.wait(5)
    ms = 1000
    print(
        f"dashboard, {args.devices} devices x {args.rate:g} msg/s for {args.seconds:g} s: "
        f"sent {r['sent']}, shown {r['received']}"
    )
    print(
        f"  loop lag p50 {pct(r['loaded'], 0.5) * ms:.1f} ms  p99 {pct(r['loaded'], 0.99) * ms:.1f}"
        f" ms   idle baseline p50 {pct(r['idle'], 0.5) * ms:.1f} ms  p99 "
        f"{pct(r['idle'], 0.99) * ms:.1f} ms   ratio p99 "
        f"{pct(r['loaded'], 0.99) / max(pct(r['idle'], 0.99), 1e-4):.1f}x   goal p99 < 30 ms"
    )
    print(
        f"  CPU {r['cpu'] * 100:.0f} % of one core   peak memory {r['peak_mb']:.0f} MB"
        f"   goal < 250 MB"
    )
    print(
        json.dumps(
            {
                "startup_s": round(app_s, 3),
                "startup_bare_s": round(bare_s, 3),
                "lag_p99_ms": round(pct(r["loaded"], 0.99) * ms, 2),
                "cpu": round(r["cpu"], 3),
                "peak_mb": round(r["peak_mb"], 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
