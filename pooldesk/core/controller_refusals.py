"""A controller's refusal of a command in the app's words: the `code` of its `event`
`command_rejected` (`pooldesk_contract.rejections`, docs/mqtt.md), with the `field` at fault
for `invalid`, becomes a failure code. The controller's English `reason` is never read for it.

An event without a code (older firmware) or with one this app does not know (newer firmware)
keeps the controller's `reason`, shown as it wrote it: untranslated, since the app cannot know
what it means; an event with neither is said in the app's words ("no reason given").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pooldesk.core.failures import Code, Failure, failure
from pooldesk_contract.rejections import Field, Rejection

# The reason given inside "The controller refused: …", by the refusal's code.
BY_CODE: Mapping[Rejection, Code] = {
    Rejection.FREEZE_ACTIVE: Code.FREEZE_KEEPS_PUMP_ON,
    Rejection.RETAINED: Code.RETAINED_COMMAND,
    Rejection.INVALID: Code.UNREADABLE_COMMAND,  # unless its field says more (BY_FIELD)
}

# An `invalid` command whose field the user chose (the schedule editor's zone and windows); any
# other field is one this app fills in itself, so the app and the firmware do not match.
BY_FIELD: Mapping[Field, Code] = {
    Field.TZ: Code.UNKNOWN_TIME_ZONE,
    Field.WINDOWS: Code.INVALID_WINDOWS,
    Field.START: Code.INVALID_WINDOWS,
    Field.END: Code.INVALID_WINDOWS,
    Field.DAYS: Code.INVALID_WINDOWS,
}


def _code(value: Any) -> Rejection | None:
    return Rejection(value) if isinstance(value, str) and value in set(Rejection) else None


def _field(value: Any) -> Field | None:
    return Field(value) if isinstance(value, str) and value in set(Field) else None


def rejection_failure(event: Mapping[str, Any]) -> Failure:
    """What to tell the user about a `command_rejected` event."""
    code = _code(event.get("code"))
    if code is Rejection.EXPIRED:
        return failure(Code.COMMAND_EXPIRED)
    if code is not None:
        field = _field(event.get("field")) if code is Rejection.INVALID else None
        reason = BY_FIELD.get(field, BY_CODE[code]) if field else BY_CODE[code]
        return failure(Code.COMMAND_REFUSED, reason=failure(reason))
    said = event.get("reason")
    if isinstance(said, str) and said:
        return failure(Code.COMMAND_REFUSED, reason=said)
    return failure(Code.COMMAND_REFUSED, reason=failure(Code.NO_REASON_GIVEN))
