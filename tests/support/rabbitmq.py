"""A throw-away two-node RabbitMQ cluster with the MQTT plugin and the HTTP auth back end.

Loopback only: AMQP, MQTT, Erlang distribution and a private epmd on free 127.0.0.1 ports; a
shared Erlang cookie in a private HOME. Debian's `rabbitmq-server` 3.10 (`apt-get install
rabbitmq-server`); the nodes run from /usr/lib/rabbitmq/bin as the current user.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.ports import free_port

BIN = Path("/usr/lib/rabbitmq/bin")
CLUSTER_TIMEOUT_S = 60
START_TIMEOUT_S = 90.0


@dataclass
class Node:
    name: str
    mqtt_port: int
    amqp_port: int
    dist_port: int
    home: Path
    proc: subprocess.Popen | None = None


class RabbitCluster:
    def __init__(self, root: Path, auth_base_url: str, nodes: int = 2) -> None:
        if not (BIN / "rabbitmq-server").exists():
            raise RuntimeError("RabbitMQ is not installed: apt-get install rabbitmq-server")
        self.root = root
        self.auth_base_url = auth_base_url.rstrip("/")
        self.epmd_port = free_port()
        self.cookie = secrets.token_hex(20)
        tag = secrets.token_hex(3)
        self.nodes = [
            Node(f"pd{tag}{i}@localhost", free_port(), free_port(), free_port(), root / f"n{i}")
            for i in range(nodes)
        ]

    def _env(self, node: Node) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root),  # .erlang.cookie, shared by the nodes and the CLI
            "LANG": "C.UTF-8",
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODENAME": node.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(node.amqp_port),
            "RABBITMQ_DIST_PORT": str(node.dist_port),
            "RABBITMQ_MNESIA_BASE": str(node.home / "mnesia"),
            "RABBITMQ_LOG_BASE": str(node.home / "log"),
            "RABBITMQ_PID_FILE": str(node.home / "pid"),
            "RABBITMQ_CONFIG_FILE": str(node.home / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.root / "enabled_plugins"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }
        return env

    def _config(self, node: Node) -> str:
        peers = "".join(
            f"cluster_formation.classic_config.nodes.{i} = {n.name}\n"
            for i, n in enumerate(self.nodes, 1)
        )
        auth = self.auth_base_url
        return (
            f"listeners.tcp.default = 127.0.0.1:{node.amqp_port}\n"
            f"mqtt.listeners.tcp.default = 127.0.0.1:{node.mqtt_port}\n"
            "mqtt.allow_anonymous = false\n"
            "mqtt.vhost = /\n"
            "mqtt.exchange = amq.topic\n"
            "loopback_users = none\n"
            "auth_backends.1 = http\n"
            "auth_http.http_method = post\n"
            f"auth_http.user_path = {auth}/user\n"
            f"auth_http.vhost_path = {auth}/vhost\n"
            f"auth_http.resource_path = {auth}/resource\n"
            f"auth_http.topic_path = {auth}/topic\n"
            "cluster_formation.peer_discovery_backend = classic_config\n"
            f"{peers}"
            "log.console = false\n"
            "log.file.level = warning\n"
        )

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        cookie = self.root / ".erlang.cookie"
        cookie.write_text(self.cookie)
        cookie.chmod(0o400)
        (self.root / "enabled_plugins").write_text("[rabbitmq_mqtt,rabbitmq_auth_backend_http].\n")
        for node in self.nodes:
            node.home.mkdir(parents=True)
            (node.home / "rabbitmq.conf").write_text(self._config(node))
            log = open(node.home / "stdout.log", "wb")  # noqa: SIM115 - kept for the process
            node.proc = subprocess.Popen(
                [str(BIN / "rabbitmq-server")],
                env=self._env(node),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        for node in self.nodes:  # a node answers only once it registered with epmd: poll
            while True:
                if self.ctl(node, "await_startup", "--timeout", "30", check=False) is not None:
                    break
                if time.monotonic() > deadline or (node.proc and node.proc.poll() is not None):
                    self.ctl(node, "await_startup")  # raises with the diagnostics
                time.sleep(0.5)
        status = ""
        # The nodes are up; joining may take a while more on a busy machine.
        deadline = max(deadline, time.monotonic() + CLUSTER_TIMEOUT_S)
        while time.monotonic() < deadline:
            status = self.ctl(self.nodes[0], "cluster_status", "--formatter", "json") or ""
            if all(n.name in status.split("running_nodes", 1)[-1] for n in self.nodes):
                return
            time.sleep(0.5)
        raise RuntimeError(f"the nodes did not form a cluster: {status[-600:]}")

    def ctl(self, node: Node, *args: str, check: bool = True) -> str | None:
        """Run rabbitmqctl against `node`; its output, or None when it failed and not `check`."""
        done = subprocess.run(
            [str(BIN / "rabbitmqctl"), "-n", node.name, *args],
            env=self._env(node),
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S + 30,
            check=False,
        )
        if check and done.returncode != 0:
            tail = (node.home / "stdout.log").read_text(errors="replace")[-1500:]
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr[-800:]}\n{tail}")
        return done.stdout if done.returncode == 0 else None

    def stop(self) -> None:
        for node in self.nodes:
            if node.proc is not None and node.proc.poll() is None:
                self.ctl(node, "stop", check=False)
        for node in self.nodes:
            if node.proc is None:
                continue
            try:
                node.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(node.proc.pid, 9)
                node.proc.wait()
        # The private epmd the first node started outlives the nodes: end it by its port.
        epmd = shutil.which("epmd") or "/usr/lib/erlang/bin/epmd"
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                [epmd, "-port", str(self.epmd_port), "-kill"],
                capture_output=True,
                timeout=10,
                check=False,
            )


@contextlib.contextmanager
def rabbit_cluster(root: Path, auth_base_url: str) -> Iterator[RabbitCluster]:
    cluster = RabbitCluster(root, auth_base_url)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
