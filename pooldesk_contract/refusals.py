"""Why the backend refused, when one HTTP status has several meanings: the `reason` of the error
body `{"ok": false, "error": {"code", "message", "reason"}}` (docs/backend.md "HTTP API").

`code` says the kind (`conflict` for every 409, `forbidden` for every 403); the reason says
which refusal of that kind it is, so a program acts on it without reading the English
`message`. A reason never changes with the wording; a new refusal gets a new reason.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    # 409 conflict
    USERNAME_TAKEN = "username_taken"
    USERNAME_RETIRED = "username_retired"  # the name of a deleted account
    REGISTERED_MEANWHILE = "registered_meanwhile"  # the same name or device at the same moment
    DEVICE_ON_YOUR_ACCOUNT = "device_on_your_account"
    DEVICE_REGISTERED_ELSEWHERE = "device_registered_elsewhere"  # only its owner can let it go
    DEVICE_LIMIT = "device_limit"  # the account has the most devices it may have
    ALREADY_SHARED = "already_shared"  # a share as wide or wider exists
    SETUP_CODE_LIMIT = "setup_code_limit"  # 5 live set-up codes already
    TRANSFER_OPEN = "transfer_open"  # the device has a hand-over waiting
    TRANSFER_SETTLED = "transfer_settled"  # the hand-over was accepted, declined or cancelled
    RELEASE_EXISTS = "release_exists"  # that firmware version is stored already
    UPDATE_IN_PROGRESS = "update_in_progress"  # the device is updating already
    # 403 forbidden
    WRONG_PASSWORD = "wrong_password"  # the current password, re-entered
    WRONG_CLAIM_CODE = "wrong_claim_code"
    NOT_IN_MANIFEST = "not_in_manifest"
    OTHER_DEVICE_KEY = "other_device_key"  # an API key of another device
    OWNER_ONLY = "owner_only"
    VIEWER_ONLY = "viewer_only"
    WRONG_SETUP_CODE = "wrong_setup_code"  # wrong, spent or expired
    OWN_SETUP_CODE = "own_setup_code"
    # 404 not_found
    NO_SUCH_ROUTE = "no_such_route"  # a path or route this server does not serve (an older one)
    DEVICE_NOT_FOUND = "device_not_found"  # not there, or not yours: the same answer
    NO_SUCH_ACCOUNT = "no_such_account"  # the username named to share or hand over to
    SESSION_NOT_FOUND = "session_not_found"  # ended already, or another account's
    SHARE_NOT_FOUND = "share_not_found"  # a share or an invitation ended or never yours
    SETUP_CODE_NOT_FOUND = "setup_code_not_found"
    TRANSFER_NOT_FOUND = "transfer_not_found"  # not there, or not waiting for you
    NO_RELEASE = "no_release"  # no firmware release stored, or not the version asked for
    # 429 rate_limited (Retry-After gives the wait in seconds)
    TOO_MANY_ATTEMPTS = "too_many_attempts"  # failed sign-ins, password or claim-code guesses
    TOO_MANY_REQUESTS = "too_many_requests"  # too many of one action (devices added, sign-ups)
    # 400 validation_error (the other validation errors name their field in the message)
    WEAK_PASSWORD = "weak_password"  # misses a rule, or well known, or close to the username
    SAME_PASSWORD = "same_password"  # the new password is the current one
