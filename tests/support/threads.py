"""Which threads the backend's own MQTT clients run (they must run none: `broker/paho_loop.py`)."""

from __future__ import annotations

import threading

PAHO_THREAD = "paho-mqtt-client-"  # paho's `loop_start` names its thread this + the client id
# Client ids of the backend's own MQTT clients (test probes use app-/esp- ids, and may thread).
BACKEND_CLIENT_IDS = ("svc-", "recorder-", "pooldesk-admin")


def backend_paho_threads() -> list[str]:
    """Names of paho network threads of the backend's own MQTT clients."""
    return [
        t.name
        for t in threading.enumerate()
        if t.name.startswith(PAHO_THREAD)
        and t.name.removeprefix(PAHO_THREAD).startswith(BACKEND_CLIENT_IDS)
    ]
