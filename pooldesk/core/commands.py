"""Commands to a device and their fate: pending until the device echoes the cmd_id.

A pump command is *pending* until a `pump/state` carrying its `cmd_id` arrives (*confirmed*),
the device answers with a `command_rejected` event (*rejected*, worded from its code:
`controller_refusals`), or the
timeout passes (*failed*: "the controller did not respond"); the UI then shows the device's
last confirmed state again. Schedules work the same way with the `schedule` echo.

Every command carries `expires` (docs/mqtt.md): the moment this tracker gives up on it. A device
refuses it after that (code `expired`), so a command reported as failed does not run later.
What the device says about a failed command afterwards still reaches the listeners: a late echo
(a device with no clock yet) as CONFIRMED with `late`, a late refusal as REJECTED with `late`.
"""

from __future__ import annotations

import asyncio
import enum
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pooldesk.core.controller_refusals import rejection_failure
from pooldesk.core.devices import DeviceStore, utcnow
from pooldesk.core.failures import Code, Failure, Message, failure
from pooldesk.core.models import format_time
from pooldesk_contract import topics

DEFAULT_TIMEOUT_S = 8.0
NO_RESPONSE = failure(Code.COMMAND_NO_RESPONSE)
NOT_CONNECTED = failure(Code.COMMAND_NOT_SENT)
APPLIED_LATE = failure(Code.COMMAND_LATE)


def _margin(timeout: float) -> float:
    """How long before giving up the deadline falls. A controller counts whole seconds and NTP
    sets its clock to a whole second, so it can read up to ~2 s behind: a deadline this much
    earlier still stops a command that arrives after the app reported it as failed."""
    return min(2.0, timeout / 2)


class InvalidCommand(ValueError):
    """A command's values are out of range; `failure` says which rule (`str()` in English)."""

    def __init__(self, problem: Failure) -> None:
        super().__init__(str(problem))
        self.failure = problem


class CommandState(enum.Enum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    FAILED = "failed"


@dataclass
class Command:
    cmd_id: str
    device_key: str
    kind: str  # "pump" or "schedule"
    body: dict[str, Any]
    state: CommandState = CommandState.PENDING
    message: Message = ""
    late: bool = False  # settled after it had already failed (no echo in time)
    _timer: asyncio.TimerHandle | None = field(default=None, repr=False)

    @property
    def wants_on(self) -> bool | None:
        """What the pump should be after this command, when the command says."""
        if self.kind != "pump":
            return None
        if self.body.get("mode") == "timer":
            return True
        return self.body.get("on") if "on" in self.body else None


Publish = Callable[[str, bytes], bool]
Listener = Callable[[Command], None]


class CommandTracker:
    def __init__(self, store: DeviceStore, publish: Publish, timeout: float = DEFAULT_TIMEOUT_S):
        self._store = store
        self._publish = publish
        self.timeout = timeout
        self._pending: dict[tuple[str, str], Command] = {}
        self._failed: dict[tuple[str, str], Command] = {}  # the last one that timed out
        self._listeners: list[Listener] = []
        store.subscribe(self._device_changed)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def pending(self, device_key: str, kind: str = "pump") -> Command | None:
        return self._pending.get((device_key, kind))

    # -- sending ------------------------------------------------------------------------------
    def switch_pump(self, device_key: str, on: bool) -> Command:
        return self._send(device_key, "pump", {"on": on, "mode": "manual"})

    def run_for(self, device_key: str, seconds: int) -> Command:
        if not 1 <= seconds <= 86400:
            raise InvalidCommand(failure(Code.TIMER_RANGE))
        return self._send(device_key, "pump", {"mode": "timer", "duration_s": int(seconds)})

    def follow_schedule(self, device_key: str) -> Command:
        return self._send(device_key, "pump", {"mode": "schedule"})

    def set_schedule(self, device_key: str, windows: list[dict[str, Any]], tz: str) -> Command:
        return self._send(device_key, "schedule", {"tz": tz, "windows": windows})

    def _send(self, device_key: str, kind: str, body: dict[str, Any]) -> Command:
        command = Command(uuid.uuid4().hex, device_key, kind, body)
        # A shared device takes its commands under its owner's prefix (docs/sharing.md).
        topic = topics.command_topic(self._store.owner_prefix(device_key), device_key, kind)
        sent = utcnow()
        payload = {
            "cmd_id": command.cmd_id,
            **body,
            "ts": format_time(sent),
            "expires": format_time(sent + timedelta(seconds=self.timeout - _margin(self.timeout))),
        }
        self._failed.pop((device_key, kind), None)  # a new command: the old failure is history
        previous = self._pending.pop((device_key, kind), None)
        if previous and previous._timer:
            previous._timer.cancel()  # superseded: only the newest command is tracked
        if not self._publish(topic, json.dumps(payload).encode()):
            self._finish(command, CommandState.FAILED, NOT_CONNECTED)
            return command
        self._pending[(device_key, kind)] = command
        command._timer = asyncio.get_running_loop().call_later(self.timeout, self._expire, command)
        self._notify(command)
        return command

    # -- outcomes -----------------------------------------------------------------------------
    def _expire(self, command: Command) -> None:
        if self._pending.get((command.device_key, command.kind)) is command:
            del self._pending[(command.device_key, command.kind)]
            self._failed[(command.device_key, command.kind)] = command
            self._finish(command, CommandState.FAILED, NO_RESPONSE)

    def _device_changed(self, key: str, what: str) -> None:
        device = self._store.devices.get(key)
        if device is None:
            return
        if what == "pump" and device.pump and device.pump.cmd_id:
            self._settle(key, "pump", device.pump.cmd_id, CommandState.CONFIRMED, "")
        elif what == "schedule" and device.schedule and device.schedule.get("cmd_id"):
            self._settle(
                key, "schedule", str(device.schedule["cmd_id"]), CommandState.CONFIRMED, ""
            )
        elif what == "event" and device.last_event:
            event = device.last_event
            if event.get("type") == "command_rejected" and event.get("cmd_id"):
                message = rejection_failure(event)
                for kind in ("pump", "schedule"):
                    self._settle(key, kind, str(event["cmd_id"]), CommandState.REJECTED, message)

    def _settle(self, key: str, kind: str, cmd_id: str, state: CommandState, msg: Message) -> None:
        command = self._pending.get((key, kind))
        if command is None or command.cmd_id != cmd_id:
            failed = self._failed.get((key, kind))
            if failed is not None and failed.cmd_id == cmd_id:  # the device answered too late
                del self._failed[(key, kind)]
                failed.late = True
                self._finish(
                    failed, state, APPLIED_LATE if state is CommandState.CONFIRMED else msg
                )
            return
        del self._pending[(key, kind)]
        self._finish(command, state, msg)

    def _finish(self, command: Command, state: CommandState, message: Message) -> None:
        if command._timer:
            command._timer.cancel()
            command._timer = None
        command.state = state
        command.message = message
        self._notify(command)

    def _notify(self, command: Command) -> None:
        for listener in list(self._listeners):
            listener(command)

    def cancel_all(self) -> None:
        for command in self._pending.values():
            if command._timer:
                command._timer.cancel()
        self._pending.clear()
        self._failed.clear()
