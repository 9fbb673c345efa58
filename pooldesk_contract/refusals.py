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
