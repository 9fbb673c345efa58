"""The managed broker is reachable from this machine only, unless the operator asks otherwise:
every socket its process listens on is bound to a loopback address (read from the kernel's
socket tables, so a listener that ignores its configured address is caught)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from pooldesk_server.broker.managed import ManagedMosquitto


def listening_addresses(pid: int) -> list[tuple[str, int]]:
    """(address, port) of every TCP socket in LISTEN state that process `pid` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table, width in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in inodes:  # 0A = LISTEN
                continue
            raw, port = local.split(":")
            packed = bytes.fromhex(raw)
            # The kernel prints each 32-bit word in host (little-endian) order.
            words = [packed[i : i + 4][::-1] for i in range(0, width, 4)]
            found.append((str(ipaddress.ip_address(b"".join(words))), int(port, 16)))
    return found


async def test_the_managed_broker_listens_on_loopback_only(tmp_path: Path) -> None:
    broker = ManagedMosquitto(tmp_path / "broker")
    await broker.start()
    try:
        assert broker.pid is not None
        sockets = listening_addresses(broker.pid)
        assert (("127.0.0.1", broker.port)) in sockets
        exposed = [s for s in sockets if not ipaddress.ip_address(s[0]).is_loopback]
        assert exposed == [], f"the broker listens beyond this machine: {exposed}"
    finally:
        await broker.stop()


async def test_a_websockets_listener_is_opened_only_when_asked_for(tmp_path: Path) -> None:
    broker = ManagedMosquitto(tmp_path / "broker")
    await broker.start()
    try:
        config = (tmp_path / "broker" / "mosquitto.conf").read_text()
        assert "protocol websockets" not in config
        assert broker.websocket_port == 0
    finally:
        await broker.stop()
    asked = ManagedMosquitto(tmp_path / "asked", websockets=True)
    await asked.start()
    try:
        assert asked.websocket_port
        assert asked.pid is not None
        ports = [port for _address, port in listening_addresses(asked.pid)]
        assert asked.websocket_port in ports
    finally:
        await asked.stop()
