"""Who has access to what: shares, invitations and hand-overs as the app shows them.

`People` keeps the latest answers of `GET /api/shares` and `GET /api/transfers` and answers the
questions the screens ask: who has access to this device (and since when), what waits in the
inbox, is a hand-over of this device under way. Qt-free; listeners are plain callbacks.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from pooldesk.core.backend_client import ApiError, BackendClient
from pooldesk.core.models import Share, Transfer
from pooldesk_contract.refusals import Reason

ROLES = ("operator", "viewer")
HISTORY_CHOICES = ("keep", "clear")


@dataclass(frozen=True)
class Access:
    """One line of a device's "People": a member, their role, and since when."""

    share_id: str
    member: str
    role: str
    pending: bool  # invited, not accepted yet
    since: datetime | None  # accepted (active) or invited (pending)
    all_devices: bool  # the share covers every device of the owner


class TransferStage(enum.Enum):
    """What a hand-over means to the person looking at it."""

    OFFERED_BY_ME = "offered_by_me"  # waiting for the other account to accept
    OFFERED_TO_ME = "offered_to_me"  # mine to accept or decline
    MOVING = "moving"  # accepted; the controller takes its new binding
    WAITING_FOR_DEVICE = "waiting_for_device"  # moving, the controller is offline
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


def transfer_stage(transfer: Transfer, me: str) -> TransferStage:
    if transfer.status == "offered":
        mine = transfer.from_user == me
        return TransferStage.OFFERED_BY_ME if mine else TransferStage.OFFERED_TO_ME
    if transfer.status == "moving":
        if transfer.reason == "device_offline":
            return TransferStage.WAITING_FOR_DEVICE
        return TransferStage.MOVING
    return {
        "done": TransferStage.DONE,
        "cancelled": TransferStage.CANCELLED,
    }.get(transfer.status, TransferStage.FAILED)


Listener = Callable[[], None]
T = TypeVar("T")


async def _or_none(call: Awaitable[tuple[list[T], list[T]]]) -> tuple[list[T], list[T]]:
    try:
        return await call
    except ApiError as exc:
        # The route is missing (a server from before sharing): it says `no_such_route`, and an
        # older one no reason at all; these lists have no id in their path, so a 404 means that.
        # A proxy's own 404 page (not the server's JSON) is not that: it is reported.
        if (
            exc.status == 404
            and exc.code == "not_found"
            and exc.reason in (None, Reason.NO_SUCH_ROUTE)
        ):
            return [], []
        raise


class People:
    def __init__(self, client: BackendClient, me: str) -> None:
        self.client = client
        self.me = me
        self.given: list[Share] = []
        self.received: list[Share] = []
        self.outgoing: list[Transfer] = []
        self.incoming: list[Transfer] = []
        self._listeners: list[Listener] = []
        self._asked = 0  # refreshes started; only the latest one's answer is kept

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    async def refresh(self) -> None:
        """Fetch shares and transfers again (raises ApiError; the old picture stays then).
        A server without one of the two features (404 for the whole endpoint) has none."""
        self._asked += 1
        asked = self._asked
        given, received = await _or_none(self.client.shares())
        outgoing, incoming = await _or_none(self.client.transfers())
        if asked != self._asked:
            return  # a later refresh was started meanwhile: its answer is the newer one
        self.given, self.received = given, received
        self.outgoing, self.incoming = outgoing, incoming
        self._changed()

    def clear(self) -> None:
        self.given, self.received, self.outgoing, self.incoming = [], [], [], []
        self._changed()

    # -- questions ---------------------------------------------------------------------------
    def access(self, device_id: str) -> list[Access]:
        """Everyone this account gave access to the device: its own shares and the ones over
        all devices; active first, then by name."""
        rows = [
            Access(
                share_id=share.id,
                member=share.member,
                role=share.role,
                pending=share.status != "active",
                since=(share.accepted_at or share.created_at)
                if share.status == "active"
                else share.created_at,
                all_devices=share.device_id is None,
            )
            for share in self.given
            if share.device_id is None or share.device_id.upper() == device_id.upper()
        ]
        return sorted(rows, key=lambda row: (row.pending, row.member))

    def invitations(self) -> list[Share]:
        """Shares offered to this account and not answered yet."""
        return [share for share in self.received if share.status == "pending"]

    def offers(self) -> list[Transfer]:
        """Devices offered to this account and not answered yet."""
        return [t for t in self.incoming if t.status == "offered"]

    @property
    def waiting(self) -> int:
        """How many things wait for this account's answer (the badge)."""
        return len(self.invitations()) + len(self.offers())

    def open_transfer(self, device_id: str) -> Transfer | None:
        """The hand-over of a device still under way (offered or moving), either direction."""
        for transfer in [*self.outgoing, *self.incoming]:
            if transfer.open and transfer.device_id.upper() == device_id.upper():
                return transfer
        return None

    def moving_to_me(self) -> list[Transfer]:
        """Devices accepted by this account that have not arrived yet."""
        return [t for t in self.incoming if t.status == "moving"]
