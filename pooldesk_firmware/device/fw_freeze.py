# Freeze protection: run the pump while the water is near freezing.
# Hysteresis (on at or below on_below_c, off at or above off_above_c) and a minimum run time.
# Without a recent good reading the guard cannot know, so it demands nothing (the pump follows
# its mode) and reports the sensor as stale: running a pump forever on a dead sensor is not safe.

import time

DEFAULTS = {"enabled": True, "on_below_c": 3.0, "off_above_c": 5.0,
            "min_run_s": 900, "stale_s": 180}


def parse(spec):
    if not isinstance(spec, dict):
        raise ValueError("freeze settings must be an object")
    out = dict(DEFAULTS)
    for k in out:
        if k in spec:
            out[k] = spec[k]
    if not isinstance(out["enabled"], bool):
        raise ValueError("enabled must be true or false")
    for k in ("on_below_c", "off_above_c"):
        if isinstance(out[k], bool) or not isinstance(out[k], (int, float)):
            raise ValueError(k + " must be a number")
    for k in ("min_run_s", "stale_s"):
        if isinstance(out[k], bool) or not isinstance(out[k], int) or out[k] < 0:
            raise ValueError(k + " must be a whole number of seconds")
    if out["off_above_c"] <= out["on_below_c"]:
        raise ValueError("off_above_c must be above on_below_c")
    return out


class FreezeGuard:
    def __init__(self, settings, now_ticks):
        self.s = parse(settings)
        self.active = False
        self._started = 0
        self._last_good = None
        self._boot = now_ticks
        self.temp_c = None

    def reading(self, temp_c, now_ticks):
        """Record a sensor reading; None means the read failed."""
        if temp_c is None:
            return
        self.temp_c = temp_c
        self._last_good = now_ticks

    def stale(self, now_ticks):
        ref = self._last_good if self._last_good is not None else self._boot
        return time.ticks_diff(now_ticks, ref) > self.s["stale_s"] * 1000

    def evaluate(self, now_ticks):
        """-> True while freeze protection demands the pump run."""
        if not self.s["enabled"] or self.stale(now_ticks) or self._last_good is None:
            self.active = False
            return False
        if not self.active and self.temp_c <= self.s["on_below_c"]:
            self.active = True
            self._started = now_ticks
        elif self.active and self.temp_c >= self.s["off_above_c"]:
            if time.ticks_diff(now_ticks, self._started) >= self.s["min_run_s"] * 1000:
                self.active = False
        return self.active
