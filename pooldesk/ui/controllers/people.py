"""Shares, invitations, installer set-up codes and hand-overs on the dashboard
(docs/sharing.md): the People window of each owned device, the inbox and its badge, the
set-up code window, the leave question of a shared device and each card's hand-over line.

Polls the backend every 30 s, every 3 s while a hand-over is under way, whenever the
device list is reloaded, and when the user comes back to the app (someone who just said "I
invited you" is not kept waiting for the next poll). A server without sharing answers 404:
then nothing is shown.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication

from pooldesk.core import setup_codes
from pooldesk.core.backend_client import ApiError
from pooldesk.core.models import SetupCode, Share, Transfer
from pooldesk.core.people import People, TransferStage, transfer_stage
from pooldesk.ui import format as fmt
from pooldesk.ui.countdown import Countdown
from pooldesk.ui.views.common import ConfirmDialog
from pooldesk.ui.views.people_view import AccessRow, InboxItem, InboxView, PeopleView
from pooldesk.ui.views.setup_code_view import SetupCodeView

if TYPE_CHECKING:
    from pooldesk.ui.controllers.dashboard import DashboardController

log = logging.getLogger(__name__)
BUSY_POLL_MS = 3_000
IDLE_POLL_MS = 30_000
COMING_BACK_GAP_S = 5.0  # at most one look per this many seconds when the app is activated


class PeopleController(QObject):
    def __init__(self, dashboard: DashboardController) -> None:
        super().__init__(dashboard)
        self.dashboard = dashboard
        self.state: People | None = None
        self.people_views: dict[str, PeopleView] = {}  # device key -> its People window
        self.inbox: InboxView | None = None
        self.setup_view: SetupCodeView | None = None
        self.setup_code: SetupCode | None = None  # the code created in this window
        self.dialog: ConfirmDialog | None = None  # the open question, for tests
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.refresh)
        self._expiry = Countdown(self)
        dashboard.view.inbox_requested.connect(self.open_inbox)
        dashboard.view.setup_code_requested.connect(self.open_setup_codes)
        self._looked_at = 0.0  # time.monotonic() of the last refresh
        self._looking = 0  # refreshes under way
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.applicationStateChanged.connect(self._app_state_changed)
        self._show_badge()

    # -- state -------------------------------------------------------------------------------
    def _people(self) -> People | None:
        session = self.dashboard.session
        if session is None or session.user is None or not session.client.signed_in:
            return None
        me = session.user.username
        if self.state is None or self.state.client is not session.client or self.state.me != me:
            self.state = People(session.client, me)
            self.state.subscribe(self._show_all)
        return self.state

    def refresh(self) -> None:
        self.dashboard.tasks.spawn(self._refresh())

    def _app_state_changed(self, state: Qt.ApplicationState) -> None:
        if state != Qt.ApplicationState.ApplicationActive or self.state is None:
            return
        if not self._looking and time.monotonic() - self._looked_at >= COMING_BACK_GAP_S:
            self.refresh()  # not while one is under way: a slow server is not asked again

    async def _refresh(self) -> None:
        state = self._people()
        if state is None:
            return
        self._looked_at = time.monotonic()
        open_before = {t.id for t in [*state.outgoing, *state.incoming] if t.open}
        self._looking += 1
        try:
            await state.refresh()
        except ApiError as exc:
            log.info("shares and transfers not read: %s", exc.message)
            self._timer.start(IDLE_POLL_MS)
            return
        finally:
            self._looking -= 1
        finished = [
            t for t in [*state.outgoing, *state.incoming] if t.id in open_before and not t.open
        ]
        busy = any(t.open for t in [*state.outgoing, *state.incoming])
        self._timer.start(BUSY_POLL_MS if busy else IDLE_POLL_MS)
        if finished:  # a device moved (or stayed): the dashboard's list changed
            await self.dashboard.reload_devices(background=True)

    def stop(self) -> None:
        self._timer.stop()
        self._expiry.stop()
        for view in [*self.people_views.values(), self.inbox, self.setup_view]:
            if view is not None:
                view.close()
        if self.state is not None:
            self.state.clear()
        self.state = None
        self._show_badge()

    def _show_all(self) -> None:
        self._show_badge()
        self._show_inbox()
        for key in list(self.people_views):
            self._show_people(key)
        self.dashboard.refresh_cards()

    # -- the inbox ---------------------------------------------------------------------------
    def _show_badge(self) -> None:
        waiting = self.state.waiting if self.state else 0
        tr = self.tr
        if waiting:
            text = tr("Inbox ({n})").format(n=waiting)
            tip = (
                tr("1 invitation or device waits for your answer")
                if waiting == 1
                else tr("{n} invitations or devices wait for your answer").format(n=waiting)
            )
        else:
            text, tip = tr("Inbox"), tr("Invitations to pools shared with you")
        self.dashboard.view.show_inbox(text, bool(waiting), tip)

    def open_inbox(self) -> None:
        if self.inbox is None:
            self.inbox = InboxView(self.tr("Inbox"), self.dashboard.view.window())
            self.inbox.accept_requested.connect(self._accept)
            self.inbox.decline_requested.connect(self._decline)
            self.inbox.closed.connect(self._inbox_closed)
            self._show_inbox()
            self.inbox.show()
            self.refresh()
        self.inbox.raise_()
        self.inbox.activateWindow()

    def _inbox_closed(self) -> None:
        if self.inbox is not None:
            self.inbox.deleteLater()
        self.inbox = None

    def _show_inbox(self) -> None:
        if self.inbox is None:
            return
        state, tr = self.state, self.tr
        items: list[InboxItem] = []
        under_way: list[str] = []
        if state is not None:
            for share in state.invitations():
                items.append(
                    InboxItem("share", share.id, self._invitation_text(share),
                              tr("Accept"), tr("Decline"))
                )  # fmt: skip
            for transfer in state.offers():
                items.append(
                    InboxItem("transfer", transfer.id, self._offer_text(transfer),
                              tr("Accept the device"), tr("Decline"))
                )  # fmt: skip
            under_way = [self.transfer_text(t) for t in state.moving_to_me()]
        self.inbox.show_items(items, "\n".join(under_way))

    def _invitation_text(self, share: Share) -> str:
        tr = self.tr
        rights = (
            tr("you can switch the pump and edit schedules")
            if share.role == "operator"
            else tr("you can see its state and history")
        )
        if share.device_id is None:
            text = tr("{owner} invites you to all their pools as {role}: {rights}.").format(
                owner=share.owner, role=fmt.role_name(share.role), rights=rights
            )
        else:
            text = tr("{owner} invites you to the pool {device} as {role}: {rights}.").format(
                owner=share.owner, device=share.device_id, role=fmt.role_name(share.role),
                rights=rights,
            )  # fmt: skip
        return text + " " + tr("Invited {when}.").format(when=fmt.ago(share.created_at))

    def _offer_text(self, transfer: Transfer) -> str:
        tr = self.tr
        history = (
            tr("its history comes with it")
            if transfer.history == "keep"
            else tr("its history is cleared")
        )
        return tr(
            "{owner} offers you the device {device}: once you accept, it moves to your account "
            "and {owner} loses access; {history}."
        ).format(owner=transfer.from_user, device=transfer.device_id, history=history)

    def _accept(self, kind: str, item_id: str) -> None:
        self.dashboard.tasks.spawn(self._answer(kind, item_id, accept=True))

    def _decline(self, kind: str, item_id: str) -> None:
        self.dashboard.tasks.spawn(self._answer(kind, item_id, accept=False))

    async def _answer(self, kind: str, item_id: str, *, accept: bool) -> None:
        state, inbox = self._people(), self.inbox
        if state is None or inbox is None:
            return
        client, tr = state.client, self.tr
        inbox.set_busy(True)
        try:
            if kind == "share" and accept:
                share = await client.accept_share(item_id)
                text = tr("You now have access to the pools {owner} shared with you.").format(
                    owner=share.owner
                )
            elif kind == "share":
                await client.end_share(item_id)
                text = tr("Invitation declined.")
            elif accept:
                transfer = await client.accept_transfer(item_id)
                text = tr("{device} is moving to your account.").format(device=transfer.device_id)
            else:
                await client.cancel_transfer(item_id)
                text = tr("Device declined; it stays with its owner.")
        except ApiError as exc:
            if self.inbox is inbox:
                inbox.message.show_error(fmt.core_message(exc.failure))
            return
        finally:
            if self.inbox is inbox:
                inbox.set_busy(False)
        if self.inbox is inbox:
            inbox.message.show_info(text)
        await self.dashboard.reload_devices(background=True)

    # -- People of one device ----------------------------------------------------------------
    def _roles(self) -> list[tuple[str, str]]:
        return [("operator", self.tr("Operator")), ("viewer", self.tr("Viewer"))]

    def open_people(self, key: str) -> None:
        view = self.people_views.get(key)
        device = self.dashboard.store.devices.get(key)
        if view is None and device is not None:
            view = PeopleView(
                self.tr("People · {name}").format(name=device.name),
                self._roles(),
                self.dashboard.view.window(),
            )
            self.people_views[key] = view
            view.invite_requested.connect(lambda n, r, a: self._invite(key, n, r, a))
            view.end_requested.connect(lambda share_id: self._ask_end(key, share_id))
            view.role_changed.connect(lambda share_id, role: self._change_role(key, share_id, role))
            view.transfer_requested.connect(lambda n, h: self._ask_transfer(key, n, h))
            view.cancel_transfer_requested.connect(lambda t: self._cancel_transfer(key, t))
            view.closed.connect(lambda: self._people_closed(key, view))
            view.role.currentIndexChanged.connect(lambda _i: self._role_help(view))
            self._role_help(view)
            self._show_people(key)
            view.show()
            self.refresh()
        if view is not None:
            view.raise_()
            view.activateWindow()

    def _role_help(self, view: PeopleView) -> None:
        view.role_help.setText(
            self.tr("An operator sees everything, switches the pump and edits schedules. Only "
                    "you can rename, remove, share or hand over the device.")
            if view.role.currentData() == "operator"
            else self.tr("A viewer sees the pump, the water and the history, and cannot switch "
                         "or change anything.")
        )  # fmt: skip

    def _people_closed(self, key: str, view: PeopleView) -> None:
        if self.people_views.get(key) is view:
            del self.people_views[key]
        view.deleteLater()

    def _show_people(self, key: str) -> None:
        view = self.people_views.get(key)
        device = self.dashboard.store.devices.get(key)
        if view is None or device is None:
            return
        tr, rows = self.tr, []
        for access in self.state.access(device.device_id) if self.state else []:
            role = fmt.role_name(access.role)
            if access.pending:
                detail = tr("{role} · invited {when}, not accepted yet").format(
                    role=role, when=fmt.ago(access.since)
                )
            else:
                detail = tr("{role} · since {when}").format(role=role, when=fmt.when(access.since))
            if access.all_devices:
                detail += " · " + tr("all your devices")
            rows.append(AccessRow(access.share_id, access.member, detail, access.role))
        view.show_access(rows)
        transfer = self.state.open_transfer(device.device_id) if self.state else None
        if transfer is not None:
            view.show_transfer(self.transfer_text(transfer), transfer.id)
        else:
            view.show_transfer(self._last_failure(device.device_id))

    def _last_failure(self, device_id: str) -> str:
        """A hand-over of this device that failed, said until a new one starts."""
        if self.state is None:
            return ""
        failed = [
            t for t in self.state.outgoing
            if t.device_id.upper() == device_id.upper() and t.status == "failed"
        ]  # fmt: skip
        if not failed:
            return ""
        latest = max(failed, key=lambda t: t.updated_at or datetime.min.replace(tzinfo=UTC))
        return self.transfer_text(latest)

    def _view_for(self, key: str) -> PeopleView | None:
        return self.people_views.get(key)

    def _invite(self, key: str, username: str, role: str, all_devices: bool) -> None:
        device = self.dashboard.store.devices.get(key)
        if device is None:
            return

        async def invite() -> None:
            state, view = self._people(), self._view_for(key)
            if state is None or view is None:
                return
            view.set_busy(True)
            try:
                await state.client.invite(username, role, None if all_devices else device.device_id)
            except ApiError as exc:
                view.message.show_error(fmt.core_message(exc.failure))
                return
            finally:
                view.set_busy(False)
            view.username.clear()
            view.message.show_info(
                self.tr("Invitation sent. {name} sees it in their inbox and accepts it there.")
                .format(name=username)
            )  # fmt: skip
            await self._refresh()

        self.dashboard.tasks.spawn(invite())

    def _ask_end(self, key: str, share_id: str) -> None:
        device = self.dashboard.store.devices.get(key)
        access = next(
            (a for a in (self.state.access(device.device_id) if self.state and device else [])
             if a.share_id == share_id),
            None,
        )  # fmt: skip
        if device is None or access is None:
            return
        text = (
            self.tr("{name} loses access to all your devices at once, live connections included.")
            if access.all_devices
            else self.tr("{name} loses access to {device} at once, live connections included.")
        ).format(name=access.member, device=device.name)
        dialog = ConfirmDialog(
            self.tr("End access?"), text, self.tr("End access"), self._view_for(key)
        )
        dialog.accepted.connect(lambda: self.dashboard.tasks.spawn(self._end(key, share_id)))
        self.dialog = dialog
        dialog.open()

    async def _end(self, key: str, share_id: str) -> None:
        state, view = self._people(), self._view_for(key)
        if state is None:
            return
        try:
            await state.client.end_share(share_id)
        except ApiError as exc:
            if view is not None:
                view.message.show_error(fmt.core_message(exc.failure))
            return
        if view is not None:
            view.message.show_info(self.tr("Access ended."))
        await self._refresh()

    def _change_role(self, key: str, share_id: str, role: str) -> None:
        async def change() -> None:
            state, view = self._people(), self._view_for(key)
            if state is None:
                return
            try:
                share = await state.client.change_share_role(share_id, role)
            except ApiError as exc:
                if view is not None:
                    view.message.show_error(fmt.core_message(exc.failure))
            else:
                if view is not None:
                    view.message.show_info(
                        self.tr("{name} is now {role}.").format(
                            name=share.member, role=fmt.role_name(share.role)
                        )
                    )
            await self._refresh()  # shows the role the server keeps, also after a refusal

        self.dashboard.tasks.spawn(change())

    # -- hand-over ---------------------------------------------------------------------------
    def transfer_text(self, transfer: Transfer) -> str:
        """A hand-over's state, as its sender or receiver reads it."""
        tr = self.tr
        me = self.state.me if self.state else ""
        stage = transfer_stage(transfer, me)
        mine = transfer.from_user == me
        device, to = transfer.device_id, transfer.to_user
        if stage is TransferStage.OFFERED_BY_ME:
            return tr("Offered to {to}: waiting for {to} to accept.").format(to=to)
        if stage is TransferStage.OFFERED_TO_ME:
            return self._offer_text(transfer)
        if stage is TransferStage.WAITING_FOR_DEVICE:
            return (
                tr("Moving to {to}: waiting for the controller to come online.").format(to=to)
                if mine
                else tr("{device} is moving to you: waiting for the controller to come online.")
                .format(device=device)
            )  # fmt: skip
        if stage is TransferStage.MOVING:
            return (
                tr("Moving to {to}: the controller is taking its new owner's settings.").format(
                    to=to
                )
                if mine
                else tr("{device} is moving to you: the controller is taking its new settings.")
                .format(device=device)
            )  # fmt: skip
        if stage is TransferStage.DONE:
            return tr("{device} now belongs to {to}.").format(device=device, to=to)
        if stage is TransferStage.CANCELLED:
            return tr("The hand-over of {device} was cancelled.").format(device=device)
        reasons = {
            "invalid": tr("the controller found its new settings invalid"),
            "refused": tr("the broker refused the controller's new login"),
        }
        reason = reasons.get(transfer.reason or "", transfer.reason or tr("no reason given"))
        return tr("The hand-over to {to} failed ({reason}); the device stays yours.").format(
            to=to, reason=reason
        )

    def transfer_line(self, device_id: str) -> str:
        """The card's line while its device is being handed over ("" otherwise)."""
        transfer = self.state.open_transfer(device_id) if self.state else None
        return self.transfer_text(transfer) if transfer is not None else ""

    def _ask_transfer(self, key: str, username: str, history: str) -> None:
        device = self.dashboard.store.devices.get(key)
        if device is None:
            return
        kept = (
            self.tr("Its history goes with it.")
            if history == "keep"
            else self.tr("Its history is deleted.")
        )
        dialog = ConfirmDialog(
            self.tr("Hand over {name}?").format(name=device.name),
            self.tr(
                "Once {to} accepts, {name} moves to their account: you and everyone you shared it "
                "with lose access, and it leaves your dashboard. {history}"
            ).format(to=username, name=device.name, history=kept),
            self.tr("Offer to {to}").format(to=username),
            self._view_for(key),
        )
        dialog.accepted.connect(
            lambda: self.dashboard.tasks.spawn(self._offer(key, username, history))
        )
        self.dialog = dialog
        dialog.open()

    async def _offer(self, key: str, username: str, history: str) -> None:
        state, view = self._people(), self._view_for(key)
        device = self.dashboard.store.devices.get(key)
        if state is None or device is None:
            return
        if view is not None:
            view.set_busy(True)
        try:
            await state.client.offer_transfer(device.device_id, username, history)
        except ApiError as exc:
            if view is not None:
                view.message.show_error(fmt.core_message(exc.failure))
            return
        finally:
            if view is not None:
                view.set_busy(False)
        if view is not None:
            view.new_owner.clear()
            view.message.clear_message()
        await self._refresh()

    def _cancel_transfer(self, key: str, transfer_id: str) -> None:
        async def cancel() -> None:
            state, view = self._people(), self._view_for(key)
            if state is None:
                return
            try:
                await state.client.cancel_transfer(transfer_id)
            except ApiError as exc:
                if view is not None:
                    view.message.show_error(fmt.core_message(exc.failure))
            else:
                if view is not None:
                    view.message.show_info(self.tr("Hand-over cancelled; the device stays yours."))
            await self._refresh()

        self.dashboard.tasks.spawn(cancel())

    # -- leaving a shared device -----------------------------------------------------------------
    def _share_of(self, key: str) -> Share | None:
        device = self.dashboard.store.devices.get(key)
        if device is None or self.state is None:
            return None
        candidates = [
            s for s in self.state.received
            if s.status == "active" and s.owner == device.owner
            and (s.device_id is None or s.device_id.upper() == device.device_id.upper())
        ]  # fmt: skip
        # The share of this device alone first: leaving it keeps a wider one's other devices.
        candidates.sort(key=lambda s: s.device_id is None)
        return candidates[0] if candidates else None

    def ask_leave(self, key: str) -> None:
        self.dashboard.tasks.spawn(self._ask_leave(key))

    async def _ask_leave(self, key: str) -> None:
        if self._share_of(key) is None:
            await self._refresh()
        share, device = self._share_of(key), self.dashboard.store.devices.get(key)
        if device is None:
            return
        if share is None:
            self.dashboard.view.notice.show_error(
                self.tr("The share of {name} was not found; it may have ended already.").format(
                    name=device.name
                )
            )
            await self.dashboard.reload_devices(background=True)
            return
        text = (
            self.tr("You lose access to every pool {owner} shared with you. {owner} can invite you "
                    "again.")
            if share.device_id is None
            else self.tr("You lose access to {name}. {owner} can invite you again.")
        ).format(owner=share.owner, name=device.name)  # fmt: skip
        dialog = ConfirmDialog(
            self.tr("Stop using {name}?").format(name=device.name),
            text,
            self.tr("Stop using it"),
            self.dashboard.view,
        )
        dialog.accepted.connect(lambda: self.dashboard.tasks.spawn(self._leave(share)))
        self.dialog = dialog
        dialog.open()

    async def _leave(self, share: Share) -> None:
        state = self._people()
        if state is None:
            return
        try:
            await state.client.end_share(share.id)
        except ApiError as exc:
            self.dashboard.view.notice.show_error(fmt.core_message(exc.failure))
            return
        self.dashboard.view.notice.show_info(self.tr("Access ended."))
        await self.dashboard.reload_devices(background=True)

    # -- installer set-up codes --------------------------------------------------------------
    def open_setup_codes(self) -> None:
        if self.setup_view is None:
            view = SetupCodeView(self.tr("Installer set-up code"), self.dashboard.view.window())
            self.setup_view = view
            view.create_requested.connect(
                lambda: self.dashboard.tasks.spawn(self._create_code(view))
            )
            view.withdraw_requested.connect(
                lambda code_id: self.dashboard.tasks.spawn(self._withdraw(view, code_id))
            )
            view.closed.connect(lambda: self._setup_closed(view))
            view.show()
            self.dashboard.tasks.spawn(self._load_codes(view))
        self.setup_view.raise_()
        self.setup_view.activateWindow()

    def _setup_closed(self, view: SetupCodeView) -> None:
        if self.setup_view is view:
            self.setup_view = None
            self.setup_code = None
            self._expiry.stop()
        view.deleteLater()

    async def _create_code(self, view: SetupCodeView) -> None:
        state = self._people()
        if state is None:
            return
        view.set_busy(True)
        try:
            code = await state.client.create_setup_code()
        except ApiError as exc:
            view.message.show_error(fmt.core_message(exc.failure))
            return
        finally:
            view.set_busy(False)
        if self.setup_view is not view:
            return
        self.setup_code = code
        view.message.clear_message()
        view.show_code(setup_codes.grouped(code.code), setup_codes.qr_modules(
            setup_codes.qr_text(code.code)))  # fmt: skip
        view.read_out.setText(
            self.tr("Read it out to the installer or let them scan the QR code. PoolDesk shows "
                    "it only now: close this window and it cannot be shown again.")
        )  # fmt: skip
        left = setup_codes.seconds_left(code.expires_at, datetime.now(UTC))
        self._expiry.start(left, lambda s: self._show_expiry(view, s), lambda: self._expired(view))
        await self._load_codes(view)

    def _show_expiry(self, view: SetupCodeView, seconds: int) -> None:
        minutes, rest = divmod(seconds, 60)
        view.show_expiry(
            self.tr("Valid for {m}:{s:02d} more (until {time}), once.").format(
                m=minutes,
                s=rest,
                time=fmt.clock(self.setup_code.expires_at if self.setup_code else None),
            ),
            expired=False,
        )

    def _expired(self, view: SetupCodeView) -> None:
        view.show_expiry(
            self.tr("This code has expired. Create a new one if the installer still needs one."),
            expired=True,
        )
        self.dashboard.tasks.spawn(self._load_codes(view))

    async def _load_codes(self, view: SetupCodeView) -> None:
        state = self._people()
        if state is None:
            return
        try:
            codes = await state.client.setup_codes()
        except ApiError as exc:
            view.message.show_error(fmt.core_message(exc.failure))
            return
        if self.setup_view is not view:
            return
        shown = self.setup_code.id if self.setup_code else ""
        rows = [
            (
                c.id,
                (self.tr("This code, valid until {time}") if c.id == shown
                 else self.tr("An earlier code, valid until {time}")).format(
                    time=fmt.clock(c.expires_at)),
                self.tr("Withdraw"),
            )
            for c in sorted(codes, key=lambda c: c.expires_at or datetime.max.replace(tzinfo=UTC))
        ]  # fmt: skip
        view.show_live(self.tr("Unused codes (an installer can still use them):"), rows)

    async def _withdraw(self, view: SetupCodeView, code_id: str) -> None:
        state = self._people()
        if state is None:
            return
        try:
            await state.client.delete_setup_code(code_id)
        except ApiError as exc:
            view.message.show_error(fmt.core_message(exc.failure))
            return
        if self.setup_code is not None and self.setup_code.id == code_id:
            self._expiry.stop()
            view.show_expiry(self.tr("Withdrawn: this code no longer works."), expired=True)
        view.message.show_info(self.tr("The code was withdrawn."))
        await self._load_codes(view)
