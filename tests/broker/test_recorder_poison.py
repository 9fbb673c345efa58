"""Review finding #1/#8: no device payload can stop the recorder, even across its restart, and
nothing it stores breaks the owner's history (NaN/Infinity, lone surrogates, huge, deep)."""

from __future__ import annotations

import json

from pooldesk_server.recorder.messages import interpret
from pooldesk_server.recorder.recorder import Recorder
from tests.broker.test_recorder import PREFIX, _device, _history
from tests.support.waiting import wait_until

POISON = [
    ("telemetry", b'{"ts": "9999-12-31T23:59:59-01:00", "water_c": 1}'),
    ("pump/state", b'{"ts": "0001-01-01T00:00:00+01:00", "on": true}'),
    ("telemetry", b"[" * 100_000),
    ("telemetry", b'{"water_c": NaN, "air_c": Infinity}'),
    ("telemetry", b'{"note": "\\ud800"}'),
    ("event", b'{"type": "boot", "name": "\xff\xfe"}'),
    ("schedule", b'{"blob": "' + b"x" * 500_000 + b'"}'),
    ("alert/frost", b'{"ts": "9999-12-31T23:59:59-01:00"}'),
]


def test_poison_payloads_are_interpreted_as_storable_json():
    for rest, payload in POISON:
        message = interpret(f"{PREFIX}/{rest}", payload)
        assert message is not None
        assert message.ts is None
        text = json.dumps(message.data, ensure_ascii=False, allow_nan=False)
        assert len(text.encode("utf-8")) < 4096  # huge payloads keep only an excerpt
    nan = interpret(f"{PREFIX}/telemetry", b'{"water_c": NaN}')
    assert set(nan.data) == {"raw"}


async def test_poison_messages_neither_stop_the_recorder_nor_break_history(backend):
    auth, device = await _device(backend)
    extension = backend.extension
    try:
        for rest, payload in POISON:
            assert await device.publish(f"{PREFIX}/{rest}", payload) == 0
        good = json.dumps({"water_c": 25.0, "seq": "after-poison"})
        assert await device.publish(f"{PREFIX}/telemetry", good) == 0

        async def good_one_stored() -> bool:
            events = await _history(backend, auth, type="telemetry")
            return any(e["data"].get("seq") == "after-poison" for e in events)

        await wait_until(good_one_stored, within=10)
        events = await _history(backend, auth)  # 200 with every stored row (no NaN in JSON)
        assert len(events) == len(POISON) + 1
        nan_rows = [e for e in events if "NaN" in e["data"].get("raw", "")]
        assert len(nan_rows) == 1
        export = await backend.http.get("/api/account/export", headers=auth)
        assert export.status_code == 200, export.text[:300]

        # The recorder restarts on its persistent session: nothing poisoned comes back to kill it.
        first = extension.recorder
        await first.stop()
        assert (
            await device.publish(f"{PREFIX}/telemetry", b'{"ts": "9999-12-31T23:59:59-01:00"}') == 0
        )
        assert await device.publish(f"{PREFIX}/telemetry", b"[" * 100_000) == 0
        assert await device.publish(f"{PREFIX}/telemetry", json.dumps({"seq": "restarted"})) == 0
        second = Recorder(extension.state.ctx.db, "127.0.0.1", backend.broker.port, first.login)
        await second.start()
        extension.state.recorder = second  # stopped by the extension at the end

        async def recorded_after_restart() -> bool:
            events = await _history(backend, auth, type="telemetry")
            return any(e["data"].get("seq") == "restarted" for e in events)

        await wait_until(recorded_after_restart, within=10)
        assert second._client.is_connected()
        assert len(await _history(backend, auth)) == len(POISON) + 4
    finally:
        device.close()


def test_what_is_stored_is_the_json_the_history_api_can_send():
    """The stored text is made once, while the payload is checked; the checks' shortcuts (few
    brackets, no `\\ud` escape) must not let anything through that the full checks refuse."""
    from pooldesk_server.recorder.messages import MAX_DEPTH, stored_text

    def stored(payload: bytes) -> str:
        return stored_text(interpret(f"{PREFIX}/telemetry", payload))

    nul = stored(b'{"note": "a\\u0000b", "c": "\xc3\xa9"}')
    assert nul == '{"note":"a\\u0000b","c":"\\u00e9"}'  # ASCII: PostgreSQL text cannot hold NUL
    assert json.loads(stored('{"e": "\U0001f600"}'.encode())) == {"e": "\U0001f600"}
    assert set(json.loads(stored(b'{"t": 1e999}'))) == {"raw"}  # parses as infinity
    assert set(json.loads(stored(b'{"s": "\\uDC00"}'))) == {"raw"}  # upper-case lone surrogate
    deep_ok = b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1)
    assert json.loads(stored(deep_ok)) == json.loads(deep_ok)
    too_deep = b"[" * MAX_DEPTH + b"1" + b"]" * MAX_DEPTH
    assert set(json.loads(stored(too_deep))) == {"raw"}
    in_strings = b'{"a": "' + b"[" * 100 + b'"}'  # brackets inside strings are not nesting
    assert json.loads(stored(in_strings)) == {"a": "[" * 100}
