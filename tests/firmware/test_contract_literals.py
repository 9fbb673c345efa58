"""The MicroPython firmware keeps its own literals (it cannot import `pooldesk_contract`); these
tests prove they say what the contract says: device ids, the topics it publishes (and whether
retained) and subscribes to, command ids, topic prefix characters, alert ids and the codes and
fields of a refused command."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

import pooldesk_firmware
from pooldesk_contract import ids, topics
from pooldesk_contract.rejections import Field, Rejection
from pooldesk_contract.schema import topic_schema
from pooldesk_firmware.sim.loader import FirmwareImage

_firmware = FirmwareImage()  # the firmware's own modules, apart from this process's
fw_binding = _firmware.module("fw_binding")
fw_commands = _firmware.module("fw_commands")
fw_controller = _firmware.module("fw_controller")
fw_expiry = _firmware.module("fw_expiry")
fw_ids = _firmware.module("fw_ids")
fw_ota = _firmware.module("fw_ota")
fw_pump = _firmware.module("fw_pump")
fw_transfer = _firmware.module("fw_transfer")

DEVICE = Path(pooldesk_firmware.__file__).parent / "device"
PREFIX = topics.device_prefix("alice", "ESP-A1B2C3")


def _calls(named: str) -> list[ast.Call]:
    """Every call of a method or function called `named` in the firmware's files."""
    found = []
    for path in sorted(DEVICE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name == named:
                    found.append(node)
    return found


def _topic_name(node: ast.expr) -> str:
    """`"pump/state"` -> pump/state; `"alert/" + aid` -> alert/+; `p + "/ota/get"` -> ota/get."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.lstrip("/")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        right = node.right
        if isinstance(right, ast.Constant) and isinstance(right.value, str):
            return right.value.lstrip("/")  # prefix + "/name"
        left = node.left
        if isinstance(left, ast.Constant) and isinstance(left.value, str):
            return left.value + "+"  # "alert/" + id
    raise AssertionError(f"a topic the test cannot read: {ast.unparse(node)}")


def _retain(call: ast.Call, position: int) -> bool:
    for keyword in call.keywords:
        if keyword.arg == "retain":
            return bool(ast.literal_eval(keyword.value))
    if len(call.args) > position:
        return bool(ast.literal_eval(call.args[position]))
    return False


def test_the_firmware_derives_device_ids_as_the_contract_does():
    for mac in ("240ac4a1b2c3", "000000000000", "ffffffffff0f", "c0de00a1b2c3"):
        raw = bytes.fromhex(mac)
        assert fw_ids.device_id(raw) == ids.device_id_from_mac(raw)
        assert ids.DEVICE_ID.fullmatch(fw_ids.device_id(raw))
        assert fw_ids.topic_id(fw_ids.device_id(raw)) == ids.topic_id(ids.device_id_from_mac(raw))


def test_the_firmware_publishes_exactly_the_device_topics_with_their_retained_flag():
    published: dict[str, set[bool]] = {}
    for call in _calls("_enqueue"):
        published.setdefault(_topic_name(call.args[0]), set()).add(_retain(call, 2))
    for call in _calls("publish"):
        if call.args and isinstance(call.args[0], ast.BinOp):  # prefix + "/name"
            published.setdefault(_topic_name(call.args[0]), set()).add(_retain(call, 2))
    assert set(published) == set(topics.DEVICE_PUBLISHES)
    for name, flags in published.items():
        assert flags == {topics.BY_NAME[name].retained}, name


def test_the_firmware_subscribes_to_exactly_the_topics_sent_to_a_device():
    (subscribe,) = [c for c in _calls("subscribe") if isinstance(c.args[0], ast.BinOp)]
    own = [
        _topic_name(e)
        for e in ast.walk(subscribe.args[0])
        if isinstance(e, ast.BinOp) and isinstance(e.right, ast.Constant)
    ]
    ota = [t.removeprefix(PREFIX + "/") for t in fw_ota.Updater.topics(None, PREFIX)]
    moves = [t.removeprefix(PREFIX + "/") for t in fw_transfer.Mover.topics(None, PREFIX)]
    assert sorted({*own, *ota, *moves}) == sorted(topics.DEVICE_RECEIVES)


def test_the_will_is_the_retained_offline_status():
    wills = []
    for path in sorted(DEVICE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "will":
                wills.append(node.value)
    assert wills, "the firmware sets no will"
    for will in wills:
        assert isinstance(will, ast.Tuple)
        topic, payload, _qos, retain = will.elts
        assert _topic_name(topic) == "status"
        assert ast.literal_eval(payload) == b"offline"
        assert ast.literal_eval(retain) is topics.BY_NAME["status"].retained


CMD_ID = re.compile(topic_schema("pump/set")["$defs"]["cmd_id"]["pattern"])


@pytest.mark.parametrize(
    "cmd_id", ["C1", "a" * 64, "a" * 65, "", "01JDQ3K2W8", "with space", "é", "x/y", "u_-9"]
)
def test_command_ids_follow_the_schema(cmd_id):
    assert fw_commands.valid_cmd_id(cmd_id) == bool(CMD_ID.fullmatch(cmd_id))


def test_pump_modes_a_command_may_ask_for_are_the_schemas():
    modes = topic_schema("pump/set")["properties"]["mode"]["enum"]
    for mode in modes:
        body = {"cmd_id": "C1", "mode": mode, "on": True, "duration_s": 60}
        assert fw_commands.parse_pump(_json(body))["mode"] == mode
    with pytest.raises(fw_commands.CommandError):
        fw_commands.parse_pump(_json({"cmd_id": "C1", "mode": "freeze"}))


def test_the_firmware_accepts_the_contracts_prefix_and_alert_ids():
    assert fw_binding._topic_prefix(PREFIX) == PREFIX
    level = re.compile(topics.LEVEL_PATTERN)
    for bad in ("users/Alice/devices/esp-a1b2c3", "users/al ice/devices/x", "users/a+/devices/x"):
        assert not all(level.fullmatch(part) for part in bad.split("/"))
        with pytest.raises(fw_binding.BindingError):
            fw_binding._topic_prefix(bad)
    alert_id = re.compile(topic_schema("alert/+")["properties"]["id"]["pattern"])
    assert all(alert_id.fullmatch(a) for a in fw_controller.ALERT_IDS)


def _strings(node: ast.expr) -> set[str]:
    """The string literals an argument can be: `"tz"`, `"start" if ... else "end"` (a call's
    own arguments are not the argument's values)."""
    if isinstance(node, ast.IfExp):
        return _strings(node.body) | _strings(node.orelse)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    return set()


def _literal_args(named: str, position: int) -> set[str]:
    """The string literals passed at `position` in every call of `named` that has one."""
    found: set[str] = set()
    for call in _calls(named):
        if len(call.args) > position:
            found |= _strings(call.args[position])
    return found


def test_the_firmware_refuses_commands_with_the_contracts_codes_and_fields():
    """Every code and field the firmware can put in a `command_rejected` is the contract's, and
    every one of the contract's is given somewhere (one nobody sends is dead contract)."""
    refusals = [fw_controller.RETAINED, fw_expiry.EXPIRED, fw_expiry.MALFORMED]
    codes = {fw_pump.FREEZE_ACTIVE} | {code for code, _, _ in refusals}
    codes |= _literal_args("_reject", 1)  # `invalid` for what the parsers refuse
    assert codes == set(Rejection)
    fields = {field for _, field, _ in refusals if field is not None}
    fields |= _literal_args("CommandError", 2) | _literal_args("Invalid", 1)
    fields |= _literal_args("_hhmm", 1)
    assert fields == set(Field)
    event = topic_schema("event")["allOf"][1]["then"]["properties"]
    assert set(event["code"]["enum"]) == set(Rejection)
    assert set(event["field"]["enum"]) == set(Field)


def _json(body: dict) -> bytes:
    return json.dumps(body).encode()
