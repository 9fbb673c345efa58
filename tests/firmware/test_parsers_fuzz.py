"""Everything a peer can send to the device's parsers: no crash, no hang.

Broker side: any byte stream into read_packet + parse ends in a parsed packet, EOFError or
ProtocolError. Dashboard side: any payload on pump/set or schedule/set ends in a command or a
CommandError with a reason. Binding fields from provisioning: a binding or a ValueError.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pooldesk_firmware.sim.loader import FirmwareImage

_firmware = FirmwareImage()  # the firmware's own modules, apart from this process's
fw_binding = _firmware.module("fw_binding")
fw_commands = _firmware.module("fw_commands")
fw_mqtt = _firmware.module("fw_mqtt")

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def drain(data: bytes) -> list[tuple]:
    async def run() -> list[tuple]:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        out = []
        while True:
            try:
                first, body = await asyncio.wait_for(fw_mqtt.read_packet(reader), 1)
                out.append(fw_mqtt.parse(first, body))
            except (EOFError, fw_mqtt.ProtocolError):
                return out

    return asyncio.run(run())


def test_codec_round_trip():
    pkt = fw_mqtt.publish_packet("a/b", b"\x00payload", qos=1, retain=True, pid=7)
    assert drain(pkt) == [("publish", "a/b", b"\x00payload", 1, True, 7, False)]
    big = fw_mqtt.publish_packet("t", b"x" * 300)
    assert drain(big)[0][2] == b"x" * 300  # two-byte remaining length
    assert drain(b"\x20\x02\x00\x05") == [("connack", False, 5)]
    assert drain(b"\x90\x03\x00\x01\x80") == [("suback", 1, b"\x80")]


@pytest.mark.parametrize(
    "bad",
    [
        b"\x30\xff\xff\xff\xff\x01",  # remaining length of 5 bytes
        b"\x30\xff\xff\xff\x7f",  # 268 MB packet
        b"\x36\x02\x00\x00",  # QoS 3
        b"\x32\x05\x00\x01a\x00\x00",  # QoS 1 with packet id 0
        b"\x30\x04\x00\x09ab",  # topic longer than the packet
        b"\x30\x04\x00\x02\xff\xfe",  # topic not UTF-8
        b"\x10\x00",  # CONNECT from a broker
        b"\x42\x02\x00\x01",  # PUBACK with reserved flags
    ],
)
def test_malformed_packets_are_refused(bad: bytes):
    assert drain(bad) == []


@FUZZ
@given(st.binary(max_size=600))
def test_any_byte_stream_from_the_broker(data: bytes):
    for packet in drain(data):
        assert packet[0] in ("publish", "connack", "puback", "suback", "unsuback", "pingresp")


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=40)), max_size=6))
def test_well_framed_packets_with_any_header_and_body(parts: list[tuple[int, bytes]]):
    data = b"".join(fw_mqtt.packet(first, body) for first, body in parts)
    drain(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)

command_like = st.fixed_dictionaries(
    {},
    optional={
        "cmd_id": st.text(max_size=70) | st.integers(),
        "mode": st.sampled_from(["manual", "schedule", "timer", "freeze", "", 3]),
        "on": json_values,
        "duration_s": json_values,
        "tz": st.text(max_size=40) | json_values,
        "windows": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "start": st.text(max_size=6),
                    "end": st.text(max_size=6),
                    "days": st.lists(st.sampled_from(["mon", "sun", "xyz"]), max_size=3)
                    | json_values,
                },
            ),
            max_size=3,
        )
        | json_values,
    },
)


def _both(payload: bytes) -> None:
    for parse in (fw_commands.parse_pump, fw_commands.parse_schedule):
        try:
            parse(payload)
        except fw_commands.CommandError as e:
            assert e.reason
            assert isinstance(e.reason, str)


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_as_a_command(payload: bytes):
    _both(payload)


@FUZZ
@given(command_like)
def test_any_command_shaped_json(body: dict):
    _both(json.dumps(body).encode())


@pytest.mark.parametrize(
    "payload",
    [
        b"[" * 3000,
        b'{"a":' * 900 + b"1" + b"}" * 900,
        b"NaN",
        b'{"cmd_id": "x", "on": true}' + b" " * 5000,
        b"\xff\xfe",
        b'{"cmd_id":"ok","mode":"timer","duration_s":1e400}',
    ],
)
def test_hostile_payloads_get_a_reason(payload: bytes):
    with pytest.raises(fw_commands.CommandError):
        fw_commands.parse_pump(payload)


def test_valid_commands():
    assert fw_commands.parse_pump(b'{"cmd_id":"A1","on":true}') == {
        "cmd_id": "A1",
        "mode": "manual",
        "on": True,
        "duration_s": None,
    }
    assert (
        fw_commands.parse_pump(b'{"cmd_id":"A2","mode":"timer","duration_s":7200}')["duration_s"]
        == 7200
    )
    with pytest.raises(fw_commands.CommandError) as e:
        fw_commands.parse_pump(b'{"cmd_id":"A3","mode":"timer","duration_s":0}')
    assert e.value.cmd_id == "A3"


@FUZZ
@given(st.dictionaries(st.sampled_from(fw_binding.KEYS), json_values, max_size=9))
def test_any_binding_is_validated_or_refused(b: dict):
    try:
        fw_binding.validate(b)
    except ValueError as e:
        assert str(e)


@FUZZ
@given(st.text(max_size=60))
def test_any_broker_url(url: str):
    try:
        _tls, host, port = fw_binding.parse_broker_url(url)
        assert host
        assert 0 < port < 65536
    except ValueError:
        pass
