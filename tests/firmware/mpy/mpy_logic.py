# The firmware's pure logic under MicroPython: commands, pump, schedule, time zones, store,
# MQTT packets, binding checks. PD_TMP: a scratch folder; PD_DATA: expectations computed by
# the CPython side (time-zone offsets from the tz database).
import asyncio
import json
import os
import time

import fw_binding
import fw_commands
import fw_freeze
import fw_mqtt
import fw_pump
import fw_schedule
import fw_store
import fw_time
import fw_tz
import fw_tzdb
import prov_check
import prov_frame
from mpyunit import case, eq, main


def raises(exc, fn, *args):
    try:
        fn(*args)
    except exc as e:
        return e
    raise AssertionError("%s not raised by %r%r" % (exc.__name__, fn, args))


# ---- commands ----------------------------------------------------------------------------


@case
def commands_valid():
    eq(
        fw_commands.parse_pump(b'{"cmd_id":"A1","on":true}'),
        {"cmd_id": "A1", "mode": "manual", "on": True, "duration_s": None},
        "manual",
    )
    eq(
        fw_commands.parse_pump(b'{"cmd_id":"A2","mode":"timer","duration_s":7200}')["duration_s"],
        7200,
        "timer",
    )
    eq(fw_commands.parse_pump(b'{"cmd_id":"A4","mode":"schedule"}')["mode"], "schedule", "mode")
    cmd = fw_commands.parse_schedule(
        b'{"cmd_id":"S1","tz":"Europe/Madrid","windows":[{"start":"08:00","end":"10:00"}]}'
    )
    eq(cmd["schedule"]["tz"], "Europe/Madrid", "tz")
    eq(cmd["schedule"]["windows"][0]["days"], list(fw_time.DAYS), "default days")
    eq(fw_commands.cmd_id_of(b'{"cmd_id":"X-9"}'), "X-9", "cmd_id_of")
    eq(fw_commands.cmd_id_of(b"\xff"), None, "cmd_id_of garbage")


@case
def commands_refused_with_a_reason_and_the_cmd_id():
    e = raises(
        fw_commands.CommandError,
        fw_commands.parse_pump,
        b'{"cmd_id":"A3","mode":"timer","duration_s":0}',
    )
    eq(e.cmd_id, "A3", "cmd_id")
    assert "duration_s" in e.reason, e.reason
    eq(str(e), e.reason, "str")
    eq(e.field, "duration_s", "field")
    for payload in (
        b"",
        b"\xff\xfe",
        b"[1]",
        b"null",
        b'{"cmd_id":"a b","on":true}',
        b'{"cmd_id":"ok"}',
        b'{"cmd_id":"ok","on":1}',
        b'{"cmd_id":"ok","mode":"timer","duration_s":true}',
        b'{"cmd_id":"ok","mode":"timer","duration_s":86401}',
        b'{"cmd_id":"ok","mode":"boost","on":true}',
        b"[" * 200 + b"]" * 200,
        b'{"cmd_id":"' + b"x" * 5000 + b'"}',
    ):
        e = raises(fw_commands.CommandError, fw_commands.parse_pump, payload)
        assert e.reason, payload
    e = raises(
        fw_commands.CommandError,
        fw_commands.parse_schedule,
        b'{"cmd_id":"S2","tz":"Mars/Olympus","windows":[]}',
    )
    eq(e.cmd_id, "S2", "schedule cmd_id")
    eq((e.field, e.reason), ("tz", "unknown time zone: Mars/Olympus"), "schedule field")
    eq(raises(fw_commands.CommandError, fw_commands.parse_pump, b"[1]").field, None, "no field")


# ---- pump and freeze ---------------------------------------------------------------------

MORNING = fw_schedule.Schedule({"tz": "UTC", "windows": [{"start": "08:00", "end": "10:00"}]})
T0 = fw_time.to_epoch(2026, 11, 27, 12, 0)


def _cmd(cmd_id, mode, on=None, duration_s=None):
    return {"cmd_id": cmd_id, "mode": mode, "on": on, "duration_s": duration_s}


@case
def pump_timer_then_schedule():
    pump = fw_pump.Pump()
    pump.apply(_cmd("t1", "timer", duration_s=7200), T0, 1000, False)
    eq(pump.evaluate(T0 + 7199, 1000 + 7199000, MORNING, False)[:2], (True, "timer"), "running")
    on, mode, _, must_save = pump.evaluate(T0 + 7200, 1000 + 7200000, MORNING, False)
    eq((on, mode, must_save), (False, "schedule", True), "expired")


@case
def pump_timer_without_time_counts_ticks():
    pump = fw_pump.Pump()
    pump.apply(_cmd("t1", "timer", duration_s=60), None, 5000, False)
    eq(pump.evaluate(None, 35000, MORNING, False)[:2], (True, "timer"), "running")
    on, mode, _, must_save = pump.evaluate(T0, 45000, MORNING, False)
    eq((on, mode, must_save), (True, "timer", True), "time arrives")
    eq(pump.until, T0 + 20, "until")
    eq(pump.evaluate(None, 65000, MORNING, False)[:2], (False, "schedule"), "ends on ticks")


@case
def pump_ticks_wrap_around():
    pump = fw_pump.Pump()
    # 1 s before ticks_ms wraps (at 2**30 on the ESP32; the port's own period here)
    start = time.ticks_add(0, -1000)
    pump.apply(_cmd("t1", "timer", duration_s=5), None, start, False)
    eq(pump.evaluate(None, 2000, MORNING, False)[:2], (True, "timer"), "across the wrap")
    eq(pump.evaluate(None, 4000, MORNING, False)[:2], (False, "schedule"), "after the wrap")


@case
def pump_restart_manual_and_freeze():
    pump = fw_pump.Pump()
    pump.apply(_cmd("m1", "manual", on=True), None, 0, False)
    rebooted = fw_pump.Pump(json.loads(json.dumps(pump.saved())))
    eq(rebooted.evaluate(None, 0, MORNING, False)[:2], (True, "manual"), "manual kept")
    assert rebooted.seen("m1")
    e = raises(fw_pump.Rejected, rebooted.apply, _cmd("m2", "manual", on=False), None, 0, True)
    eq(e.args, ("freeze_active", "freeze protection active"), "code and reason")
    eq(rebooted.evaluate(None, 0, MORNING, True)[:2], (True, "freeze"), "freeze wins")
    for i in range(40):
        rebooted.apply(_cmd("c%d" % i, "schedule"), None, 0, False)
    eq(len(rebooted.saved()["recent"]), fw_pump.RECENT_IDS, "recent bounded")


@case
def freeze_hysteresis_and_stale_sensor():
    g = fw_freeze.FreezeGuard(
        {"on_below_c": 3.0, "off_above_c": 5.0, "min_run_s": 600, "stale_s": 120}, 0
    )
    g.reading(2.5, 1000)
    assert g.evaluate(1000)
    g.reading(6.0, 2000)
    assert g.evaluate(2000), "minimum run time"
    g.reading(6.0, 601000)
    assert not g.evaluate(601000)
    assert g.stale(601000 + 121000)
    raises(ValueError, fw_freeze.parse, {"on_below_c": 5, "off_above_c": 3})


# ---- schedule and time zones ------------------------------------------------------------


@case
def schedule_across_midnight():
    s = fw_schedule.Schedule(
        {"tz": "UTC", "windows": [{"start": "22:00", "end": "02:00", "days": ["fri"]}]}
    )
    assert not s.is_on(fw_time.to_epoch(2026, 11, 27, 21, 59))  # Friday
    assert s.is_on(fw_time.to_epoch(2026, 11, 27, 22, 0))
    assert s.is_on(fw_time.to_epoch(2026, 11, 28, 1, 59))
    assert not s.is_on(fw_time.to_epoch(2026, 11, 28, 2, 0))
    assert not s.is_on(fw_time.to_epoch(2026, 11, 28, 23, 0))  # Saturday
    for bad, field in (
        ({"tz": "UTC", "windows": [{"start": "8:00", "end": "10:00"}]}, "start"),
        ({"tz": "UTC", "windows": [{"start": "10:00", "end": "10:00"}]}, "end"),
        ({"tz": "UTC", "windows": [{"start": "24:00", "end": "10:00"}]}, "start"),
        ({"tz": "UTC", "windows": [{"start": "08:00", "end": "24:01"}]}, "end"),
        ({"tz": "UTC", "windows": [{"start": "08:00", "end": "09:00", "days": ["xyz"]}]}, "days"),
        ({"tz": "UTC", "windows": [{"start": "0٨:00", "end": "09:00"}]}, "start"),
        ({"tz": "UTC", "windows": [3]}, "windows"),
        ({"tz": "", "windows": []}, "tz"),
    ):
        eq(raises(ValueError, fw_schedule.parse, bad).field, field, "field of %r" % (bad,))


@case
def schedule_keeps_local_wall_clock_over_dst():
    s = fw_schedule.Schedule(
        {"tz": "Europe/Madrid", "windows": [{"start": "08:00", "end": "10:00"}]}
    )
    # summer: 08:00 CEST = 06:00 UTC; winter: 08:00 CET = 07:00 UTC
    assert s.is_on(fw_time.to_epoch(2026, 7, 1, 6, 0))
    assert not s.is_on(fw_time.to_epoch(2026, 7, 1, 5, 59))
    assert s.is_on(fw_time.to_epoch(2026, 12, 1, 7, 0))
    assert not s.is_on(fw_time.to_epoch(2026, 12, 1, 6, 59))


@case
def time_zone_offsets_match_the_tz_database():
    # one JSON line per zone: [zone, [[utc, offset], ...]] (read line by line: small heap)
    bad = []
    zones = 0
    with open(os.getenv("PD_DATA") + ".tz") as f:
        for line in f:
            zone, expected = json.loads(line)
            zones += 1
            rule = fw_tz.TzRule(fw_tzdb.rule_for(zone))
            for t, offset in expected:
                if rule.offset(t) != offset:
                    bad.append((zone, fw_time.iso(t), rule.offset(t), offset))
    eq(bad, [], "offsets differing from the tz database")
    assert zones > 50, zones
    madrid = fw_tz.TzRule(fw_tzdb.rule_for("Europe/Madrid"))
    spring = fw_time.to_epoch(2026, 3, 29, 1, 0)
    eq((madrid.offset(spring - 1), madrid.offset(spring)), (3600, 7200), "spring instant")
    for text in ("", "CET", "C-1", "CET-1CEST,M13.1.0,M10.5.0", "CET-1CEST,M3.5.0", "<+03"):
        raises(ValueError, lambda t: fw_tz.TzRule(fw_tzdb.rule_for(t)), text)


@case
def civil_time():
    for days in range(-40000, 80000, 997):
        y, m, d = fw_time.civil_from_days(days)
        eq(fw_time.days_from_civil(y, m, d), days, "round trip")
    eq(fw_time.iso(fw_time.to_epoch(2026, 11, 27, 14, 3, 12)), "2026-11-27T14:03:12Z", "iso")
    eq(fw_time.rtc_to_epoch(fw_time.epoch_to_rtc(1796547449)), 1796547449, "rtc")
    raises(ValueError, fw_time.parse_hhmm, "24:30")


# ---- the store ---------------------------------------------------------------------------


def _scratch(name):
    path = os.getenv("PD_TMP") + "/" + name
    try:
        os.mkdir(path)
    except OSError:
        pass
    return path


@case
def store_round_trip_and_newest_wins():
    root = _scratch("store1")
    s = fw_store.Store(root)
    eq(s.load(), {}, "empty flash")
    s.save({"a": 1, "binding": {"ssid": "PoolNet"}})
    s.save({"a": 2})
    eq(fw_store.Store(root).load(), {"a": 2}, "reloaded")
    assert "config.json.new" not in os.listdir(root)


@case
def store_survives_a_cut_save_and_ignores_corrupt_files():
    root = _scratch("store2")
    s = fw_store.Store(root)
    s.save({"v": 1})
    # a save cut after its new file was complete: the new file wins and is promoted
    with open(root + "/config.json.new", "wb") as f:
        f.write(fw_store.encode(2, {"v": 2}))
    t = fw_store.Store(root)
    eq(t.load(), {"v": 2}, "completed new file")
    assert "config.json.new" not in os.listdir(root)
    # a torn new file loses to the good one
    with open(root + "/config.json.new", "wb") as f:
        f.write(fw_store.encode(3, {"v": 3})[:-2])
    eq(fw_store.Store(root).load(), {"v": 2}, "torn file ignored")
    eq(fw_store.decode(b"PDCFG1 1 00\n{}"), None, "bad checksum")
    eq(fw_store.decode(b"garbage"), None, "garbage")


@case
def factory_json():
    root = _scratch("factory")
    with open(root + "/factory.json", "w") as f:
        f.write('{"claim_code": "KQ4M7XTZ2PB6WRHD"}')
    eq(fw_store.load_json(root, "factory.json"), {"claim_code": "KQ4M7XTZ2PB6WRHD"}, "factory")
    eq(fw_store.load_json(root, "missing.json"), {}, "missing")


# ---- MQTT packets ------------------------------------------------------------------------


class BytesReader:
    """An asyncio-stream-like reader over fixed bytes (readexactly; EOFError at the end)."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    async def readexactly(self, n):
        if self.pos + n > len(self.data):
            raise EOFError
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk


def _drain(data):
    async def go():
        reader = BytesReader(data)
        out = []
        while True:
            try:
                first, body = await fw_mqtt.read_packet(reader)
                out.append(fw_mqtt.parse(first, body))
            except (EOFError, fw_mqtt.ProtocolError):
                return out

    return asyncio.run(go())


@case
def mqtt_encoding():
    eq(
        fw_mqtt.connect_packet("dev-1", "u", "p", 30, ("t/status", b"offline", 1, True)),
        b"\x10\x2a\x00\x04MQTT\x04\xee\x00\x1e\x00\x05dev-1\x00\x08t/status\x00\x07offline"
        b"\x00\x01u\x00\x01p",
        "connect",
    )
    eq(fw_mqtt.connect_packet("c"), b"\x10\x0d\x00\x04MQTT\x04\x02\x00\x1e\x00\x01c", "bare")
    eq(
        fw_mqtt.publish_packet("a/b", b"x", qos=1, retain=True, pid=7),
        b"\x33\x08\x00\x03a/b\x00\x07x",
        "publish",
    )
    eq(fw_mqtt.subscribe_packet(1, [("a/#", 1)]), b"\x82\x08\x00\x01\x00\x03a/#\x01", "subscribe")
    eq(fw_mqtt.puback_packet(258), b"\x40\x02\x01\x02", "puback")
    big = fw_mqtt.publish_packet("t", b"x" * 300)
    eq(big[1:3], b"\xaf\x02", "two-byte remaining length")


@case
def mqtt_parsing():
    eq(
        _drain(fw_mqtt.publish_packet("a/b", b"\x00payload", 1, True, 7)),
        [("publish", "a/b", b"\x00payload", 1, True, 7, False)],
        "publish",
    )
    eq(_drain(fw_mqtt.publish_packet("t", b"x" * 300))[0][2], b"x" * 300, "long")
    eq(_drain(b"\x20\x02\x00\x05"), [("connack", False, 5)], "connack")
    eq(_drain(b"\x90\x03\x00\x01\x80"), [("suback", 1, b"\x80")], "suback")
    eq(_drain(b"\x40\x02\x00\x09\xd0\x00"), [("puback", 9), ("pingresp",)], "puback, pingresp")


@case
def mqtt_malformed_packets_refused():
    for bad in (
        b"\x30\xff\xff\xff\xff\x01",
        b"\x30\xff\xff\xff\x7f",
        b"\x36\x02\x00\x00",
        b"\x32\x05\x00\x01a\x00\x00",
        b"\x30\x04\x00\x09ab",
        b"\x30\x04\x00\x02\xff\xfe",
        b"\x10\x00",
        b"\x42\x02\x00\x01",
    ):
        eq(_drain(bad), [], "refused %r" % bad)


@case
def mqtt_connect_refused_names_the_code():
    e = fw_mqtt.ConnectRefused(5)
    assert e.auth
    assert "code 5" in str(e), str(e)
    assert not fw_mqtt.ConnectRefused(3).auth
    assert isinstance(e, fw_mqtt.MQTTError)


# ---- binding checks ----------------------------------------------------------------------

GOOD = {
    "ssid": "PoolNet",
    "password": "poolpass123",
    "broker_url": "mqtt://127.0.0.1:1883",
    "mqtt_user": "",
    "mqtt_password": "",
    "client_id": "dev-esp-a1b2c3",
    "topic_prefix": "users/john/devices/esp-a1b2c3",
    "username": "john",
    "ca_cert": None,
}


def _with(**changes):
    b = dict(GOOD)
    b.update(changes)
    return b


@case
def binding_validation():
    eq(fw_binding.validate(GOOD), GOOD, "good binding")
    eq(fw_binding.parse_broker_url("mqtts://[::1]:8883"), (True, "::1", 8883), "ipv6")
    eq(fw_binding.parse_broker_url("mqtt://broker.local"), (False, "broker.local", 1883), "port")
    for url in (
        "http://x",
        "mqtt://",
        "mqtt://h:0",
        "mqtt://h:99999",
        "mqtt://h:8O",
        "mqtt://[::1",
    ):
        raises(ValueError, fw_binding.parse_broker_url, url)
    long_url = "mqtt://" + "b" * 240 + ".lan:1883"
    eq(len(long_url), 256, "url length")
    eq(fw_binding.validate(_with(broker_url=long_url))["broker_url"], long_url, "256-char URL")
    e = raises(ValueError, fw_binding.validate, _with(broker_url=long_url + "0"))
    eq(e.field, "broker_url", "field")
    raises(ValueError, fw_binding.validate, _with(topic_prefix="users//x"))
    raises(ValueError, fw_binding.validate, _with(topic_prefix="users/John"))
    raises(ValueError, fw_binding.validate, _with(broker_url="mqtts://h:8883"))
    raises(ValueError, fw_binding.validate, _with(ssid=""))


@case
def provisioning_checks_name_the_field():
    eq(prov_check.check_binding(GOOD)["ssid"], "PoolNet", "good")
    for field, value in (
        ("ssid", ""),
        ("ssid", "x" * 33),
        ("ssid", "é" * 17),
        ("password", "short"),
        ("password", "g" * 64),
        ("broker_url", "http://x"),
        ("topic_prefix", "a/#"),
        ("client_id", ""),
        ("ca_cert", "not a pem"),
    ):
        e = raises(prov_check.CheckError, prov_check.check_binding, _with(**{field: value}))
        eq(e.field, field, "field for %s=%r" % (field, value))
        assert e.message, e.message
        assert str(e) == e.message, e.message
    e = raises(prov_check.CheckError, prov_check.check_int, {"page": -1}, "page", 0, 0, 9)
    eq(e.field, "page", "int field")


@case
def frames_split_and_reassemble():
    message = bytes(range(256)) * 3
    frames = prov_frame.split(message, 7, 23)
    r = prov_frame.Reassembler()
    got = None
    for f in frames:
        got = r.feed(f)
    eq(got, (7, message), "reassembled")
    e = raises(prov_frame.FrameError, r.feed, b"\x05")
    eq((e.code, e.req_id), ("bad_frame", 5), "short frame")
    e = raises(prov_frame.FrameError, r.feed, b"\x09\x00\x00\x03abc")
    eq((e.code, e.req_id), ("bad_frame", 9), "out of order")


main()
