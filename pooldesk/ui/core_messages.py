"""Words that reach the app in English and have no code yet, listed for the translation tools:
only the controller's own. The server's refusals are codes (`pooldesk/core/server_refusals.py`,
by the error body's `reason`), and an answer without a reason (an older server) is shown as the
server wrote it; the controller's known alerts are codes too (`pooldesk/core/alert_words.py`).

What is left here:
- the reasons a controller gives for refusing a command (`event` `command_rejected`, its
  `reason` is free text in the contract: docs/mqtt.md) and the schedule checks' words
  (pooldesk_firmware/device fw_pump.py, fw_controller.py, fw_schedule.py); `command expired`
  has a code already (`core.commands`);
- the `freeze` alert, whose water temperature exists only inside its English message.

The UI shows these through `format.core_message()` (context `core`). Fixed messages are
translated as they are; a message with values is listed as a template with Qt's placeholders
`%1`, `%2`…: the English text is matched against the template, the template is translated,
and the values are put back in as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import cast

from PySide6 import QtCore

# Qt's marker returns its text unchanged; PySide's stub says it returns object.
QT_TRANSLATE_NOOP = cast(Callable[[str, str], str], QtCore.QT_TRANSLATE_NOOP)


CORE_MESSAGES = (
    # the controller's reasons for refusing a command
    QT_TRANSLATE_NOOP("core", "freeze protection active"),
    QT_TRANSLATE_NOOP("core", "retained command ignored"),
    QT_TRANSLATE_NOOP("core", "window start and end must differ and start before 24:00"),
    QT_TRANSLATE_NOOP("core", "days must be a non-empty list of mon..sun"),
    QT_TRANSLATE_NOOP("core", "tz must be a time zone name"),
)

_VALUE = r"((?:(?!\. ).)+?)"  # a value never spans a sentence break


@dataclass(frozen=True)
class ValuedMessage:
    template: str  # English, with %1, %2… where the values go

    @property
    def count(self) -> int:
        return self.template.count("%")

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """The template as a regular expression, one group per value."""
        parts = re.split(r"%\d", self.template)
        return re.compile(_VALUE.join(re.escape(part) for part in parts), re.DOTALL)


VALUED_MESSAGES = (
    # the controller's `freeze` alert (pooldesk_firmware/device/fw_controller.py)
    ValuedMessage(QT_TRANSLATE_NOOP("core", "freeze protection running (water %1 C)")),
)
