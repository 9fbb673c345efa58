"""The firmware's MQTT client under the real MicroPython interpreter, against a real Mosquitto
that wants a login (tests/firmware/mpy/mpy_mqtt.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import micropython
from tests.support.plain_mosquitto import plain_mosquitto

SCRIPT = micropython.SCRIPTS_DIR / "mpy_mqtt.py"
LOGIN = ("device-1", "s3cret-device-pass")


@pytest.fixture(scope="module")
def login_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with plain_mosquitto(tmp_path_factory.mktemp("broker"), logins=dict([LOGIN])) as port:
        yield port


@pytest.mark.parametrize("name", micropython.cases(SCRIPT))
def test_mqtt_client_under_micropython(name: str, login_broker: int) -> None:
    env = {"PD_PORT": str(login_broker), "PD_USER": LOGIN[0], "PD_PASSWORD": LOGIN[1]}
    micropython.run_case(SCRIPT, name, timeout=60, env=env)
