# The controller: owns the relay, LED, button, sensor, configuration and the link, and is
# the `host` that provisioning (prov*.py) talks to. All state lives in this object, so
# several controllers can run in one process (the simulator).

import asyncio
import json
import time

import machine
import ntptime

import fw_binding
import fw_board
import fw_commands
import fw_expiry
import fw_freeze
import fw_ids
import fw_link
import fw_log
import fw_ota
import fw_pump
import fw_schedule
import fw_sensor
import fw_store
import fw_time
import fw_transfer

ALERT_IDS = ("freeze", "sensor-water", "clock")
RETAINED = ("retained", None, "retained command ignored")  # (code, field, reason)
_RESET_CAUSES = (("PWRON_RESET", "power_on"), ("HARD_RESET", "hard_reset"),
                 ("WDT_RESET", "watchdog"), ("DEEPSLEEP_RESET", "deep_sleep"),
                 ("SOFT_RESET", "soft_reset"))


def _copy(value):
    """A deep copy of JSON data (the configuration holds nothing else)."""
    return json.loads(json.dumps(value))


def _reset_reason():
    try:
        cause = machine.reset_cause()
    except Exception:
        return "unknown"
    for name, text in _RESET_CAUSES:
        if getattr(machine, name, None) == cause:
            return text
    return "unknown"


class Controller:
    def __init__(self, root="/", ble=True, tick_s=1.0, sensor_period_s=None, conversion_s=0.75,
                 wifi_timeout_s=20):
        self.root = root
        self.ble = ble
        self.tick_s = tick_s
        self.sensor_period_s = sensor_period_s or fw_board.SENSOR_PERIOD_S
        self.fw_version = fw_ids.FW_VERSION
        self.device_id = fw_ids.device_id(machine.unique_id())
        self.claim_code = fw_store.load_json(root, "factory.json").get("claim_code")
        self.store = fw_store.Store(root)
        self.config = self.store.load()
        # New settings for a device whose stored binding has joined the Wi-Fi since boot: tried
        # first and stored only once they have joined it too (wifi_result), so a mistyped
        # password cannot replace a working one.
        self.trial = None
        self._proven = None  # the stored binding, once it has joined the Wi-Fi
        self.provisioning = None

        # outputs first, in the safe state, before anything else can fail
        self.relay = machine.Pin(fw_board.RELAY_PIN, machine.Pin.OUT, value=0)
        self.led = machine.Pin(fw_board.LED_PIN, machine.Pin.OUT, value=0)
        self.button = machine.Pin(fw_board.BUTTON_PIN, machine.Pin.IN, machine.Pin.PULL_UP)
        self.on = False

        self.pump = fw_pump.Pump(self.config.get("pump"))
        self.schedule = self._load_schedule()
        self.freeze = self._load_freeze()
        self.sensor = fw_sensor.WaterSensor(fw_board.ONEWIRE_PIN, conversion_s)
        self.link = fw_link.Link(self, wifi_timeout_s)

        self.boot_reason = _reset_reason()
        self.boot_ticks = time.ticks_ms()
        self.time_ok = False
        self._synced_ticks = None
        self.mode = self.pump.mode
        self.waiting_for_time = False
        self.alerts = {}
        self.schedule_cmd_id = None
        self.identify_until = None
        self.net_status = ("idle", {})
        self.client = None
        self.topic_prefix = None  # of the binding the MQTT connection was made with
        self._outbox = []
        self._outbox_ev = asyncio.Event()
        self._reported = None
        self._boot_event_sent = False
        self._sent_water = None
        self.ota = fw_ota.Updater(self)
        self.mover = fw_transfer.Mover(self)  # hand-over to a new owner (docs/sharing.md)

    # ---- configuration ----

    def _load_schedule(self):
        try:
            return fw_schedule.Schedule(self.config.get("schedule") or fw_schedule.DEFAULT)
        except ValueError:
            return fw_schedule.Schedule(fw_schedule.DEFAULT)

    def _load_freeze(self):
        try:
            return fw_freeze.FreezeGuard(self.config.get("freeze") or {}, time.ticks_ms())
        except ValueError:
            return fw_freeze.FreezeGuard({}, time.ticks_ms())

    def _sections(self):
        """The settings the pump, schedule and freeze guard hold now, as they are stored."""
        return {"pump": self.pump.saved(), "schedule": self.schedule.spec,
                "freeze": self.freeze.s}

    def _save(self):
        self.config.update(self._sections())
        self.store.save(self.config)

    def stored_binding(self):
        b = self.config.get("binding")
        return b if isinstance(b, dict) else None

    def binding(self):
        """The binding the link should use: a hand-over's, one on trial, else the stored one."""
        moving = self.mover.binding()
        if moving is not None:
            return moving
        return self.trial if self.trial is not None else self.stored_binding()

    @property
    def bound(self):
        return self.binding() is not None

    def prefix(self):
        b = self.binding()
        return b["topic_prefix"] if b else None

    # ---- the provisioning host interface ----

    async def wifi_scan(self):
        return await self.link.wifi.scan()

    async def apply_binding(self, b):
        """Validate, then (re)connect with it. ValueError names the bad field. A first binding
        is stored at once (atomically); one that replaces a stored binding is tried first and
        stored once it has connected to the Wi-Fi (wifi_result)."""
        self._use(fw_binding.validate(b))

    async def apply_wifi(self, ssid, password):
        b = self.binding()
        if b is None:
            raise ValueError("the device is not bound: send a full binding")
        new = dict(b)
        new["ssid"], new["password"] = ssid, password
        self._use(fw_binding.validate(new))

    def _use(self, b):
        self.mover.trying = None  # settings given over Bluetooth win over a hand-over
        stored = self.stored_binding()
        if stored is not None and stored is self._proven and stored != b:
            self.trial = b
        else:
            self.config["binding"] = b
            self.trial = None
            self._save()
        self.link.restart()

    def wifi_result(self, b, reason):
        """The link tried binding `b`; reason None = it joined the Wi-Fi. A binding on trial is
        stored then. One that failed is dropped: after the usual back-off the link goes back to
        the stored binding (a corrected one sent meanwhile is tried at once instead)."""
        if b is self.trial:
            self.trial = None
            if reason is None:
                self.config["binding"] = b
                self._save()
                self._proven = b
            else:
                fw_log.log("new settings failed (%s): the stored ones stay" % reason)
        elif reason is None and b is self.stored_binding():
            self._proven = b
        elif reason is not None:
            self.mover.result(b, reason)

    def mqtt_result(self, b, reason):
        """The link's MQTT connection with binding `b`: reason None = accepted, else why not
        (`broker_auth`, `broker_unreachable`). Only a hand-over's binding cares."""
        self.mover.result(b, reason)

    def settings_snapshot(self):
        """An undo point for restore_settings: the stored configuration as it is now."""
        return {"stored": _copy(self.config), "sections": _copy(self._sections())}

    async def restore_settings(self, snapshot):
        """Put the binding (Wi-Fi, broker, login) back as it was at `snapshot`, in one atomic
        write, then reconnect with it (or go idle when there was none). A pump, schedule or
        freeze setting changed since (by a command) is kept; the rest is stored exactly as it
        was, so a controller that was new is new again."""
        config = _copy(snapshot["stored"])
        now = _copy(self._sections())
        for key in now:
            if now[key] != snapshot["sections"].get(key):
                config[key] = now[key]
        self.trial = None
        self.store.save(config)
        self.config = config
        self.link.restart()

    def identify(self, seconds):
        seconds = max(1, min(int(seconds), 300))
        self.identify_until = time.ticks_add(time.ticks_ms(), seconds * 1000)

    def on_status(self, state, detail):
        self.net_status = (state, detail)
        fw_log.log("status:", state, detail)
        prov = self.provisioning
        if prov is not None:
            try:
                r = prov.publish_status(state, detail)
                if r is not None and hasattr(r, "send"):
                    asyncio.create_task(r)
            except Exception as e:
                fw_log.log("provisioning status failed:", repr(e))

    # ---- time ----

    def now(self):
        """UTC seconds, or None while the clock has not been set from the network."""
        if not self.time_ok:
            return None
        return fw_time.rtc_to_epoch(machine.RTC().datetime())

    def sync_time(self):
        try:
            ntptime.settime()
        except Exception as e:
            fw_log.log("ntp failed:", repr(e))
            return False
        if machine.RTC().datetime()[0] < 2024:
            return False
        self.time_ok = True
        self._synced_ticks = time.ticks_ms()
        return True

    async def _time_loop(self):
        while True:
            await asyncio.sleep(fw_board.NTP_RETRY_S)
            if not self.link.wifi.connected():
                continue
            stale = self._synced_ticks is None or time.ticks_diff(
                time.ticks_ms(), self._synced_ticks) > fw_board.NTP_RESYNC_S * 1000
            if stale:
                self.sync_time()

    # ---- the pump ----

    def evaluate(self):
        """Decide the relay from mode, schedule, timer and freeze; publish what changed."""
        now, ticks = self.now(), time.ticks_ms()
        demand = self.freeze.evaluate(ticks)
        on, mode, waiting, must_save = self.pump.evaluate(now, ticks, self.schedule, demand)
        if must_save:
            self._save()
        self.on, self.mode, self.waiting_for_time = on, mode, waiting
        self.relay.value(1 if on else 0)
        self._update_alerts(now, ticks)
        report = (on, mode, self.pump.until if mode == "timer" else None, self.pump.cmd_id, waiting)
        if report != self._reported:
            self._reported = report
            self._enqueue("pump/state", self.state(), True)

    def state(self):
        until = self.pump.until if self.mode == "timer" else None
        body = {"on": self.on, "mode": self.mode, "until": fw_time.iso(until),
                "cmd_id": self.pump.cmd_id, "ts": fw_time.iso(self.now())}
        if self.waiting_for_time:
            body["waiting"] = "time"
        return body

    def _update_alerts(self, now, ticks):
        want = {}
        if self.freeze.s["enabled"] and self.freeze.stale(ticks):
            want["sensor-water"] = ("warning", "water temperature sensor not responding: "
                                    "freeze protection cannot run")
        if self.freeze.active:
            water = round(self.freeze.temp_c, 1)  # also as a number: the app words it
            want["freeze"] = ("info", "freeze protection running (water %.1f C)" % water,
                              water)
        if self.waiting_for_time:
            want["clock"] = ("warning", "no network time yet: the schedule is waiting")
        for aid in ALERT_IDS:
            if aid in want and aid not in self.alerts:
                sev, msg = want[aid][0], want[aid][1]
                self.alerts[aid] = {"id": aid, "severity": sev, "message": msg,
                                    "since": fw_time.iso(now), "ts": fw_time.iso(now)}
                if len(want[aid]) > 2:
                    self.alerts[aid]["water_c"] = want[aid][2]
                self._enqueue("alert/" + aid, self.alerts[aid], True)
            elif aid not in want and aid in self.alerts:
                del self.alerts[aid]
                self._enqueue("alert/" + aid, b"", True)

    def _reject(self, cmd_id, code, field, reason):
        """Refuse a command: `code` for programs, `field` with `invalid`, `reason` in English
        for people and for apps older than the code (docs/mqtt.md `command_rejected`)."""
        fw_log.log("command rejected:", cmd_id, reason)
        body = {"type": "command_rejected", "cmd_id": cmd_id, "code": code, "reason": reason,
                "ts": fw_time.iso(self.now())}
        if field is not None:
            body["field"] = field
        self._enqueue("event", body, False)

    def command_pump(self, payload):
        try:
            cmd = fw_commands.parse_pump(payload)
        except fw_commands.CommandError as e:
            self._reject(e.cmd_id, "invalid", e.field, e.reason)
            return
        if self.pump.seen(cmd["cmd_id"]):
            return  # a redelivery: applied once already
        try:
            self.pump.apply(cmd, self.now(), time.ticks_ms(), self.freeze.active)
        except fw_pump.Rejected as e:
            self.pump.note(cmd["cmd_id"])
            self._reject(cmd["cmd_id"], e.args[0], None, e.args[1])
            return
        self._save()
        self._reported = None  # echo the cmd_id even if nothing changed
        self.evaluate()

    def command_schedule(self, payload):
        try:
            cmd = fw_commands.parse_schedule(payload)
        except fw_commands.CommandError as e:
            self._reject(e.cmd_id, "invalid", e.field, e.reason)
            return
        if self.pump.seen(cmd["cmd_id"]):
            return
        self.schedule = fw_schedule.Schedule(cmd["schedule"])
        self.pump.note(cmd["cmd_id"])
        self.schedule_cmd_id = cmd["cmd_id"]
        self._save()
        self._enqueue("schedule", self.schedule_body(), True)
        self.evaluate()

    def schedule_body(self):
        body = {"tz": self.schedule.spec["tz"], "windows": self.schedule.spec["windows"],
                "cmd_id": self.schedule_cmd_id, "ts": fw_time.iso(self.now())}
        return body

    # ---- MQTT ----

    def _enqueue(self, sub, body, retain):
        if self.client is None or self.topic_prefix is None:
            return
        if sub == "telemetry":
            self._sent_water = body["water_c"]
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self._outbox.append((self.topic_prefix + "/" + sub, payload, retain))
        self._outbox_ev.set()

    async def _sender_loop(self):
        while True:
            if not self._outbox or self.client is None:
                self._outbox_ev.clear()
                await self._outbox_ev.wait()
            while self._outbox and self.client is not None:
                topic, payload, retain = self._outbox[0]
                try:
                    await self.client.publish(topic, payload, retain=retain)
                except Exception as e:
                    fw_log.log("publish failed:", repr(e))
                    await asyncio.sleep(0.1)
                    break
                if self._outbox:
                    self._outbox.pop(0)

    async def on_online(self, client, topic_prefix):
        """Connected with the binding whose prefix is `topic_prefix`. The connection keeps
        using it even if provisioning changes the stored binding meanwhile (restart follows)."""
        p = topic_prefix
        self.topic_prefix = p
        self._outbox = []
        self.evaluate()  # time may have just arrived: publish the state as of now
        # The client is in place before subscribing: a retained command the broker replays at
        # once can then be answered (command_rejected). `online` goes out only after the
        # subscription, so a command sent on seeing it is not missed.
        self.client = client
        await client.subscribe([p + "/pump/set", p + "/schedule/set"] + self.ota.topics(p)
                               + self.mover.topics(p))
        self._enqueue("status", b"online", True)
        if not self._boot_event_sent:
            self._boot_event_sent = True
            self._enqueue("event", {"type": "boot", "reason": self.boot_reason,
                                    "fw": self.fw_version, "ts": fw_time.iso(self.now())}, False)
        self._enqueue("pump/state", self.state(), True)
        self._enqueue("schedule", self.schedule_body(), True)
        for aid in ALERT_IDS:
            self._enqueue("alert/" + aid, self.alerts.get(aid, b""), True)
        self._enqueue("telemetry", self.telemetry(), False)
        self.ota.on_online()
        self.mover.on_online(p)

    def on_offline(self):
        self.client = None
        self.topic_prefix = None
        self._outbox = []

    async def on_message(self, topic, payload, retained=False):
        p = self.topic_prefix
        if p is not None and self.ota.owns(topic, p):
            self.ota.on_message(topic, payload, p)
            return
        if p is not None and self.mover.owns(topic, p):
            self.mover.on_message(payload)  # retained on purpose: a hand-over waits for us
            return
        if p is None or topic not in (p + "/pump/set", p + "/schedule/set"):
            return
        if retained:
            # Commands are never retained (docs/mqtt.md): one the broker kept is stale, and
            # applying it would replay an old order on every reconnect.
            cmd_id = fw_commands.cmd_id_of(payload)
            if cmd_id is None:
                fw_log.log("command rejected: retained command without cmd_id ignored on", topic)
            else:
                self._reject(cmd_id, *RETAINED)
            return
        late = fw_expiry.refusal(payload, self.now())
        if late is not None:  # past its deadline: the dashboard already told the user it failed
            cmd_id = fw_commands.cmd_id_of(payload)
            if cmd_id is not None:
                self._reject(cmd_id, *late)
            return
        if topic == p + "/pump/set":
            self.command_pump(payload)
        elif topic == p + "/schedule/set":
            self.command_schedule(payload)

    def telemetry(self):
        return {"water_c": self.freeze.temp_c if not self.freeze.stale(time.ticks_ms()) else None,
                "rssi": self.link.wifi.rssi(),
                "uptime_s": time.ticks_diff(time.ticks_ms(), self.boot_ticks) // 1000,
                "ts": fw_time.iso(self.now())}

    async def _telemetry_loop(self):
        while True:
            await asyncio.sleep(fw_board.TELEMETRY_PERIOD_S)
            self._enqueue("telemetry", self.telemetry(), False)

    # ---- loops ----

    async def _control_loop(self, wdt):
        while True:
            self.evaluate()
            if wdt is not None:
                wdt.feed()
            await asyncio.sleep(self.tick_s)

    async def _sensor_loop(self):
        while True:
            self.freeze.reading(await self.sensor.read(), time.ticks_ms())
            water = self.telemetry()["water_c"]
            last = self._sent_water
            if (water is None) != (last is None) or (
                    water is not None and abs(water - last) >= 0.5):
                self._enqueue("telemetry", self.telemetry(), False)  # a significant change
            await asyncio.sleep(self.sensor_period_s)

    async def _button_loop(self):
        pressed_at = None
        while True:
            await asyncio.sleep(0.05)
            now = time.ticks_ms()
            if self.button.value() == 0:
                if pressed_at is None:
                    pressed_at = now
                elif time.ticks_diff(now, pressed_at) >= fw_board.LONG_PRESS_MS:
                    self.factory_reset()
            else:
                if pressed_at is not None and time.ticks_diff(
                        now, pressed_at) >= fw_board.SHORT_PRESS_MS:
                    self.wake_bluetooth()
                pressed_at = None

    def wake_bluetooth(self):
        """A short press: Bluetooth back on (it is off on a bound, online unit) so an
        installer can change the Wi-Fi."""
        fw_log.log("button: bluetooth on")
        if self.provisioning is not None:
            self.provisioning.wake()

    def factory_reset(self):
        """Erase binding, credentials and settings in one atomic write; keep the claim code."""
        fw_log.log("factory reset")
        self.led.value(1)
        self.relay.value(0)
        self.config = {}
        self.trial = None
        self.store.save({})
        machine.reset()

    def _led_pattern(self):
        """-> (on_ms, off_ms); off_ms 0 = steady."""
        ticks = time.ticks_ms()
        if self.identify_until is not None:
            if time.ticks_diff(self.identify_until, ticks) > 0:
                return 100, 100
            self.identify_until = None
        state = self.net_status[0]
        if not self.bound:
            return 1000, 1000
        if state == "mqtt_connected":
            return 1, 0
        if state == "failed":
            return 100, 900
        return 250, 250

    async def _led_loop(self):
        while True:
            on_ms, off_ms = self._led_pattern()
            if off_ms == 0:
                self.led.value(1)
            else:
                self.led.value(1 if time.ticks_ms() % (on_ms + off_ms) < on_ms else 0)
            await asyncio.sleep(0.05)

    def _start_provisioning(self):
        if not self.ble:
            return None
        try:
            import prov
        except ImportError as e:
            fw_log.log("provisioning not available:", repr(e))
            return None
        self.provisioning = prov.Provisioning(self)
        return self.provisioning.run()

    async def main(self, wdt_timeout_ms=fw_board.WDT_TIMEOUT_MS):
        """Run every loop until one fails or the task is cancelled; then stop them all."""
        self.relay.value(0)
        wdt = machine.WDT(timeout=wdt_timeout_ms) if wdt_timeout_ms else None
        coros = [self._control_loop(wdt), self._sensor_loop(), self._button_loop(),
                 self._led_loop(), self._time_loop(), self._telemetry_loop(),
                 self._sender_loop(), self.link.run(), self.ota.run()]
        prov = self._start_provisioning()
        if prov is not None:
            coros.append(prov)
        tasks = [asyncio.create_task(c) for c in coros]
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
