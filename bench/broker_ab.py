"""Why a broker's echo has a tail: the managed broker's set-up, one thing changed at a time,
all variants side by side in the same seconds (issue 12; docs/mqtt.md, "Where the echo's tail
came from").

Each variant is a Mosquitto with its own command -> state echo pair running back to back in a
process of its own. Printed per variant: the echo's p50 / p99 / p99.9 / max, the share over
10 ms, and the broker's run-queue wait per ms of CPU (/proc/<pid>/schedstat: a message had
arrived but the broker had no CPU). The `disk-save` variant saves its state on disk, as the
managed broker did before, under `strace --seccomp-bpf` (only the traced calls stop it): each
save's fsync, and how the echoes in flight during one fared.

Variants: plain (no logins, ACLs or persistence), pooldesk (the managed broker's configuration
as PoolDesk starts it), own-session (the same, started in a session of its own, as before issue
12), disk-save (the same, saving to disk), no-persist (the same, persistence off).

Usage (as root, with strace installed): .venv/bin/python bench/broker_ab.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.mqtt import EchoPair, SchedStat, _pct, echo_until_stopped
from pooldesk_server.broker.logins import dashboard_login, device_login
from pooldesk_server.broker.managed import ManagedMosquitto
from tests.support.ports import free_port, wait_for_port

VARIANTS = ("plain", "pooldesk", "own-session", "disk-save", "no-persist")
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def echo_child(port: int, dash: list, dev: list, out: str) -> None:
    """`--echo-child`: echo back to back until a line on stdin; write [start, ms] pairs."""
    pair = EchoPair(port, tuple(dash), tuple(dev))
    Path(out).write_text(json.dumps(echo_until_stopped(pair)))


class Variant:
    def __init__(self, name: str, root: Path, template: str, store: Path, creds: tuple) -> None:
        self.name, self.dir = name, root / name
        self.dir.mkdir()
        os.chmod(self.dir, 0o777)  # noqa: S103 - a throw-away folder strace writes into as mosquitto
        self.port = free_port()
        self.ram = Path(tempfile.mkdtemp(dir="/dev/shm", prefix="pooldesk-ab-"))
        broker = pwd.getpwnam("mosquitto")
        self.uid, self.gid = broker.pw_uid, broker.pw_gid
        if name == "plain":
            config = f"listener {self.port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n"
            config += "user root\n"
            self.creds: tuple = (["d", None, None], ["v", None, None])
        else:
            shutil.copytree(store, self.dir / "store")
            for path in [self.dir / "store", *(self.dir / "store").iterdir(), self.ram]:
                os.chown(path, self.uid, self.gid)
            config = template.replace(str(store), str(self.dir / "store"))
            config = re.sub(r"listener \d+ 127.0.0.1", f"listener {self.port} 127.0.0.1", config)
            state = self.dir / "store" if name == "disk-save" else self.ram
            config = re.sub(r"persistence_location \S+", f"persistence_location {state}/", config)
            if name == "no-persist":
                config = config.replace("persistence true", "persistence false")
            self.creds = creds
        (self.dir / "mosquitto.conf").write_text(config)

    def start(self) -> None:
        command = [MOSQUITTO, "-c", str(self.dir / "mosquitto.conf")]
        if self.name == "disk-save":
            trace = ["strace", "-f", "--seccomp-bpf", "-e", "trace=fsync", "-T", "-ttt"]
            command = [*trace, "-o", str(self.dir / "strace.txt"), *command]
        as_broker = self.name != "plain"

        def setup() -> None:
            if as_broker:
                os.setgroups([])
                os.setgid(self.gid)
                os.setuid(self.uid)

        self.proc = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=self.name == "own-session",
            preexec_fn=setup,
        )
        wait_for_port(self.port)
        self.pid = self.proc.pid
        if self.name == "disk-save":  # the broker is strace's child
            self.pid = int(subprocess.check_output(["pgrep", "-P", str(self.proc.pid)]).split()[0])
        self.echo = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--echo-child",
                str(self.port),
                json.dumps(self.creds[0]),
                json.dumps(self.creds[1]),
                str(self.dir / "echo.json"),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.echo.stdout is not None
        if self.echo.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the echo of {self.name} did not start")

    def stop(self) -> list[tuple[float, float]]:
        assert self.echo.stdin is not None
        self.echo.stdin.write("stop\n")
        self.echo.stdin.flush()
        self.echo.wait(120)
        os.kill(self.pid, signal.SIGTERM)  # the broker (under strace, its child)
        self.proc.wait(10)
        shutil.rmtree(self.ram, ignore_errors=True)
        return [tuple(x) for x in json.loads((self.dir / "echo.json").read_text())]

    def kill(self) -> None:
        for process in (getattr(self, "pid", None), getattr(self, "echo", None)):
            pid = process if isinstance(process, int) else getattr(process, "pid", None)
            if pid is not None:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.ram, ignore_errors=True)

    def fsyncs(self) -> list[tuple[float, float]]:
        """(start, end) of each fsync the broker made."""
        out = []
        for line in (self.dir / "strace.txt").read_text().splitlines():
            if "fsync(" in line and line.rstrip().endswith(">"):
                start = float(line.split()[1])
                out.append((start, start + float(line.rsplit("<", 1)[1].rstrip(">"))))
        return out


async def template(root: Path) -> tuple[str, Path, tuple]:
    """A managed broker's configuration and store holding one dashboard and one device login."""
    managed = ManagedMosquitto(root / "managed", command_timeout=60)
    await managed.start()
    try:
        dash, dev = dashboard_login("bench", "b3c4"), device_login("bench", "ESP-000001")
        await managed.put_logins([dash, dev])
    finally:
        await managed.stop()
    creds = (
        [dash.client_id, dash.username, dash.password],
        [dev.client_id, dev.username, dev.password],
    )
    return (root / "managed" / "mosquitto.conf").read_text(), root / "managed" / "store", creds


def report(results: dict, scheds: dict, syncs: list[tuple[float, float]]) -> None:
    print(
        f"{'variant':12} {'echoes':>7} {'p50':>6} {'p99':>7} {'p99.9':>7} {'max':>7} {'>10ms':>6}"
    )
    print(f"{'':12} {'':>7} {'ms':>6} {'ms':>7} {'ms':>7} {'ms':>7} {'%':>6}  run-queue wait/CPU")
    for name, times in results.items():
        ms = [d for _, d in times]
        over = 100 * sum(1 for d in ms if d > 10) / len(ms)
        sched = scheds[name]
        print(
            f"{name:12} {len(ms):7d} {_pct(ms, 50):6.2f} {_pct(ms, 99):7.2f} "
            f"{_pct(ms, 99.9):7.1f} {max(ms):7.1f} {over:6.2f}  "
            f"{sched.wait_ms / sched.cpu_ms:.1f} ms per ms of {sched.cpu_ms:.0f}"
        )
    if syncs:
        durations = sorted((b - a) * 1000 for a, b in syncs)
        during = [
            d for t, d in results["disk-save"] if any(t < b and t + d / 1000 > a for a, b in syncs)
        ]
        print(
            f"\ndisk-save: {len(syncs)} fsyncs, p50 {_pct(durations, 50):.1f} ms, max "
            f"{durations[-1]:.1f} ms; echoes in flight during one: {len(during)}, of them over "
            f"10 ms: {sum(1 for d in during if d > 10)} (max {max(during, default=0):.1f} ms)"
        )


async def main() -> None:
    if sys.argv[1:2] == ["--echo-child"]:
        port, dash, dev, out = sys.argv[2:6]
        echo_child(int(port), json.loads(dash), json.loads(dev), out)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    if shutil.which("strace") is None:
        raise SystemExit("needs strace: apt-get install strace")
    root = Path(tempfile.mkdtemp(prefix="pooldesk-ab-"))
    os.chmod(root, 0o711)  # noqa: S103 - lets the broker's user reach its store
    variants: list[Variant] = []
    try:
        config, store, creds = await template(root)
        variants = [Variant(name, root, config, store, creds) for name in VARIANTS]
        for variant in variants:
            variant.start()
        print(f"{len(variants)} brokers echoing side by side for {args.seconds:.0f} s ...")
        scheds = {v.name: SchedStat(v.pid) for v in variants}
        for sched in scheds.values():
            sched.__enter__()
        await asyncio.sleep(args.seconds)
        for sched in scheds.values():
            sched.__exit__()
        syncs = next(v for v in variants if v.name == "disk-save").fsyncs()
        results = {v.name: v.stop() for v in variants}
        variants = []
        report(results, scheds, syncs)
    finally:
        for variant in variants:  # a run that failed half-way: its started brokers and echoes
            variant.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
