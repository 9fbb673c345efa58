"""The one table from a core failure's code to the words on screen (context `failure`).

Texts name their values as `{url}`, `{status}`…; translators keep those names. A value that is
itself a `Failure` is worded in turn (a tuple of them item by item, in a row); a temperature
(`{water}`) in the unit the user chose. Any text value is shown as it is: the controller's own
words (a refusal or an alert without a code this app knows: older or newer firmware), the
server's `message` (`SERVER_SAID`: a refusal without a reason this app knows), addresses, ids,
names and a system's `detail`. The server's refusals with a reason, the server's successes, the
controller's refusal codes and its known alerts have codes of their own here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from PySide6 import QtCore
from PySide6.QtCore import QCoreApplication

from pooldesk.core.failures import Code, Failure, in_brackets, listed

CONTEXT = "failure"
# Qt's marker returns its text unchanged; PySide's stub says it returns object.
QT_TRANSLATE_NOOP = cast(Callable[[str, str], str], QtCore.QT_TRANSLATE_NOOP)

TEXTS: dict[Code, str] = {
    Code.SERVER_UNREACHABLE: QT_TRANSLATE_NOOP(
        "failure",
        "Cannot reach the server at {url}. Check the address and that the server is running.",
    ),
    Code.SERVER_TIMEOUT: QT_TRANSLATE_NOOP(
        "failure", "The server at {url} did not answer in time. Try again."
    ),
    Code.SERVER_UNREADABLE: QT_TRANSLATE_NOOP(
        "failure", "The server answered {status} without a readable message."
    ),
    Code.SERVER_MISMATCH: QT_TRANSLATE_NOOP(
        "failure",
        "The server's answer was not what this app expects ({detail}). Is the server a PoolDesk "
        "backend of a matching version?",
    ),
    Code.SERVER_FAULT: QT_TRANSLATE_NOOP(
        "failure",
        "The server could not do this because of a fault of its own. Try again later; if it "
        "keeps happening, tell the server's administrator.",
    ),
    Code.SERVER_BUSY: QT_TRANSLATE_NOOP("failure", "The server is busy."),
    Code.SERVER_REFUSED: QT_TRANSLATE_NOOP("failure", "The server refused ({status})."),
    Code.SERVER_SAID: "{message}",  # the server's words: nothing of the app's to translate
    Code.WRONG_CREDENTIALS: QT_TRANSLATE_NOOP("failure", "Invalid username or password"),
    Code.SESSION_ENDED: QT_TRANSLATE_NOOP("failure", "Your session has ended. Sign in again."),
    Code.NO_KEYRING: QT_TRANSLATE_NOOP(
        "failure",
        "No system keyring is available, so you will need to sign in again next time.",
    ),
    Code.BROKER_CONNECTING: QT_TRANSLATE_NOOP("failure", "Connecting to the broker…"),
    Code.BROKER_UNREACHABLE: QT_TRANSLATE_NOOP(
        "failure", "Cannot reach the broker at {address} ({reason})."
    ),
    Code.BROKER_NO_CONNACK: QT_TRANSLATE_NOOP(
        "failure", "The broker did not answer the connection request."
    ),
    Code.BROKER_NO_SUBACK: QT_TRANSLATE_NOOP(
        "failure", "The broker did not answer the subscription request."
    ),
    Code.BROKER_LOST: QT_TRANSLATE_NOOP("failure", "Connection lost: {reason}"),
    Code.BROKER_REFUSED_LOGIN: QT_TRANSLATE_NOOP(
        "failure",
        "The broker refused the login. Sign out and in again, or ask the server's administrator "
        "to check the broker.",
    ),
    Code.BROKER_REFUSED: QT_TRANSLATE_NOOP(
        "failure", "The broker refused the connection (reason {reason})."
    ),
    Code.BROKER_NO_CREDENTIALS: QT_TRANSLATE_NOOP(
        "failure", "Could not get broker credentials: {cause}"
    ),
    Code.CERTIFICATE_NOT_TRUSTED: QT_TRANSLATE_NOOP("failure", "certificate not trusted: {detail}"),
    Code.TIMED_OUT: QT_TRANSLATE_NOOP("failure", "timed out"),
    Code.COMMAND_NO_RESPONSE: QT_TRANSLATE_NOOP("failure", "The controller did not respond."),
    Code.COMMAND_NOT_SENT: QT_TRANSLATE_NOOP(
        "failure", "Not connected to the broker; the command was not sent."
    ),
    Code.COMMAND_LATE: QT_TRANSLATE_NOOP("failure", "The controller carried out the command late."),
    Code.COMMAND_EXPIRED: QT_TRANSLATE_NOOP(
        "failure",
        "The command reached the controller too late and was not carried out; nothing changed.",
    ),
    Code.COMMAND_REFUSED: QT_TRANSLATE_NOOP("failure", "The controller refused: {reason}."),
    Code.NO_REASON_GIVEN: QT_TRANSLATE_NOOP("failure", "no reason given"),
    Code.FREEZE_KEEPS_PUMP_ON: QT_TRANSLATE_NOOP(
        "failure", "freeze protection is running and keeps the pump on"
    ),
    Code.RETAINED_COMMAND: QT_TRANSLATE_NOOP(
        "failure", "the broker had kept the command from earlier, so it was not carried out"
    ),
    Code.UNKNOWN_TIME_ZONE: QT_TRANSLATE_NOOP("failure", "it does not know this time zone"),
    Code.INVALID_WINDOWS: QT_TRANSLATE_NOOP(
        "failure", "a run window's times or days are not valid"
    ),
    Code.UNREADABLE_COMMAND: QT_TRANSLATE_NOOP(
        "failure", "it could not read the command (its firmware may not match this app)"
    ),
    Code.KEPT_WIFI_LINK_ENDED: QT_TRANSLATE_NOOP(
        "failure",
        "{device} kept the Wi-Fi settings sent to it, because the connection to it ended before "
        "they could be undone. Use Change Wi-Fi to set its network again.",
    ),
    Code.KEPT_SETTINGS_LINK_ENDED: QT_TRANSLATE_NOOP(
        "failure",
        "{device} kept the settings sent to it, because the connection to it ended before they "
        "could be undone. Hold its button for 5 seconds to reset it.",
    ),
    Code.KEPT_WIFI_UNDO_FAILED: QT_TRANSLATE_NOOP(
        "failure",
        "{device} kept the Wi-Fi settings sent to it, because undoing them failed ({reason}). "
        "Use Change Wi-Fi to set its network again.",
    ),
    Code.KEPT_SETTINGS_UNDO_FAILED: QT_TRANSLATE_NOOP(
        "failure",
        "{device} kept the settings sent to it, because undoing them failed ({reason}). Hold its "
        "button for 5 seconds to reset it.",
    ),
    Code.DEVICE_NOT_REMOVED: QT_TRANSLATE_NOOP(
        "failure",
        "{device} could not be removed from your account ({cause}). Remove it from the dashboard.",
    ),
    Code.DEVICE_STAYS_WITH_OWNER: QT_TRANSLATE_NOOP(
        "failure",
        "{device} stays on the account of {owner}, who can remove it from their dashboard.",
    ),
    Code.BLUETOOTH_NO_SERVICE: QT_TRANSLATE_NOOP(
        "failure",
        "This computer's Bluetooth service is not running (on Linux: BlueZ). Install or start "
        "it (for example “sudo systemctl start bluetooth”), then press Rescan.",
    ),
    Code.BLUETOOTH_NO_ADAPTER: QT_TRANSLATE_NOOP(
        "failure",
        "This computer has no Bluetooth adapter. Plug in a Bluetooth adapter, or use a computer "
        "or phone with Bluetooth, then press Rescan.",
    ),
    Code.BLUETOOTH_OFF: QT_TRANSLATE_NOOP(
        "failure",
        "Bluetooth is switched off. Turn it on in the system settings, then press Rescan.",
    ),
    Code.BLUETOOTH_DENIED: QT_TRANSLATE_NOOP(
        "failure",
        "PoolDesk is not allowed to use Bluetooth. Allow it in the system settings (on Linux, "
        "ask your administrator to add you to the “bluetooth” group), then press Rescan.",
    ),
    Code.BLUETOOTH_NOT_ANSWERING: QT_TRANSLATE_NOOP(
        "failure",
        "Bluetooth did not answer. Turn Bluetooth off and on again (or restart the computer), "
        "then press Rescan.",
    ),
    Code.BLUETOOTH_UNAVAILABLE: QT_TRANSLATE_NOOP(
        "failure",
        "Bluetooth cannot be used on this computer right now. Check that it is on, then press "
        "Rescan.",
    ),
    Code.BLUETOOTH_LINK_LOST: QT_TRANSLATE_NOOP(
        "failure",
        "The Bluetooth connection to the controller was lost. Check it has power, move closer, "
        "then pick it again from the list.",
    ),
    Code.DEVICE_NOT_AUTHENTIC: QT_TRANSLATE_NOOP(
        "failure",
        "This device could not prove it is the controller on the label. Nothing was sent to it. "
        "Move closer to the right controller and try again.",
    ),
    Code.STEP_STILL_RUNNING: QT_TRANSLATE_NOOP(
        "failure", "Another step is still running; wait for it or cancel."
    ),
    Code.FLOW_ENDED: QT_TRANSLATE_NOOP(
        "failure", "This provisioning pass is over; start a new one."
    ),
    Code.PICK_CONTROLLER_FIRST: QT_TRANSLATE_NOOP(
        "failure", "Pick a controller from the scan first."
    ),
    Code.CLAIM_CODE_FIRST: QT_TRANSLATE_NOOP("failure", "Enter the claim code first."),
    Code.NOT_SET_UP_NO_WIFI: QT_TRANSLATE_NOOP(
        "failure",
        "This controller is not set up yet, so it has no Wi-Fi to change. Use Add device to set "
        "it up.",
    ),
    Code.URL_NOT_USABLE: QT_TRANSLATE_NOOP(
        "failure", "Enter an address that starts with {schemes} and names a host."
    ),
    Code.URL_BAD_PORT: QT_TRANSLATE_NOOP(
        "failure", "The port must be a number between 1 and 65535."
    ),
    Code.URL_NOT_ENCRYPTED: QT_TRANSLATE_NOOP(
        "failure",
        "{scheme}:// to {host} is not encrypted. Use the secure address, or turn on 'Allow "
        "insecure connections' in the settings if you trust this network.",
    ),
    Code.NOT_A_DEVICE_ID: QT_TRANSLATE_NOOP(
        "failure", "{text} is not a device id like ESP-A1B2C3."
    ),
    Code.QR_NOT_FROM_LABEL: QT_TRANSLATE_NOOP(
        "failure", "This QR text is not from a PoolDesk controller label."
    ),
    Code.LABEL_OF_OTHER_DEVICE: QT_TRANSLATE_NOOP(
        "failure",
        "This label belongs to {label}, not to {picked}. Use the label on the controller you "
        "picked.",
    ),
    Code.SECURE_SESSION_ENDED: QT_TRANSLATE_NOOP(
        "failure", "The secure session with the controller has ended. Enter the claim code again."
    ),
    Code.CONTROLLER_PROTOCOL_ERROR: QT_TRANSLATE_NOOP(
        "failure", "The controller reported a protocol error ({error}): {detail}"
    ),
    Code.CONTROLLER_MALFORMED: QT_TRANSLATE_NOOP(
        "failure", "The controller sent a malformed {field}."
    ),
    Code.CONTROLLER_NOT_SET_UP: QT_TRANSLATE_NOOP(
        "failure", "This controller is not set up yet; send the full setup instead of Wi-Fi only."
    ),
    Code.CONTROLLER_FAULT: QT_TRANSLATE_NOOP(
        "failure", "The controller could not do that; nothing was changed. Try again."
    ),
    Code.CONTROLLER_REFUSED_REQUEST: QT_TRANSLATE_NOOP(
        "failure", "The controller refused the request: {reason}"
    ),
    Code.PROGRESS_TIMEOUT: QT_TRANSLATE_NOOP(
        "failure",
        "The controller reported no progress in time. It may be out of range; move closer and "
        "try again.",
    ),
    Code.CONTROLLER_NO_ANSWER: QT_TRANSLATE_NOOP(
        "failure",
        "The controller did not answer in time. It may be out of range or restarting; move "
        "closer and try again.",
    ),
    Code.CONTROLLER_INFO_UNREADABLE: QT_TRANSLATE_NOOP(
        "failure", "The controller's device information is unreadable."
    ),
    Code.CONTROLLER_PROTOCOL_NEWER: QT_TRANSLATE_NOOP(
        "failure", "This controller speaks a newer provisioning protocol; update PoolDesk."
    ),
    Code.CONTROLLER_NO_DEVICE_ID: QT_TRANSLATE_NOOP(
        "failure", "The controller did not say which device it is."
    ),
    Code.CONTROLLER_WIFI_LIST_UNREADABLE: QT_TRANSLATE_NOOP(
        "failure", "The controller's Wi-Fi list is unreadable."
    ),
    Code.CONTROLLER_ANSWERED_IN_CLEAR: QT_TRANSLATE_NOOP(
        "failure", "The controller answered a secure request in clear."
    ),
    Code.CONTROLLER_MESSAGE_UNREADABLE: QT_TRANSLATE_NOOP(
        "failure", "A message from the controller could not be read ({detail}). Try again."
    ),
    Code.SESSION_REQUIRED: QT_TRANSLATE_NOOP(
        "failure", "Open a secure session with the claim code first."
    ),
    Code.LINK_NOT_PROVISIONING: QT_TRANSLATE_NOOP(
        "failure",
        "This device does not offer PoolDesk provisioning. Pick a pool controller from the scan "
        "list.",
    ),
    Code.LINK_NOT_CONNECTED: QT_TRANSLATE_NOOP(
        "failure", "The controller is no longer connected. Move closer and try again."
    ),
    Code.LINK_NO_ENDPOINT: QT_TRANSLATE_NOOP(
        "failure",
        "The controller has no '{endpoint}' endpoint (it offers: {known}); its firmware may be "
        "too old for this app.",
    ),
    Code.LINK_WRITE_TOO_BIG: QT_TRANSLATE_NOOP(
        "failure",
        "Internal error: a {size}-byte write to {endpoint} does not fit the Bluetooth packet size"
        " ({limit} bytes).",
    ),
    Code.LINK_GATT_REFUSED: QT_TRANSLATE_NOOP(
        "failure", "The controller refused a Bluetooth request on {endpoint} ({detail})."
    ),
    Code.LINK_GATT_NO_ANSWER: QT_TRANSLATE_NOOP(
        "failure", "The controller did not answer a Bluetooth request on {endpoint}."
    ),
    Code.LINK_GATT_FAILED: QT_TRANSLATE_NOOP(
        "failure",
        "The Bluetooth connection failed during a request on {endpoint}: {detail}. Move closer "
        "and try again.",
    ),
    Code.LINK_OUT_OF_RANGE: QT_TRANSLATE_NOOP(
        "failure",
        "{name} is not in range any more. Move closer to it, check it has power, and scan again.",
    ),
    Code.LINK_CONNECT_TIMEOUT: QT_TRANSLATE_NOOP(
        "failure",
        "{name} did not accept the connection in time. It may be busy with another app; close it "
        "there or move closer, then try again.",
    ),
    Code.LINK_CONNECT_FAILED: QT_TRANSLATE_NOOP("failure", "Could not connect to {name}: {detail}"),
    Code.CLAIM_CODE_LENGTH: QT_TRANSLATE_NOOP(
        "failure",
        "A claim code has {length} letters and digits (like KQ4M-7XTZ-2PB6-WRHD); this one has "
        "{count}.",
    ),
    Code.CLAIM_CODE_CHARACTERS: QT_TRANSLATE_NOOP(
        "failure",
        "A claim code uses only the letters A-Z and the digits 2-7; check these characters: "
        "{characters}.",
    ),
    Code.SETUP_CODE_EMPTY: QT_TRANSLATE_NOOP("failure", "Enter the owner's set-up code."),
    Code.SETUP_CODE_CHARACTERS: QT_TRANSLATE_NOOP(
        "failure",
        "A set-up code has only letters and digits; check these characters: {characters}.",
    ),
    Code.SETUP_CODE_LENGTH: QT_TRANSLATE_NOOP(
        "failure",
        "A set-up code has {length} letters and digits (like 7QK2-M4XD-9TRB); this one has "
        "{count}.",
    ),
    Code.USERNAME_EMPTY: QT_TRANSLATE_NOOP("failure", "Enter a username."),
    Code.USERNAME_INVALID: QT_TRANSLATE_NOOP(
        "failure", "3 to 32 characters: lower-case letters, digits, '-' or '_'."
    ),
    Code.EMAIL_EMPTY: QT_TRANSLATE_NOOP("failure", "Enter an email address."),
    Code.EMAIL_INVALID: QT_TRANSLATE_NOOP(
        "failure", "Enter an email address like name@example.com."
    ),
    Code.TOO_LONG: QT_TRANSLATE_NOOP("failure", "At most {limit} characters."),
    Code.PASSWORD_NEEDS: QT_TRANSLATE_NOOP("failure", "The password needs: {rules}."),
    Code.RULE_LENGTH: QT_TRANSLATE_NOOP("failure", "At least {count} characters"),
    Code.RULE_UPPER: QT_TRANSLATE_NOOP("failure", "An upper-case letter"),
    Code.RULE_LOWER: QT_TRANSLATE_NOOP("failure", "A lower-case letter"),
    Code.RULE_DIGIT: QT_TRANSLATE_NOOP("failure", "A digit"),
    Code.RULE_SYMBOL: QT_TRANSLATE_NOOP("failure", "A symbol such as ! or #"),
    Code.RULE_NOT_COMMON: QT_TRANSLATE_NOOP("failure", "Not a well-known password"),
    Code.PASSWORDS_DIFFER: QT_TRANSLATE_NOOP("failure", "The passwords differ."),
    Code.NEW_PASSWORDS_DIFFER: QT_TRANSLATE_NOOP("failure", "The new passwords differ."),
    Code.CURRENT_PASSWORD_EMPTY: QT_TRANSLATE_NOOP("failure", "Enter your current password."),
    Code.DEVICE_ID_EMPTY: QT_TRANSLATE_NOOP(
        "failure", "Enter the device id from the controller's label."
    ),
    Code.DEVICE_ID_INVALID: QT_TRANSLATE_NOOP(
        "failure", "The device id looks like ESP-A1B2C3 (ESP- and six hex digits)."
    ),
    Code.NAME_EMPTY: QT_TRANSLATE_NOOP("failure", "Enter a name."),
    Code.WIFI_NO_NETWORK: QT_TRANSLATE_NOOP(
        "failure", "Choose a network, or enter its name under “Other network…”."
    ),
    Code.WIFI_SSID_TOO_LONG: QT_TRANSLATE_NOOP(
        "failure", "A network name has at most {limit} bytes."
    ),
    Code.WIFI_PASSWORD_EMPTY: QT_TRANSLATE_NOOP("failure", "Enter the network's password."),
    Code.WIFI_PASSWORD_INVALID: QT_TRANSLATE_NOOP(
        "failure",
        "A Wi-Fi password has 8 to 63 bytes (letters such as é or ñ count as two), or is a key of"
        " 64 hex digits.",
    ),
    Code.TIMER_RANGE: QT_TRANSLATE_NOOP("failure", "A timer runs between 1 second and 24 hours."),
    Code.SCHEDULE_NO_DAYS: QT_TRANSLATE_NOOP("failure", "Every window needs at least one day."),
    Code.SCHEDULE_EMPTY_WINDOW: QT_TRANSLATE_NOOP(
        "failure", "A window's start and end must differ."
    ),
    Code.USERNAME_TAKEN: QT_TRANSLATE_NOOP(
        "failure",
        "That username is taken; choose another.",
    ),
    Code.USERNAME_RETIRED: QT_TRANSLATE_NOOP(
        "failure",
        "The username {username} is not available; choose another.",
    ),
    Code.REGISTERED_MEANWHILE: QT_TRANSLATE_NOOP(
        "failure",
        "The same username or device was registered at the same moment. Try again.",
    ),
    Code.DEVICE_ON_YOUR_ACCOUNT: QT_TRANSLATE_NOOP(
        "failure",
        "{device} is already on your account.",
    ),
    Code.DEVICE_REGISTERED_ELSEWHERE: QT_TRANSLATE_NOOP(
        "failure",
        "{device} is already registered to another account.",
    ),
    Code.DEVICE_LIMIT: QT_TRANSLATE_NOOP(
        "failure",
        "Your account has the most devices it may have; remove one before adding another.",
    ),
    Code.ALREADY_SHARED: QT_TRANSLATE_NOOP(
        "failure",
        "{username} already has this access or more.",
    ),
    Code.SETUP_CODE_LIMIT: QT_TRANSLATE_NOOP(
        "failure",
        "You already have the most set-up codes waiting; delete one or let it expire.",
    ),
    Code.TRANSFER_OPEN: QT_TRANSLATE_NOOP(
        "failure",
        "{device} already has a hand-over waiting; cancel it first.",
    ),
    Code.TRANSFER_SETTLED: QT_TRANSLATE_NOOP(
        "failure",
        "That hand-over was already accepted, declined or cancelled.",
    ),
    Code.UPDATE_IN_PROGRESS: QT_TRANSLATE_NOOP(
        "failure",
        "This controller is already updating; wait until that update ends.",
    ),
    Code.CURRENT_PASSWORD_WRONG: QT_TRANSLATE_NOOP(
        "failure",
        "The current password is incorrect.",
    ),
    Code.WRONG_CLAIM_CODE: QT_TRANSLATE_NOOP(
        "failure",
        "The claim code does not match {device}. Check the code on its label.",
    ),
    Code.NOT_IN_MANIFEST: QT_TRANSLATE_NOOP(
        "failure",
        "The server does not know {device}. Check the id on the device label, or ask the "
        "server's operator to import the factory list.",
    ),
    Code.OWNER_ONLY: QT_TRANSLATE_NOOP(
        "failure",
        "Only the device's owner can do this.",
    ),
    Code.VIEWER_ONLY: QT_TRANSLATE_NOOP(
        "failure",
        "You can only view this device: ask its owner for the operator role.",
    ),
    Code.WRONG_SETUP_CODE: QT_TRANSLATE_NOOP(
        "failure",
        "That set-up code is wrong or has expired; ask the owner for a new one.",
    ),
    Code.OWN_SETUP_CODE: QT_TRANSLATE_NOOP(
        "failure",
        "This set-up code is your own: add the device without it.",
    ),
    Code.NO_SUCH_ROUTE: QT_TRANSLATE_NOOP(
        "failure",
        "This server does not offer this; it may be an older version.",
    ),
    Code.DEVICE_NOT_FOUND: QT_TRANSLATE_NOOP(
        "failure",
        "{device} is not on your account or shared with you.",
    ),
    Code.NO_SUCH_ACCOUNT: QT_TRANSLATE_NOOP(
        "failure",
        "There is no account named {username}.",
    ),
    Code.SESSION_NOT_FOUND: QT_TRANSLATE_NOOP(
        "failure",
        "That session has already ended.",
    ),
    Code.SHARE_NOT_FOUND: QT_TRANSLATE_NOOP(
        "failure",
        "That access or invitation no longer exists.",
    ),
    Code.SETUP_CODE_NOT_FOUND: QT_TRANSLATE_NOOP(
        "failure",
        "That set-up code no longer exists.",
    ),
    Code.TRANSFER_NOT_FOUND: QT_TRANSLATE_NOOP(
        "failure",
        "That hand-over is no longer waiting.",
    ),
    Code.TOO_MANY_ATTEMPTS: QT_TRANSLATE_NOOP(
        "failure",
        "Too many failed attempts.",
    ),
    Code.TOO_MANY_REQUESTS: QT_TRANSLATE_NOOP(
        "failure",
        "Too many requests in a short time.",
    ),
    Code.WEAK_PASSWORD: QT_TRANSLATE_NOOP(
        "failure",
        "The server refused this password as too weak: too common or too close to your "
        "username. Choose another.",
    ),
    Code.SAME_PASSWORD: QT_TRANSLATE_NOOP(
        "failure",
        "The new password must differ from the current one.",
    ),
    Code.PASSWORD_CHANGED: QT_TRANSLATE_NOOP(
        "failure",
        "Password changed; your other sessions have been signed out.",
    ),
    Code.ACCOUNT_DELETED: QT_TRANSLATE_NOOP(
        "failure",
        "Your account was deleted.",
    ),
    Code.NO_RELEASE: QT_TRANSLATE_NOOP(
        "failure",
        "The server has no such firmware release stored; ask its operator to add it.",
    ),
    Code.ACCOUNT_DISABLED: QT_TRANSLATE_NOOP(
        "failure",
        "The server's operator has disabled this account; ask them to enable it again.",
    ),
    Code.ALERT_FREEZE: QT_TRANSLATE_NOOP(
        "failure",
        "Freeze protection is running (water at {water}).",
    ),
    Code.ALERT_WATER_SENSOR: QT_TRANSLATE_NOOP(
        "failure",
        "The water temperature sensor is not responding: freeze protection cannot run.",
    ),
    Code.ALERT_NO_NETWORK_TIME: QT_TRANSLATE_NOOP(
        "failure",
        "No network time yet: the schedule is waiting.",
    ),
}


def failure_text(failure: Failure, temperature: Callable[[float], str]) -> str:
    """The failure in the language on screen; `temperature` words a value measured in °C."""
    template = TEXTS[failure.code]
    if failure.code is not Code.SERVER_SAID:
        template = QCoreApplication.translate(CONTEXT, template)
    values = {
        name: _value(name, value, temperature, template) for name, value in failure.params.items()
    }
    return template.format_map(values)


# Values measured in °C: shown in the unit the user chose, written as the language writes numbers.
TEMPERATURES = frozenset({"water"})


def _value(name: str, value: object, temperature: Callable[[float], str], template: str) -> str:
    if isinstance(value, Failure):
        return in_brackets(failure_text(value, temperature), name, template)
    if isinstance(value, tuple):  # the rules a password misses: said in a row
        return listed(failure_text(item, temperature) for item in value)
    if name in TEMPERATURES and isinstance(value, int | float):
        return temperature(float(value))
    return str(value)
