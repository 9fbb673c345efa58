"""The server's refusals in the app's own words: the error body's `reason`
(`pooldesk_contract.refusals`, docs/backend.md) becomes a failure code, filled with values the
app itself knows (the device it asked about, the username it typed). The server's English
`message` is never read for these.

An answer without a reason, or with one this app does not know (an older or a newer server, or
a refusal that has none, such as most validation errors), keeps the server's message, shown as
the server wrote it: untranslated, since the app cannot know what it means.
"""

from __future__ import annotations

from collections.abc import Mapping

from pooldesk.core.failures import Code, Failure, failure
from pooldesk_contract.refusals import Reason

DEVICE = "device"  # the device id the app asked about
USERNAME = "username"  # the username the user typed
FOR_OWNER = "for_owner"  # set when acting on another account's behalf (an installer's add)

# Each reason: its code, and the known values its text needs (without them, the server's words).
BY_REASON: Mapping[Reason, tuple[Code, tuple[str, ...]]] = {
    Reason.USERNAME_TAKEN: (Code.USERNAME_TAKEN, ()),
    Reason.USERNAME_RETIRED: (Code.USERNAME_RETIRED, (USERNAME,)),
    Reason.REGISTERED_MEANWHILE: (Code.REGISTERED_MEANWHILE, ()),
    Reason.DEVICE_ON_YOUR_ACCOUNT: (Code.DEVICE_ON_YOUR_ACCOUNT, (DEVICE,)),
    Reason.DEVICE_REGISTERED_ELSEWHERE: (Code.DEVICE_REGISTERED_ELSEWHERE, (DEVICE,)),
    Reason.DEVICE_LIMIT: (Code.DEVICE_LIMIT, ()),
    Reason.ALREADY_SHARED: (Code.ALREADY_SHARED, (USERNAME,)),
    Reason.SETUP_CODE_LIMIT: (Code.SETUP_CODE_LIMIT, ()),
    Reason.TRANSFER_OPEN: (Code.TRANSFER_OPEN, (DEVICE,)),
    Reason.TRANSFER_SETTLED: (Code.TRANSFER_SETTLED, ()),
    Reason.UPDATE_IN_PROGRESS: (Code.UPDATE_IN_PROGRESS, ()),
    Reason.WRONG_PASSWORD: (Code.CURRENT_PASSWORD_WRONG, ()),
    Reason.WRONG_CLAIM_CODE: (Code.WRONG_CLAIM_CODE, (DEVICE,)),
    Reason.NOT_IN_MANIFEST: (Code.NOT_IN_MANIFEST, (DEVICE,)),
    Reason.OWNER_ONLY: (Code.OWNER_ONLY, ()),
    Reason.VIEWER_ONLY: (Code.VIEWER_ONLY, ()),
    Reason.WRONG_SETUP_CODE: (Code.WRONG_SETUP_CODE, ()),
    Reason.OWN_SETUP_CODE: (Code.OWN_SETUP_CODE, ()),
    Reason.NO_SUCH_ROUTE: (Code.NO_SUCH_ROUTE, ()),
    Reason.DEVICE_NOT_FOUND: (Code.DEVICE_NOT_FOUND, (DEVICE,)),
    Reason.NO_SUCH_ACCOUNT: (Code.NO_SUCH_ACCOUNT, (USERNAME,)),
    Reason.SESSION_NOT_FOUND: (Code.SESSION_NOT_FOUND, ()),
    Reason.SHARE_NOT_FOUND: (Code.SHARE_NOT_FOUND, ()),
    Reason.SETUP_CODE_NOT_FOUND: (Code.SETUP_CODE_NOT_FOUND, ()),
    Reason.TRANSFER_NOT_FOUND: (Code.TRANSFER_NOT_FOUND, ()),
    Reason.NO_RELEASE: (Code.NO_RELEASE, ()),
    Reason.TOO_MANY_ATTEMPTS: (Code.TOO_MANY_ATTEMPTS, ()),  # the wait: ApiError.retry_after
    Reason.TOO_MANY_REQUESTS: (Code.TOO_MANY_REQUESTS, ()),
    Reason.WEAK_PASSWORD: (Code.WEAK_PASSWORD, ()),
    Reason.SAME_PASSWORD: (Code.SAME_PASSWORD, ()),
}

# Worded as the user's own account ("your account has the most devices…"): not true of an
# installer adding to the owner's account with a set-up code, who gets the server's words.
ABOUT_OWN_ACCOUNT = frozenset({Reason.DEVICE_LIMIT, Reason.DEVICE_ON_YOUR_ACCOUNT})

# Refusals the app never meets: the operator's CLI (a release stored twice) and a device's own
# API key (the controller's, never the app's).
NOT_MET = frozenset({Reason.RELEASE_EXISTS, Reason.OTHER_DEVICE_KEY})


def refusal_failure(reason: str | None, known: Mapping[str, str]) -> Failure | None:
    """The app's failure for the server's `reason`, or None: no reason, one this app does not
    know, or a value its text needs that this request did not carry."""
    try:
        known_reason = Reason(reason or "")
        code, needs = BY_REASON[known_reason]
    except (ValueError, KeyError):
        return None
    if known.get(FOR_OWNER) and known_reason in ABOUT_OWN_ACCOUNT:
        return None
    if not all(known.get(name) for name in needs):
        return None
    return failure(code, **{name: known[name] for name in needs})
