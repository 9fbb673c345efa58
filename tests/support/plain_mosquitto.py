"""A throw-away Mosquitto without logins or ACLs, for tests that only need a broker.

Tests of rights and isolation use the backend's managed broker instead.
"""

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.ports import free_port, wait_for_port
from tests.support.processes import die_with_parent


@contextmanager
def plain_mosquitto(workdir: Path, logins: dict[str, str] | None = None) -> Iterator[int]:
    """A broker on a free loopback port. `logins` (user -> password): only those may connect
    (a wrong login is refused with CONNACK code 5); None: anyone, no login."""
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not os.path.exists(exe):
        raise RuntimeError("mosquitto is not installed: apt-get install mosquitto")
    port = free_port()
    conf = workdir / "mosquitto.conf"
    user = "root" if os.geteuid() == 0 else os.environ.get("USER", "")
    access = "allow_anonymous true\n"
    if logins is not None:
        passwd = workdir / "mosquitto.passwd"
        passwd.write_text("".join(f"{u}:{p}\n" for u, p in logins.items()))
        passwd.chmod(0o600)
        tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
        subprocess.run([tool, "-U", str(passwd)], check=True, capture_output=True, timeout=30)
        access = f"allow_anonymous false\npassword_file {passwd}\n"
    conf.write_text(
        f"listener {port} 127.0.0.1\n{access}set_tcp_nodelay true\n"
        + (f"user {user}\n" if user else "")
    )
    proc = subprocess.Popen(
        [exe, "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=die_with_parent(),
    )
    try:
        wait_for_port(port)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
