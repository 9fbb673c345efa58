"""What went wrong, as a stable code with its values: the core says *what*, the UI says it in
the user's language (`pooldesk/ui/failure_texts.py`, one table, translated through Qt).

Each code has a plain English text here for logs (`str(failure)`); the screen never shows it.
A value may itself be a `Failure` (a cause), a tuple of them (the rules a password misses), or a
server's own message (`SERVER_SAID`), which the UI shows as the server wrote it. The codes are
part of the app's behaviour: renaming one needs the table and the catalogue changed with it (a
test checks every code has a text).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Union


class Code(StrEnum):
    # the backend over HTTP (backend_client)
    SERVER_UNREACHABLE = "server_unreachable"  # url
    SERVER_TIMEOUT = "server_timeout"  # url
    SERVER_UNREADABLE = "server_unreadable"  # status: an answer that is not the API's JSON
    SERVER_MISMATCH = "server_mismatch"  # detail: JSON, but not the shape this app expects
    SERVER_FAULT = "server_fault"  # the server's code internal_error: nothing the user can fix
    SERVER_BUSY = "server_busy"  # the server's code overloaded (Retry-After gives the wait)
    SERVER_REFUSED = "server_refused"  # status: a refusal without a message
    SERVER_SAID = "server_said"  # message: the server's own words, shown as they are
    WRONG_CREDENTIALS = "wrong_credentials"  # a sign-in the server refused (401)
    SESSION_ENDED = "session_ended"  # the session cannot be refreshed: sign in again
    # the session's keyring (token_store)
    NO_KEYRING = "no_keyring"
    # the MQTT broker (mqtt_link)
    BROKER_CONNECTING = "broker_connecting"
    BROKER_UNREACHABLE = "broker_unreachable"  # address, reason
    BROKER_NO_CONNACK = "broker_no_connack"
    BROKER_NO_SUBACK = "broker_no_suback"
    BROKER_LOST = "broker_lost"  # reason
    BROKER_REFUSED_LOGIN = "broker_refused_login"
    BROKER_REFUSED = "broker_refused"  # reason: the CONNACK reason code
    BROKER_NO_CREDENTIALS = "broker_no_credentials"  # cause: a Failure
    CERTIFICATE_NOT_TRUSTED = "certificate_not_trusted"  # detail: the TLS library's words
    TIMED_OUT = "timed_out"
    # commands to a controller (commands)
    COMMAND_NO_RESPONSE = "command_no_response"
    COMMAND_NOT_SENT = "command_not_sent"
    COMMAND_LATE = "command_late"
    COMMAND_EXPIRED = "command_expired"
    COMMAND_REFUSED = "command_refused"  # reason: one of the five below, or the controller's words
    NO_REASON_GIVEN = "no_reason_given"
    # ... the controller's refusal codes (controller_refusals)
    FREEZE_KEEPS_PUMP_ON = "freeze_keeps_pump_on"
    RETAINED_COMMAND = "retained_command"
    UNKNOWN_TIME_ZONE = "unknown_time_zone"
    INVALID_WINDOWS = "invalid_windows"
    UNREADABLE_COMMAND = "unreadable_command"
    # what a cancelled provisioning pass could not undo (provisioning_flow.cleanup_problems)
    KEPT_WIFI_LINK_ENDED = "kept_wifi_link_ended"  # device
    KEPT_SETTINGS_LINK_ENDED = "kept_settings_link_ended"  # device
    KEPT_WIFI_UNDO_FAILED = "kept_wifi_undo_failed"  # device, reason
    KEPT_SETTINGS_UNDO_FAILED = "kept_settings_undo_failed"  # device, reason
    DEVICE_NOT_REMOVED = "device_not_removed"  # device, cause: a Failure
    DEVICE_STAYS_WITH_OWNER = "device_stays_with_owner"  # device, owner
    # this computer's Bluetooth (bluetooth_problems.classify)
    BLUETOOTH_NO_SERVICE = "bluetooth_no_service"
    BLUETOOTH_NO_ADAPTER = "bluetooth_no_adapter"
    BLUETOOTH_OFF = "bluetooth_off"
    BLUETOOTH_DENIED = "bluetooth_denied"
    BLUETOOTH_NOT_ANSWERING = "bluetooth_not_answering"
    BLUETOOTH_UNAVAILABLE = "bluetooth_unavailable"
    # the "Add device" pass (provisioning_flow, pooldesk.provisioning)
    BLUETOOTH_LINK_LOST = "bluetooth_link_lost"
    DEVICE_NOT_AUTHENTIC = "device_not_authentic"
    STEP_STILL_RUNNING = "step_still_running"
    FLOW_ENDED = "flow_ended"
    PICK_CONTROLLER_FIRST = "pick_controller_first"
    CLAIM_CODE_FIRST = "claim_code_first"
    NOT_SET_UP_NO_WIFI = "not_set_up_no_wifi"
    # addresses the app refuses (settings.check_url)
    URL_NOT_USABLE = "url_not_usable"  # schemes: the accepted ones, "http://, https://"
    URL_BAD_PORT = "url_bad_port"
    URL_NOT_ENCRYPTED = "url_not_encrypted"  # scheme, host
    # the provisioning protocol's answers and the label (pooldesk.provisioning)
    NOT_A_DEVICE_ID = "not_a_device_id"  # text
    QR_NOT_FROM_LABEL = "qr_not_from_label"
    LABEL_OF_OTHER_DEVICE = "label_of_other_device"  # label, picked: device ids
    SECURE_SESSION_ENDED = "secure_session_ended"
    CONTROLLER_PROTOCOL_ERROR = "controller_protocol_error"  # error, detail: the controller's
    CONTROLLER_MALFORMED = "controller_malformed"  # field
    CONTROLLER_NOT_SET_UP = "controller_not_set_up"
    CONTROLLER_FAULT = "controller_fault"
    CONTROLLER_REFUSED_REQUEST = "controller_refused_request"  # reason: the controller's words
    PROGRESS_TIMEOUT = "progress_timeout"
    CONTROLLER_NO_ANSWER = "controller_no_answer"
    CONTROLLER_INFO_UNREADABLE = "controller_info_unreadable"
    CONTROLLER_PROTOCOL_NEWER = "controller_protocol_newer"
    CONTROLLER_NO_DEVICE_ID = "controller_no_device_id"
    CONTROLLER_WIFI_LIST_UNREADABLE = "controller_wifi_list_unreadable"
    CONTROLLER_ANSWERED_IN_CLEAR = "controller_answered_in_clear"
    CONTROLLER_MESSAGE_UNREADABLE = (
        "controller_message_unreadable"  # detail: what was wrong, technical
    )
    SESSION_REQUIRED = "session_required"
    # the Bluetooth link to a controller (pooldesk.ble.link)
    LINK_NOT_PROVISIONING = "link_not_provisioning"
    LINK_NOT_CONNECTED = "link_not_connected"
    LINK_NO_ENDPOINT = "link_no_endpoint"  # endpoint, known: the endpoints it offers
    LINK_WRITE_TOO_BIG = "link_write_too_big"  # size, endpoint, limit: a bug of the app's
    LINK_GATT_REFUSED = "link_gatt_refused"  # endpoint, detail: the GATT error
    LINK_GATT_NO_ANSWER = "link_gatt_no_answer"  # endpoint
    LINK_GATT_FAILED = "link_gatt_failed"  # endpoint, detail: the Bluetooth stack's words
    LINK_OUT_OF_RANGE = "link_out_of_range"  # name
    LINK_CONNECT_TIMEOUT = "link_connect_timeout"  # name
    LINK_CONNECT_FAILED = "link_connect_failed"  # name, detail: the Bluetooth stack's words
    # claim and set-up codes as typed (pooldesk_contract.claimcode, core.setup_codes)
    CLAIM_CODE_LENGTH = "claim_code_length"  # length: the right one, count: this one's
    CLAIM_CODE_CHARACTERS = "claim_code_characters"  # characters: the ones not allowed
    SETUP_CODE_EMPTY = "setup_code_empty"
    SETUP_CODE_CHARACTERS = "setup_code_characters"  # characters
    SETUP_CODE_LENGTH = "setup_code_length"  # length, count
    # fields checked as the user types (validation)
    USERNAME_EMPTY = "username_empty"
    USERNAME_INVALID = "username_invalid"
    EMAIL_EMPTY = "email_empty"
    EMAIL_INVALID = "email_invalid"
    TOO_LONG = "too_long"  # limit: characters
    PASSWORD_NEEDS = "password_needs"  # rules: the unmet rules, each a Failure (RULE_…)
    RULE_LENGTH = "rule_length"  # count: a password rule, a line of the checklist
    RULE_UPPER = "rule_upper"
    RULE_LOWER = "rule_lower"
    RULE_DIGIT = "rule_digit"
    RULE_SYMBOL = "rule_symbol"
    RULE_NOT_COMMON = "rule_not_common"
    PASSWORDS_DIFFER = "passwords_differ"
    NEW_PASSWORDS_DIFFER = "new_passwords_differ"
    CURRENT_PASSWORD_EMPTY = "current_password_empty"
    DEVICE_ID_EMPTY = "device_id_empty"
    DEVICE_ID_INVALID = "device_id_invalid"
    NAME_EMPTY = "name_empty"
    WIFI_NO_NETWORK = "wifi_no_network"
    WIFI_SSID_TOO_LONG = "wifi_ssid_too_long"  # limit: bytes
    WIFI_PASSWORD_EMPTY = "wifi_password_empty"
    WIFI_PASSWORD_INVALID = "wifi_password_invalid"
    # a command's values (commands) and a schedule's windows (ui.controllers.schedule)
    TIMER_RANGE = "timer_range"
    SCHEDULE_NO_DAYS = "schedule_no_days"
    SCHEDULE_EMPTY_WINDOW = "schedule_empty_window"
    # the server's refusals by their reason (server_refusals: pooldesk_contract.refusals)
    USERNAME_TAKEN = "username_taken"
    USERNAME_RETIRED = "username_retired"  # username
    REGISTERED_MEANWHILE = "registered_meanwhile"
    DEVICE_ON_YOUR_ACCOUNT = "device_on_your_account"  # device
    DEVICE_REGISTERED_ELSEWHERE = "device_registered_elsewhere"  # device
    DEVICE_LIMIT = "device_limit"
    ALREADY_SHARED = "already_shared"  # username
    SETUP_CODE_LIMIT = "setup_code_limit"
    TRANSFER_OPEN = "transfer_open"  # device
    TRANSFER_SETTLED = "transfer_settled"
    UPDATE_IN_PROGRESS = "update_in_progress"
    CURRENT_PASSWORD_WRONG = "current_password_wrong"
    WRONG_CLAIM_CODE = "wrong_claim_code"  # device
    NOT_IN_MANIFEST = "not_in_manifest"  # device
    OWNER_ONLY = "owner_only"
    VIEWER_ONLY = "viewer_only"
    WRONG_SETUP_CODE = "wrong_setup_code"
    OWN_SETUP_CODE = "own_setup_code"
    NO_SUCH_ROUTE = "no_such_route"
    DEVICE_NOT_FOUND = "device_not_found"  # device
    NO_SUCH_ACCOUNT = "no_such_account"  # username
    SESSION_NOT_FOUND = "session_not_found"
    SHARE_NOT_FOUND = "share_not_found"
    SETUP_CODE_NOT_FOUND = "setup_code_not_found"
    TRANSFER_NOT_FOUND = "transfer_not_found"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    TOO_MANY_REQUESTS = "too_many_requests"
    WEAK_PASSWORD = "weak_password"
    SAME_PASSWORD = "same_password"
    # what the server did, said in the app's words
    PASSWORD_CHANGED = "password_changed"
    ACCOUNT_DELETED = "account_deleted"
    NO_RELEASE = "no_release"
    ACCOUNT_DISABLED = "account_disabled"  # the server's code account_disabled (403)
    # the controller's alerts by their id (alert_words)
    ALERT_FREEZE = "alert_freeze"  # water: °C, a number (the UI shows it in the chosen unit)
    ALERT_WATER_SENSOR = "alert_water_sensor"
    ALERT_NO_NETWORK_TIME = "alert_no_network_time"


ENGLISH: Mapping[Code, str] = {
    Code.SERVER_UNREACHABLE: "Cannot reach the server at {url}. Check the address and that the "
    "server is running.",
    Code.SERVER_TIMEOUT: "The server at {url} did not answer in time. Try again.",
    Code.SERVER_UNREADABLE: "The server answered {status} without a readable message.",
    Code.SERVER_MISMATCH: "The server's answer was not what this app expects ({detail}). Is the "
    "server a PoolDesk backend of a matching version?",
    Code.SERVER_FAULT: "The server could not do this because of a fault of its own.",
    Code.SERVER_BUSY: "The server is busy.",
    Code.SERVER_REFUSED: "The server refused ({status}).",
    Code.SERVER_SAID: "{message}",
    Code.WRONG_CREDENTIALS: "Invalid username or password",
    Code.SESSION_ENDED: "Your session has ended. Sign in again.",
    Code.NO_KEYRING: "No system keyring is available, so you will need to sign in again next time.",
    Code.BROKER_CONNECTING: "Connecting to the broker…",
    Code.BROKER_UNREACHABLE: "Cannot reach the broker at {address} ({reason}).",
    Code.BROKER_NO_CONNACK: "The broker did not answer the connection request.",
    Code.BROKER_NO_SUBACK: "The broker did not answer the subscription request.",
    Code.BROKER_LOST: "Connection lost: {reason}",
    Code.BROKER_REFUSED_LOGIN: "The broker refused the login. Sign out and in again, or ask the "
    "server's administrator to check the broker.",
    Code.BROKER_REFUSED: "The broker refused the connection (reason {reason}).",
    Code.BROKER_NO_CREDENTIALS: "Could not get broker credentials: {cause}",
    Code.CERTIFICATE_NOT_TRUSTED: "certificate not trusted: {detail}",
    Code.TIMED_OUT: "timed out",
    Code.COMMAND_NO_RESPONSE: "The controller did not respond.",
    Code.COMMAND_NOT_SENT: "Not connected to the broker; the command was not sent.",
    Code.COMMAND_LATE: "The controller carried out the command late.",
    Code.COMMAND_EXPIRED: "The command reached the controller too late and was not carried "
    "out; nothing changed.",
    Code.COMMAND_REFUSED: "The controller refused: {reason}.",
    Code.NO_REASON_GIVEN: "no reason given",
    Code.FREEZE_KEEPS_PUMP_ON: "freeze protection is running and keeps the pump on",
    Code.RETAINED_COMMAND: "the broker had kept the command from earlier, so it was not "
    "carried out",
    Code.UNKNOWN_TIME_ZONE: "it does not know this time zone",
    Code.INVALID_WINDOWS: "a run window's times or days are not valid",
    Code.UNREADABLE_COMMAND: "it could not read the command (its firmware may not match this app)",
    Code.KEPT_WIFI_LINK_ENDED: "{device} kept the Wi-Fi settings sent to it, because the "
    "connection to it ended before they could be undone. Use Change Wi-Fi to set its network "
    "again.",
    Code.KEPT_SETTINGS_LINK_ENDED: "{device} kept the settings sent to it, because the connection "
    "to it ended before they could be undone. Hold its button for 5 seconds to reset it.",
    Code.KEPT_WIFI_UNDO_FAILED: "{device} kept the Wi-Fi settings sent to it, because undoing "
    "them failed ({reason}). Use Change Wi-Fi to set its network again.",
    Code.KEPT_SETTINGS_UNDO_FAILED: "{device} kept the settings sent to it, because undoing them "
    "failed ({reason}). Hold its button for 5 seconds to reset it.",
    Code.DEVICE_NOT_REMOVED: "{device} could not be removed from your account ({cause}). Remove "
    "it from the dashboard.",
    Code.DEVICE_STAYS_WITH_OWNER: "{device} stays on the account of {owner}, who can remove it "
    "from their dashboard.",
    Code.BLUETOOTH_NO_SERVICE: "This computer's Bluetooth service is not running (on Linux: "
    "BlueZ). Install or start it (for example “sudo systemctl start bluetooth”), then press "
    "Rescan.",
    Code.BLUETOOTH_NO_ADAPTER: "This computer has no Bluetooth adapter. Plug in a Bluetooth "
    "adapter, or use a computer or phone with Bluetooth, then press Rescan.",
    Code.BLUETOOTH_OFF: "Bluetooth is switched off. Turn it on in the system settings, then "
    "press Rescan.",
    Code.BLUETOOTH_DENIED: "PoolDesk is not allowed to use Bluetooth. Allow it in the system "
    "settings (on Linux, ask your administrator to add you to the “bluetooth” group), then press "
    "Rescan.",
    Code.BLUETOOTH_NOT_ANSWERING: "Bluetooth did not answer. Turn Bluetooth off and on again (or "
    "restart the computer), then press Rescan.",
    Code.BLUETOOTH_UNAVAILABLE: "Bluetooth cannot be used on this computer right now. Check that "
    "it is on, then press Rescan.",
    Code.BLUETOOTH_LINK_LOST: "The Bluetooth connection to the controller was lost. Check it has "
    "power, move closer, then pick it again from the list.",
    Code.DEVICE_NOT_AUTHENTIC: "This device could not prove it is the controller on the label. "
    "Nothing was sent to it. Move closer to the right controller and try again.",
    Code.STEP_STILL_RUNNING: "Another step is still running; wait for it or cancel.",
    Code.FLOW_ENDED: "This provisioning pass is over; start a new one.",
    Code.PICK_CONTROLLER_FIRST: "Pick a controller from the scan first.",
    Code.CLAIM_CODE_FIRST: "Enter the claim code first.",
    Code.NOT_SET_UP_NO_WIFI: "This controller is not set up yet, so it has no Wi-Fi to change. "
    "Use Add device to set it up.",
    Code.URL_NOT_USABLE: "Enter an address that starts with {schemes} and names a host.",
    Code.URL_BAD_PORT: "The port must be a number between 1 and 65535.",
    Code.URL_NOT_ENCRYPTED: "{scheme}:// to {host} is not encrypted. Use the secure address, or "
    "turn on 'Allow insecure connections' in the settings if you trust this network.",
    Code.NOT_A_DEVICE_ID: "{text} is not a device id like ESP-A1B2C3.",
    Code.QR_NOT_FROM_LABEL: "This QR text is not from a PoolDesk controller label.",
    Code.LABEL_OF_OTHER_DEVICE: "This label belongs to {label}, not to {picked}. Use the label "
    "on the controller you picked.",
    Code.SECURE_SESSION_ENDED: "The secure session with the controller has ended. Enter the "
    "claim code again.",
    Code.CONTROLLER_PROTOCOL_ERROR: "The controller reported a protocol error ({error}): {detail}",
    Code.CONTROLLER_MALFORMED: "The controller sent a malformed {field}.",
    Code.CONTROLLER_NOT_SET_UP: "This controller is not set up yet; send the full setup instead "
    "of Wi-Fi only.",
    Code.CONTROLLER_FAULT: "The controller could not do that; nothing was changed. Try again.",
    Code.CONTROLLER_REFUSED_REQUEST: "The controller refused the request: {reason}",
    Code.PROGRESS_TIMEOUT: "The controller reported no progress in time. It may be out of range; "
    "move closer and try again.",
    Code.CONTROLLER_NO_ANSWER: "The controller did not answer in time. It may be out of range or "
    "restarting; move closer and try again.",
    Code.CONTROLLER_INFO_UNREADABLE: "The controller's device information is unreadable.",
    Code.CONTROLLER_PROTOCOL_NEWER: "This controller speaks a newer provisioning protocol; update "
    "PoolDesk.",
    Code.CONTROLLER_NO_DEVICE_ID: "The controller did not say which device it is.",
    Code.CONTROLLER_WIFI_LIST_UNREADABLE: "The controller's Wi-Fi list is unreadable.",
    Code.CONTROLLER_ANSWERED_IN_CLEAR: "The controller answered a secure request in clear.",
    Code.CONTROLLER_MESSAGE_UNREADABLE: "A message from the controller could not be read "
    "({detail}). Try again.",
    Code.SESSION_REQUIRED: "Open a secure session with the claim code first.",
    Code.LINK_NOT_PROVISIONING: "This device does not offer PoolDesk provisioning. Pick a pool "
    "controller from the scan list.",
    Code.LINK_NOT_CONNECTED: "The controller is no longer connected. Move closer and try again.",
    Code.LINK_NO_ENDPOINT: "The controller has no '{endpoint}' endpoint (it offers: {known}); its "
    "firmware may be too old for this app.",
    Code.LINK_WRITE_TOO_BIG: "Internal error: a {size}-byte write to {endpoint} does not fit the "
    "Bluetooth packet size ({limit} bytes).",
    Code.LINK_GATT_REFUSED: "The controller refused a Bluetooth request on {endpoint} ({detail}).",
    Code.LINK_GATT_NO_ANSWER: "The controller did not answer a Bluetooth request on {endpoint}.",
    Code.LINK_GATT_FAILED: "The Bluetooth connection failed during a request on {endpoint}: "
    "{detail}. Move closer and try again.",
    Code.LINK_OUT_OF_RANGE: "{name} is not in range any more. Move closer to it, check it has "
    "power, and scan again.",
    Code.LINK_CONNECT_TIMEOUT: "{name} did not accept the connection in time. It may be busy with "
    "another app; close it there or move closer, then try again.",
    Code.LINK_CONNECT_FAILED: "Could not connect to {name}: {detail}",
    Code.CLAIM_CODE_LENGTH: "A claim code has {length} letters and digits (like "
    "KQ4M-7XTZ-2PB6-WRHD); this one has {count}.",
    Code.CLAIM_CODE_CHARACTERS: "A claim code uses only the letters A-Z and the digits 2-7; check "
    "these characters: {characters}.",
    Code.SETUP_CODE_EMPTY: "Enter the owner's set-up code.",
    Code.SETUP_CODE_CHARACTERS: "A set-up code has only letters and digits; check these "
    "characters: {characters}.",
    Code.SETUP_CODE_LENGTH: "A set-up code has {length} letters and digits (like "
    "7QK2-M4XD-9TRB); this one has {count}.",
    Code.USERNAME_EMPTY: "Enter a username.",
    Code.USERNAME_INVALID: "3 to 32 characters: lower-case letters, digits, '-' or '_'.",
    Code.EMAIL_EMPTY: "Enter an email address.",
    Code.EMAIL_INVALID: "Enter an email address like name@example.com.",
    Code.TOO_LONG: "At most {limit} characters.",
    Code.PASSWORD_NEEDS: "The password needs: {rules}.",
    Code.RULE_LENGTH: "At least {count} characters",
    Code.RULE_UPPER: "An upper-case letter",
    Code.RULE_LOWER: "A lower-case letter",
    Code.RULE_DIGIT: "A digit",
    Code.RULE_SYMBOL: "A symbol such as ! or #",
    Code.RULE_NOT_COMMON: "Not a well-known password",
    Code.PASSWORDS_DIFFER: "The passwords differ.",
    Code.NEW_PASSWORDS_DIFFER: "The new passwords differ.",
    Code.CURRENT_PASSWORD_EMPTY: "Enter your current password.",
    Code.DEVICE_ID_EMPTY: "Enter the device id from the controller's label.",
    Code.DEVICE_ID_INVALID: "The device id looks like ESP-A1B2C3 (ESP- and six hex digits).",
    Code.NAME_EMPTY: "Enter a name.",
    Code.WIFI_NO_NETWORK: "Choose a network, or enter its name under “Other network…”.",
    Code.WIFI_SSID_TOO_LONG: "A network name has at most {limit} bytes.",
    Code.WIFI_PASSWORD_EMPTY: "Enter the network's password.",
    Code.WIFI_PASSWORD_INVALID: "A Wi-Fi password has 8 to 63 bytes (letters such as é or ñ "
    "count as two), or is a key of 64 hex digits.",
    Code.TIMER_RANGE: "A timer runs between 1 second and 24 hours.",
    Code.SCHEDULE_NO_DAYS: "Every window needs at least one day.",
    Code.SCHEDULE_EMPTY_WINDOW: "A window's start and end must differ.",
    Code.USERNAME_TAKEN: "That username is taken; choose another.",
    Code.USERNAME_RETIRED: "The username {username} is not available; choose another.",
    Code.REGISTERED_MEANWHILE: (
        "The same username or device was registered at the same moment. Try again."
    ),
    Code.DEVICE_ON_YOUR_ACCOUNT: "{device} is already on your account.",
    Code.DEVICE_REGISTERED_ELSEWHERE: "{device} is already registered to another account.",
    Code.DEVICE_LIMIT: (
        "Your account has the most devices it may have; remove one before adding another."
    ),
    Code.ALREADY_SHARED: "{username} already has this access or more.",
    Code.SETUP_CODE_LIMIT: (
        "You already have the most set-up codes waiting; delete one or let it expire."
    ),
    Code.TRANSFER_OPEN: "{device} already has a hand-over waiting; cancel it first.",
    Code.TRANSFER_SETTLED: "That hand-over was already accepted, declined or cancelled.",
    Code.UPDATE_IN_PROGRESS: "This controller is already updating; wait until that update ends.",
    Code.CURRENT_PASSWORD_WRONG: "The current password is incorrect.",
    Code.WRONG_CLAIM_CODE: "The claim code does not match {device}. Check the code on its label.",
    Code.NOT_IN_MANIFEST: (
        "The server does not know {device}. Check the id on the device label, or ask the "
        "server's operator to import the factory list."
    ),
    Code.OWNER_ONLY: "Only the device's owner can do this.",
    Code.VIEWER_ONLY: "You can only view this device: ask its owner for the operator role.",
    Code.WRONG_SETUP_CODE: "That set-up code is wrong or has expired; ask the owner for a new one.",
    Code.OWN_SETUP_CODE: "This set-up code is your own: add the device without it.",
    Code.NO_SUCH_ROUTE: "This server does not offer this; it may be an older version.",
    Code.DEVICE_NOT_FOUND: "{device} is not on your account or shared with you.",
    Code.NO_SUCH_ACCOUNT: "There is no account named {username}.",
    Code.SESSION_NOT_FOUND: "That session has already ended.",
    Code.SHARE_NOT_FOUND: "That access or invitation no longer exists.",
    Code.SETUP_CODE_NOT_FOUND: "That set-up code no longer exists.",
    Code.TRANSFER_NOT_FOUND: "That hand-over is no longer waiting.",
    Code.TOO_MANY_ATTEMPTS: "Too many failed attempts.",
    Code.TOO_MANY_REQUESTS: "Too many requests in a short time.",
    Code.WEAK_PASSWORD: (
        "The server refused this password as too weak: too common or too close to your "
        "username. Choose another."
    ),
    Code.SAME_PASSWORD: "The new password must differ from the current one.",
    Code.PASSWORD_CHANGED: "Password changed; your other sessions have been signed out.",
    Code.ACCOUNT_DELETED: "Your account was deleted.",
    Code.NO_RELEASE: "The server has no such firmware release stored; ask its operator to add it.",
    Code.ACCOUNT_DISABLED: "The server's operator has disabled this account; ask them to "
    "enable it again.",
    Code.ALERT_FREEZE: "Freeze protection is running (water at {water} °C).",
    Code.ALERT_WATER_SENSOR: (
        "The water temperature sensor is not responding: freeze protection cannot run."
    ),
    Code.ALERT_NO_NETWORK_TIME: "No network time yet: the schedule is waiting.",
}

Value = Union[str, int, float, "Failure", tuple["Failure", ...]]


@dataclass(frozen=True)
class Failure:
    """A failure the user is told about: its code and the values its text needs."""

    code: Code
    params: Mapping[str, Value] = field(default_factory=dict)

    def __str__(self) -> str:
        """The English text, for logs (and for code that still expects a string)."""
        template = ENGLISH[self.code]
        return template.format_map({k: _english(k, v, template) for k, v in self.params.items()})


def _english(name: str, value: Value, template: str) -> str:
    if isinstance(value, tuple):  # a list of failures in a sentence: "a digit, a symbol…"
        return listed(str(item) for item in value)
    if isinstance(value, Failure):
        return in_brackets(str(value), name, template)
    return str(value)


def in_brackets(cause: str, name: str, template: str) -> str:
    """A cause put in brackets in the middle of a sentence ends without its own full stop:
    "… (Your session has ended. Sign in again). Remove …", not "again.). Remove"."""
    return cause.rstrip(".") if "({" + name + "})" in template else cause


def listed(texts: Iterable[str]) -> str:
    """Texts said in a row inside a sentence: each lower-cased first, joined by commas."""
    return ", ".join(text[:1].lower() + text[1:] for text in texts)


def failure(code: Code, **params: Value) -> Failure:
    return Failure(code, params)


Message = str | Failure  # what a status carries: a Failure, or a text the UI translates as is
