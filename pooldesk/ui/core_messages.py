"""Fixed messages of the Qt-free core and of the server, listed for the translation tools.

The core and the server word their messages in English; the UI shows them through
`format.core_message()` (context `core`), which finds them here. Messages that carry values
(addresses, counts) reach the screen in English.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP

CORE_MESSAGES = (
    # pooldesk.core.validation
    QT_TRANSLATE_NOOP("core", "Enter a username."),
    QT_TRANSLATE_NOOP("core", "3 to 32 characters: lower-case letters, digits, '-' or '_'."),
    QT_TRANSLATE_NOOP("core", "Enter an email address."),
    QT_TRANSLATE_NOOP("core", "Enter an email address like name@example.com."),
    QT_TRANSLATE_NOOP("core", "At least 12 characters"),
    QT_TRANSLATE_NOOP("core", "An upper-case letter"),
    QT_TRANSLATE_NOOP("core", "A lower-case letter"),
    QT_TRANSLATE_NOOP("core", "A digit"),
    QT_TRANSLATE_NOOP("core", "A symbol such as ! or #"),
    QT_TRANSLATE_NOOP("core", "Enter the device id from the controller's label."),
    QT_TRANSLATE_NOOP("core", "The device id looks like ESP-A1B2C3 (ESP- and six hex digits)."),
    QT_TRANSLATE_NOOP("core", "Enter a name."),
    # pooldesk.core.session, token_store, commands, mqtt_link, settings
    QT_TRANSLATE_NOOP(
        "core", "No system keyring is available, so you will need to sign in again next time."
    ),
    QT_TRANSLATE_NOOP("core", "You are signed out. Sign in again."),
    QT_TRANSLATE_NOOP("core", "Your session has ended."),
    QT_TRANSLATE_NOOP("core", "The controller did not respond."),
    QT_TRANSLATE_NOOP("core", "Not connected to the broker; the command was not sent."),
    QT_TRANSLATE_NOOP("core", "A timer runs between 1 second and 24 hours."),
    QT_TRANSLATE_NOOP("core", "Connecting to the broker…"),
    QT_TRANSLATE_NOOP("core", "The broker did not answer the connection request."),
    QT_TRANSLATE_NOOP("core", "Check the address and that the server is running."),
    QT_TRANSLATE_NOOP("core", "The port must be a number between 1 and 65535."),
    # the server's own messages (backend/accounts, backend/http)
    QT_TRANSLATE_NOOP("core", "Invalid username or password"),
    QT_TRANSLATE_NOOP("core", "Username already taken"),
    QT_TRANSLATE_NOOP("core", "Email already registered"),
    QT_TRANSLATE_NOOP("core", "Current password is incorrect"),
    QT_TRANSLATE_NOOP("core", "New password must differ from the current one"),
    QT_TRANSLATE_NOOP("core", "This session has ended; sign in again"),
    QT_TRANSLATE_NOOP("core", "Invalid or expired token; sign in again"),
    QT_TRANSLATE_NOOP("core", "Password changed; your other sessions have been signed out"),
    QT_TRANSLATE_NOOP("core", "Logged out successfully"),
    QT_TRANSLATE_NOOP("core", "Account deleted"),
    QT_TRANSLATE_NOOP("core", "Session ended"),
)
