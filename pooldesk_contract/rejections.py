"""Why a controller refused a command: the `code` of its `event` `command_rejected`
(docs/mqtt.md "P/event"), with `field` naming the command's field at fault when the code is
`invalid`.

The event keeps its English `reason` for people reading logs and for apps older than the code; a
program acts on `code` and never reads `reason`. A code never changes with the wording; a new
refusal gets a new code. The firmware keeps these as literals of its own (it cannot import this
package); `tests/firmware/test_contract_literals.py` proves they match.
"""

from __future__ import annotations

from enum import StrEnum


class Rejection(StrEnum):
    FREEZE_ACTIVE = "freeze_active"  # freeze protection runs the pump: it may not be turned off
    RETAINED = "retained"  # the broker kept the command (retain flag): stale, never applied
    EXPIRED = "expired"  # it arrived after its `expires`, by the device's clock
    INVALID = "invalid"  # it fails a check; `field` says which field when one is at fault


class Field(StrEnum):
    """The field of a `pump/set` or `schedule/set` an `invalid` refusal names (none when the
    payload as a whole is unreadable: too large, not JSON, not an object)."""

    CMD_ID = "cmd_id"
    MODE = "mode"
    ON = "on"
    DURATION_S = "duration_s"
    EXPIRES = "expires"
    TZ = "tz"
    WINDOWS = "windows"  # the list itself, its length, or an entry that is not an object
    START = "start"  # a window's start (not HH:MM, or 24:00)
    END = "end"  # a window's end (not HH:MM, or equal to its start)
    DAYS = "days"  # a window's days
