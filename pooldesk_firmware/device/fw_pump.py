# What the pump should do: the mode the owner chose (manual, schedule, timer) plus the
# freeze override. Pure logic: it never touches the relay, the clock or the network.
# now = UTC seconds or None while the device has no trustworthy time.

import time

MODES = ("manual", "schedule", "timer")
RECENT_IDS = 16
MAX_TIMER_S = 86400


FREEZE_ACTIVE = "freeze_active"  # the refusal's code (docs/mqtt.md `command_rejected`)


class Rejected(Exception):
    """A command that is well formed but cannot be applied now: args = (code, reason)."""


class Pump:
    def __init__(self, saved=None):
        s = saved if isinstance(saved, dict) else {}
        mode = s.get("mode")
        self.mode = mode if mode in MODES else "schedule"
        self.manual_on = s.get("on") is True
        until = s.get("until")
        self.until = until if isinstance(until, int) and not isinstance(until, bool) else None
        recent = s.get("recent")
        self.recent = [r for r in recent if isinstance(r, str)][-RECENT_IDS:] \
            if isinstance(recent, list) else []
        self.cmd_id = None  # echoed in state; none applied since boot
        self._end_ticks = None
        if self.mode == "timer" and self.until is None:
            # a timer started without wall-clock time cannot be resumed after a restart
            self.mode = "schedule"

    def saved(self):
        return {"mode": self.mode, "on": self.manual_on, "until": self.until,
                "recent": self.recent}

    def seen(self, cmd_id):
        return cmd_id in self.recent

    def note(self, cmd_id):
        """Remember a handled command id (pump or schedule) so a redelivery is ignored."""
        if cmd_id not in self.recent:
            self.recent.append(cmd_id)
            self.recent = self.recent[-RECENT_IDS:]

    def remember(self, cmd_id):
        """An applied pump command: echo its id in the state from now on."""
        self.cmd_id = cmd_id
        self.note(cmd_id)

    def apply(self, cmd, now, ticks, freeze_active):
        """cmd = {"cmd_id", "mode", "on"?, "duration_s"?} already validated for shape."""
        mode = cmd["mode"]
        if mode == "manual":
            if freeze_active and not cmd["on"]:
                raise Rejected(FREEZE_ACTIVE, "freeze protection active")
            self.mode, self.manual_on = "manual", cmd["on"]
            self.until = self._end_ticks = None
        elif mode == "timer":
            d = cmd["duration_s"]
            self.mode = "timer"
            self.until = now + d if now is not None else None
            self._end_ticks = time.ticks_add(ticks, d * 1000)
        else:
            self.mode = "schedule"
            self.until = self._end_ticks = None
        self.remember(cmd["cmd_id"])

    def evaluate(self, now, ticks, schedule, freeze_demand):
        """-> (on, reported_mode, waiting_for_time, must_save)."""
        must_save = False
        if self.mode == "timer":
            if self.until is None and now is not None and self._end_ticks is not None:
                self.until = now + max(0, time.ticks_diff(self._end_ticks, ticks)) // 1000
                must_save = True
            if self.until is not None and now is not None:
                expired = now >= self.until
            elif self._end_ticks is not None:
                expired = time.ticks_diff(ticks, self._end_ticks) >= 0
            else:
                expired = False
            if expired:
                self.mode = "schedule"
                self.until = self._end_ticks = None
                must_save = True
        waiting = False
        if self.mode == "manual":
            on = self.manual_on
        elif self.mode == "timer":
            # after a restart the end is known only in wall-clock time: off until time is back
            on = now is not None or self._end_ticks is not None
        else:
            waiting = now is None
            on = (not waiting) and schedule.is_on(now)
        if freeze_demand:
            return True, "freeze", waiting, must_save
        return on, self.mode, waiting, must_save
