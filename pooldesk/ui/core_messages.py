"""Words that reach the app from elsewhere, in English, listed for the translation tools: the
server's messages and the controller's alerts and reasons. The app's own failures are codes,
worded in `failure_texts.TEXTS`; nothing of the app's is listed here.

The UI shows these through `format.core_message()` (context `core`). Fixed messages are
translated as they are.
Messages that carry values (addresses, counts, a reason) are listed as templates with Qt's
placeholders `%1`, `%2`…: the English text is matched against the template, the template is
translated, and the values are put back in (a value marked as a message is translated too).
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
    # the server's own messages (pooldesk_server/accounts, pooldesk_server/http)
    QT_TRANSLATE_NOOP("core", "Username already taken"),
    QT_TRANSLATE_NOOP("core", "Email already registered"),
    QT_TRANSLATE_NOOP("core", "Current password is incorrect"),
    QT_TRANSLATE_NOOP("core", "New password must differ from the current one"),
    QT_TRANSLATE_NOOP("core", "Password changed; your other sessions have been signed out"),
    QT_TRANSLATE_NOOP("core", "Logged out successfully"),
    QT_TRANSLATE_NOOP("core", "Account deleted"),
    QT_TRANSLATE_NOOP("core", "Session ended"),
    QT_TRANSLATE_NOOP(
        "core",
        "Password is too common or too close to your username; choose one that is not a "
        "well-known password",
    ),
    QT_TRANSLATE_NOOP("core", "Too many failed attempts."),
    QT_TRANSLATE_NOOP("core", "Too many requests."),
    # the server's sharing answers (docs/sharing.md)
    QT_TRANSLATE_NOOP(
        "core", "That set-up code is wrong or has expired; ask the owner for a new one"
    ),
    QT_TRANSLATE_NOOP("core", "Access ended"),
    # the controller's own words (pooldesk_firmware/device): alerts and reasons for refusing a
    # command
    QT_TRANSLATE_NOOP(
        "core", "water temperature sensor not responding: freeze protection cannot run"
    ),
    QT_TRANSLATE_NOOP("core", "no network time yet: the schedule is waiting"),
    QT_TRANSLATE_NOOP("core", "freeze protection active"),
    QT_TRANSLATE_NOOP("core", "retained command ignored"),
    QT_TRANSLATE_NOOP("core", "command expired"),
    QT_TRANSLATE_NOOP("core", "no reason given"),
    QT_TRANSLATE_NOOP("core", "window start and end must differ and start before 24:00"),
    QT_TRANSLATE_NOOP("core", "days must be a non-empty list of mon..sun"),
    QT_TRANSLATE_NOOP("core", "tz must be a time zone name"),
)

VALUE = "value"  # shown as it is (an address, a number, the controller's own words)
MESSAGE = "message"  # itself a core or server message: translated in turn
_ANY = "(.+?)"
_VALUE = r"((?:(?!\. ).)+?)"


@dataclass(frozen=True)
class ValuedMessage:
    template: str  # English, with %1, %2… where the values go
    kinds: tuple[str, ...]  # VALUE / MESSAGE for %1, %2…

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """The template as a regular expression. A plain value never spans a sentence break,
        so two messages joined by a space are not taken for one with a long value."""
        parts = re.split(r"%(\d)", self.template)
        pattern = re.escape(parts[0])
        for number, text in zip(parts[1::2], parts[2::2], strict=True):
            kind = self.kinds[int(number) - 1]
            pattern += (_ANY if kind == MESSAGE else _VALUE) + re.escape(text)
        return re.compile(pattern, re.DOTALL)


def _valued(template: str, *kinds: str) -> ValuedMessage:
    return ValuedMessage(template, kinds or (VALUE,) * template.count("%"))


VALUED_MESSAGES = (
    # pooldesk_server/devices
    _valued(QT_TRANSLATE_NOOP("core", "Device %1 is already registered to another account")),
    _valued(QT_TRANSLATE_NOOP("core", "Device %1 is already on your account")),
    _valued(QT_TRANSLATE_NOOP("core", "Claim code does not match device %1")),
    # pooldesk_server/accounts: a deleted account's name stays retired
    _valued(QT_TRANSLATE_NOOP("core", "Username %1 is not available; choose another")),
    _valued(QT_TRANSLATE_NOOP("core", "%1 Try again in %2 s."), MESSAGE, VALUE),
    # the controller's words
    _valued(QT_TRANSLATE_NOOP("core", "freeze protection running (water %1 C)")),
    # pooldesk_server sharing and hand-over (docs/sharing.md)
    _valued(QT_TRANSLATE_NOOP("core", "Only the owner of %1 can do this")),
    _valued(QT_TRANSLATE_NOOP("core", "No account named %1")),
    _valued(QT_TRANSLATE_NOOP("core", "%1 already has access to %2")),
    _valued(QT_TRANSLATE_NOOP("core", "Device %1 not found")),
)
