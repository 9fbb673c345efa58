"""The device's wrong-claim-code limiter: growing waits, reset on success, no lockout, and
correct across the wrap-around of MicroPython's millisecond ticks."""

from __future__ import annotations

from tests.provisioning.device_side import prov_session

PERIOD = 1 << 30  # MicroPython's ticks period on the ESP32


def ticks_diff(a: int, b: int) -> int:
    """MicroPython's time.ticks_diff."""
    return ((a - b + PERIOD // 2) % PERIOD) - PERIOD // 2


def test_waits_follow_the_documented_table():
    assert [prov_session.backoff_ms(n) for n in range(1, 11)] == [
        0,
        0,
        2000,
        4000,
        8000,
        16000,
        32000,
        60000,
        60000,
        60000,
    ]


def test_wait_counts_down_resets_on_success_and_survives_tick_wraparound():
    now = [PERIOD - 500]
    limiter = prov_session.AttemptLimiter(lambda: now[0], ticks_diff)
    assert limiter.failed() == 0
    assert limiter.failed() == 0
    assert limiter.retry_after_ms() == 0
    assert limiter.failed() == 2000
    now[0] = 1000  # the tick counter wrapped: 1500 ms have passed
    assert limiter.retry_after_ms() == 500
    now[0] = 1500
    assert limiter.retry_after_ms() == 0
    limiter.succeeded()
    assert limiter.failed() == 0  # counting starts again after a success
