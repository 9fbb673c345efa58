"""The "Add device" / "Change Wi-Fi" wizard: drives `core.provisioning_flow` and words it all.

Pages: scan (progress, nearby controllers, already set up ones marked) → claim (Identify, claim
code or QR text) → Wi-Fi (the controller's own scan, "Other network…", password, name) →
progress (live status; each failure with what to do and the button that does it) → done.
Cancel (or closing the window) at any point runs `ProvisioningFlow.cancel()`.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QPushButton, QWidget

from pooldesk.core import setup_codes
from pooldesk.core.backend_client import ApiError
from pooldesk.core.bluetooth_problems import classify as classify_bluetooth_problem
from pooldesk.core.devices import DeviceStore
from pooldesk.core.provisioning_flow import (
    FlowCancelled,
    NextStep,
    Outcome,
    Progress,
    ProvisioningFlow,
    Step,
    backend_online_check,
)
from pooldesk.core.session import Session
from pooldesk.core.validation import wifi_choice_error
from pooldesk.provisioning import (
    InvalidClaimCode,
    LinkError,
    ProvisioningError,
    RetryLater,
    WrongClaimCode,
    parse_claim_code,
)
from pooldesk.ui import format as fmt
from pooldesk.ui.countdown import show_refusal
from pooldesk.ui.tasks import TaskGroup
from pooldesk.ui.views.common import MUTED_STYLE
from pooldesk.ui.wizard.view import OTHER_NETWORK, WizardView
from pooldesk_contract.refusals import Reason

log = logging.getLogger(__name__)

LINES = ("register", "send", "wifi", "server", "online")
_FAILED_LINE = {
    "wifi_auth": "wifi", "wifi_not_found": "wifi", "no_ip": "wifi",
    "broker_unreachable": "server", "broker_auth": "server", "not_online": "online",
}  # fmt: skip


class WizardController(QObject):
    devices_changed = Signal()  # a device was added to (or removed from) the account
    finished = Signal(bool, str)  # online?, a message for the dashboard ("" if none)

    def __init__(
        self,
        session: Session,
        parent: QWidget | None = None,
        *,
        store: DeviceStore | None = None,
        change_wifi_for: str | None = None,
        scan_seconds: float = 3.0,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.store = store
        self.target = change_wifi_for.upper() if change_wifi_for else None
        self.scan_seconds = scan_seconds
        title = (
            self.tr("Change Wi-Fi of {id}").format(id=self.target)
            if self.target
            else self.tr("Add device")
        )
        self.view = WizardView(title, parent)
        self.tasks = TaskGroup()
        self.flow = ProvisioningFlow(
            session.client,
            session.user.username if session.user else "",
            on_progress=self._progress,
            online_check=self._online,
        )
        self._backend_online = backend_online_check(session.client)
        self.found: dict[str, Any] = {}
        self._lines: dict[str, str] = {}
        self._ip: str | None = None
        self._last_attempt: tuple[str, str, str] | None = None
        self._password_for: str | None = None  # the network the typed password is for
        self._ending = False  # cancel or finish started: no new steps
        self._closed = False  # the window is closing for good: finished() was (being) emitted
        self._word_static_texts()
        self._connect_signals()

    # -- set-up -------------------------------------------------------------------------------
    def _word_static_texts(self) -> None:
        tr, v = self.tr, self.view
        s, c, w, p, d = v.scan_page, v.claim_page, v.wifi_page, v.progress_page, v.done_page
        s.heading.setText(tr("Pool controllers nearby"))
        s.note.setText(
            tr("Keep this computer within a few metres of the controller. Controllers that are "
               "already set up are marked.")
        )  # fmt: skip
        s.rescan.setText(tr("Rescan"))
        if self.target:
            s.heading.setText(tr("Find {id}").format(id=self.target))
            s.note.setText(
                tr("Stand next to the controller with this computer. Once a controller is online "
                   "its Bluetooth is off, so wake it first:")
            )  # fmt: skip
            s.wake_step.setText(
                tr("<b>1.</b> Press the controller's button briefly: 1 to 5 seconds (holding it "
                   "longer resets the controller). Its Bluetooth stays on for 10 minutes.<br>"
                   "<b>2.</b> Click <b>Rescan</b>.")
            )  # fmt: skip
            s.wake_step.show()
        s.next.setText(tr("Use this controller"))
        c.identify_note.setText(tr("Not sure it is the right unit? Make its light blink."))
        c.identify.setText(tr("Identify (blink)"))
        c.claim_label.setText(
            tr("Claim code from the label (like KQ4M-7XTZ-2PB6-WRHD), or the text of its QR code:")
        )
        c.for_someone.setText(tr("I am installing it for someone else (their set-up code)"))
        c.setup_note.setText(
            tr("The owner creates a set-up code in their PoolDesk (“Add device” ▾ → “Installer "
               "code…”). The controller goes to their account; you keep no access to it "
               "afterwards.")
        )  # fmt: skip
        c.setup_code.setPlaceholderText(tr("XXXX-XXXX-XXXX"))  # the shape of a set-up code
        c.for_someone.setVisible(self.target is None)
        c.back.setText(tr("Back to the list"))
        c.open.setText(tr("Connect securely"))
        w.heading.setText(tr("Wi-Fi at the pool"))
        w.note.setText(tr("Networks the controller hears where it stands:"))
        w.other_label.setText(tr("Network name:"))
        w.password_label.setText(tr("Wi-Fi password:"))
        w.name_label.setText(tr("Name for this controller (optional):"))
        w.rescan.setText(tr("Rescan networks"))
        w.connect_button.setText(tr("Connect"))
        name_shown = self.target is None
        w.name_label.setVisible(name_shown)
        w.name.setVisible(name_shown)
        p.password_again.setText(tr("Enter the password again"))
        p.rescan.setText(tr("Rescan networks"))
        p.retry.setText(tr("Retry"))
        d.finish.setText(tr("Finish"))
        v.cancel.setText(tr("Cancel"))

    def _connect_signals(self) -> None:
        v = self.view
        v.cancel_requested.connect(self.cancel)
        v.scan_page.rescan.clicked.connect(self.scan)
        v.scan_page.next.clicked.connect(self._pick_current)
        v.scan_page.devices.itemDoubleClicked.connect(lambda _item: self._pick_current())
        v.claim_page.identify.clicked.connect(lambda: self._spawn(self._identify()))
        v.claim_page.claim.textChanged.connect(self._check_claim)
        v.claim_page.claim.returnPressed.connect(self._submit_claim)
        v.claim_page.setup_code.textChanged.connect(self._check_setup_code)
        v.claim_page.setup_code.returnPressed.connect(self._submit_claim)
        v.claim_page.open.clicked.connect(self._submit_claim)
        v.claim_page.back.clicked.connect(self._back_to_list)
        v.wifi_page.networks.currentItemChanged.connect(self._network_changed)
        v.wifi_page.password.textChanged.connect(self._password_typed)
        v.wifi_page.rescan.clicked.connect(lambda: self._spawn(self._scan_wifi()))
        v.wifi_page.connect_button.clicked.connect(self._submit_wifi)
        v.wifi_page.password.returnPressed.connect(self._submit_wifi)
        v.progress_page.password_again.clicked.connect(self._password_again)
        v.progress_page.rescan.clicked.connect(self._rescan_after_failure)
        v.progress_page.retry.clicked.connect(self._retry)
        v.done_page.finish.clicked.connect(lambda: self._spawn(self._finish()))

    def start(self) -> None:
        self.view.show()
        self.scan()

    def raise_(self) -> None:
        self.view.raise_()
        self.view.activateWindow()

    # -- step 1: Bluetooth scan ---------------------------------------------------------------
    def scan(self) -> None:
        self._spawn(self._scan())

    async def _scan(self) -> None:
        page = self.view.scan_page
        self.view.show_page(page)
        self.found.clear()
        page.devices.clear()
        page.progress.setValue(0)
        page.rescan.setEnabled(False)
        page.next.setEnabled(False)
        self.view.message.show_info(self.tr("Looking for pool controllers…"))
        try:
            controllers = await self.flow.scan(self.scan_seconds, wanted=self.target)
        finally:
            page.rescan.setEnabled(True)
        if self.target:
            controllers = [c for c in controllers if c.device_id == self.target]
        picked = self.flow.controller
        if (
            picked is not None
            and self.flow.client is not None
            and picked.device_id not in {c.device_id for c in controllers}
        ):
            # Connected to us, it does not advertise: still nearby, still listed.
            controllers.append(picked)
        self.found = {c.device_id: c for c in controllers}
        self._show_found()
        page.next.setEnabled(bool(controllers))
        if controllers:
            self.view.message.clear_message()
        elif self.target:
            self.view.message.show_error(
                self.tr("{id} was not heard. Press its button briefly (1 to 5 seconds) so its "
                        "Bluetooth comes on, check it has power and stand next to it, then click "
                        "Rescan.").format(id=self.target)
            )  # fmt: skip
        else:
            self.view.message.show_error(
                self.tr("No pool controller was heard. Check the controller has power and that "
                        "you are within a few metres of it, then rescan.")
            )  # fmt: skip

    def _back_to_list(self) -> None:
        """The list as it was (a controller we are connected to does not advertise, so a
        rescan would lose it); Rescan is there for a fresh one."""
        page = self.view.scan_page
        self.view.message.clear_message()
        self.view.show_page(page)
        self._show_found()
        page.next.setEnabled(bool(self.found))
        page.rescan.setEnabled(True)
        page.devices.setFocus()

    def _controller_text(self, controller: Any) -> str:
        text = self.tr("{id} · signal {rssi} dBm").format(
            id=controller.device_id, rssi=controller.rssi
        )
        if controller.name and controller.name.upper() != controller.device_id:
            text = f"{controller.name} · {text}"
        if controller.bound:
            text += " · " + self.tr("already set up")
        return text

    def _show_found(self) -> None:
        page = self.view.scan_page
        current = page.devices.currentItem()
        keep = current.data(Qt.ItemDataRole.UserRole) if current else None
        items = [(self._controller_text(c), c.device_id) for c in self.found.values()]
        self.view.fill(page.devices, items, keep)

    def _pick_current(self) -> None:
        item = self.view.scan_page.devices.currentItem()
        if item is None or self.flow.step is Step.SCANNING:
            return
        controller = self.found.get(item.data(Qt.ItemDataRole.UserRole))
        if controller is not None:
            self._spawn(self._select(controller))

    # -- step 2/3: identify, claim code ---------------------------------------------------------
    async def _select(self, controller: Any) -> None:
        self.view.scan_page.next.setEnabled(False)
        self.view.message.show_info(
            self.tr("Connecting to {id} over Bluetooth…").format(id=controller.device_id)
        )
        try:
            info = await self.flow.select(controller)
        finally:
            self.view.scan_page.next.setEnabled(True)
        page = self.view.claim_page
        page.heading.setText(
            self.tr("{id} (firmware {fw})").format(id=info.device_id, fw=info.firmware_version)
        )
        page.claim.clear()
        page.hint.set_problem(None)
        self.view.message.clear_message()
        if self.target is None and info.bound:
            self.view.message.show_info(
                self.tr("This controller is already set up. Continuing replaces its settings; to "
                        "change only its Wi-Fi use “Change Wi-Fi…” on its card.")
            )  # fmt: skip
        self.view.show_page(page)
        page.claim.setFocus()

    async def _identify(self) -> None:
        await self.flow.identify(5)
        self.view.message.show_info(
            self.tr("{id} is blinking its light for 5 seconds.").format(id=self.flow.device_id)
        )

    def _check_claim(self, text: str) -> None:
        problem = None
        if text.strip():
            try:
                parse_claim_code(text, expected_device_id=self.flow.device_id)
            except InvalidClaimCode as exc:
                problem = fmt.core_message(exc.failure or str(exc))
        self.view.claim_page.hint.set_problem(problem)

    def _setup_code_problem(self, text: str) -> str | None:
        try:
            setup_codes.normalize(text)
        except setup_codes.InvalidSetupCode as exc:
            return fmt.core_message(exc.failure)
        return None

    def _check_setup_code(self, text: str) -> None:
        problem = self._setup_code_problem(text) if text.strip() else None
        self.view.claim_page.setup_hint.set_problem(problem)

    def _submit_claim(self) -> None:
        page = self.view.claim_page
        text = page.claim.text()
        if not text.strip() or self.tasks.busy:
            return
        setup_code = None
        if page.for_someone.isChecked():
            setup_code = page.setup_code.text()
            problem = self._setup_code_problem(setup_code)
            page.setup_hint.set_problem(problem)
            if problem:
                page.setup_code.setFocus()
                return
        self._spawn(self._open_session(text, setup_code))

    async def _open_session(self, claim_code: str, setup_code: str | None = None) -> None:
        page = self.view.claim_page
        page.open.setEnabled(False)
        self.view.message.show_info(self.tr("Opening a secure session…"))
        try:
            await self.flow.open_session(claim_code, setup_code=setup_code)
        except WrongClaimCode as exc:
            text = self.tr(
                "The claim code does not match this controller. Check the label on the "
                "controller and enter the code again."
            )
            if exc.retry_after > 0:
                text += " " + self.tr("You can try again in {s} s.").format(
                    s=round(exc.retry_after)
                )
            self.view.message.show_error(text)
            page.claim.selectAll()
            page.claim.setFocus()
            return
        except RetryLater as exc:
            self.view.message.show_error(
                self.tr("Too many wrong claim codes were tried. Wait {s} s, then enter the code "
                        "again.").format(s=max(1, round(exc.retry_after)))
            )  # fmt: skip
            return
        finally:
            page.open.setEnabled(True)
        self.view.message.clear_message()
        # An installer does not name the owner's controller (the set-up grant allows no rename).
        named = self.target is None and self.flow.setup_code is None
        self.view.wifi_page.name_label.setVisible(named)
        self.view.wifi_page.name.setVisible(named)
        await self._scan_wifi()

    # -- step 4/5: the controller's Wi-Fi scan, password -----------------------------------------
    async def _scan_wifi(self) -> None:
        page = self.view.wifi_page
        self.view.show_page(page)
        page.rescan.setEnabled(False)
        page.connect_button.setEnabled(False)
        self.view.message.show_info(self.tr("The controller is looking for Wi-Fi networks…"))
        try:
            networks = await self.flow.scan_wifi()
        finally:
            page.rescan.setEnabled(True)
            page.connect_button.setEnabled(True)
        security = {"open": self.tr("open")}
        keep = self._last_attempt[0] if self._last_attempt else None
        items = [
            (
                self.tr("{ssid} · signal {rssi} dBm · {security}").format(
                    ssid=n.ssid, rssi=n.rssi, security=security.get(n.security, n.security.upper())
                ),
                n.ssid,
            )
            for n in networks
        ]
        items.append((self.tr("Other network…"), OTHER_NETWORK))
        self.view.fill(page.networks, items, keep)
        if networks:
            self.view.message.clear_message()
        else:
            self.view.message.show_error(
                self.tr("The controller hears no network. Move it closer to the router, or enter "
                        "the network's name under “Other network…”.")
            )  # fmt: skip
        page.password.setFocus()

    def _password_typed(self, _text: str) -> None:
        self._password_for = self.view.wifi_page.chosen_ssid()

    def _network_changed(self, *_items: Any) -> None:
        """A password belongs to its network: choosing another one empties the field."""
        page = self.view.wifi_page
        if page.networks.currentItem() is None:
            return  # the list is being refilled (a rescan), not a choice
        if page.password.text() and page.chosen_ssid() != self._password_for:
            page.password.clear()

    def _password_problem(self, ssid: str, password: str) -> str | None:
        network = next((n for n in self.flow.networks if n.ssid == ssid), None)
        problem = wifi_choice_error(ssid, password, None if network is None else network.is_open)
        return fmt.core_message(problem) if problem else None

    def _submit_wifi(self) -> None:
        page = self.view.wifi_page
        ssid, password, name = page.chosen_ssid(), page.password.text(), page.name.text().strip()
        problem = self._password_problem(ssid, password)
        page.hint.set_problem(problem)
        if problem is None and not self.tasks.busy:
            self._spawn(self._connect(ssid, password, name))

    # -- step 6/7: live status until online ----------------------------------------------------
    async def _connect(self, ssid: str, password: str, name: str) -> None:
        self._last_attempt = (ssid, password, name)
        page = self.view.progress_page
        for button in (page.password_again, page.rescan, page.retry):
            button.hide()
        page.advice.clear_message()
        self._lines = {key: "todo" for key in self._line_keys()}
        self._ip = None
        page.heading.setText(self.tr("Setting up {id} on “{ssid}”").format(
            id=self.flow.device_id, ssid=ssid))  # fmt: skip
        self._show_lines()
        self.view.show_page(page)
        self.view.message.clear_message()
        if self.target:
            outcome = await self.flow.change_wifi(ssid, password)
        else:
            outcome = await self.flow.connect(ssid, password, name=name or None)
        if outcome.online:
            self._done()
        else:
            self._failed(outcome)

    def _line_keys(self) -> tuple[str, ...]:
        return LINES[1:] if self.target else LINES

    def _progress(self, progress: Progress) -> None:
        """Every progress report of the flow (runs on the loop, synchronously)."""
        step = progress.step
        if step is Step.SCANNING:
            if progress.fraction is not None:
                self.view.scan_page.progress.setValue(round(progress.fraction * 100))
            if progress.found is not None:
                self.found[progress.found.device_id] = progress.found
                if self.target is None or progress.found.device_id == self.target:
                    self._show_found()
            return
        self.view.set_busy(
            step in (Step.SCANNING, Step.CONNECTING_BLE, Step.OPENING_SESSION, Step.WIFI_SCAN,
                     Step.REGISTERING, Step.CREDENTIALS, Step.SENDING, Step.CONNECTING,
                     Step.WAITING_ONLINE)
        )  # fmt: skip
        if not self._lines:
            return
        if step in (Step.REGISTERING, Step.CREDENTIALS):
            self._mark("register", "active")
        elif step is Step.SENDING:
            self._mark("register", "done")
            self._mark("send", "active")
        elif step is Step.CONNECTING and progress.status is not None:
            self._status(progress.status.state, progress.status.ip)
        elif step is Step.WAITING_ONLINE:
            for key in ("register", "send", "wifi", "server"):
                self._mark(key, "done")
            self._mark("online", "active")
        elif step is Step.ONLINE:
            self._mark("online", "done")
        elif step is Step.FAILED and progress.outcome is not None:
            reason = progress.outcome.reason or ""
            failed = _FAILED_LINE.get(reason) or next(
                (k for k in self._line_keys() if self._lines.get(k) == "active"), "send"
            )
            self._mark(failed, "failed")
        self._show_lines()

    def _status(self, state: str, ip: str | None) -> None:
        if state == "connecting":
            self._mark("register", "done")
            self._mark("send", "done")
            self._mark("wifi", "active")
            self._mark("server", "todo")
        elif state == "wifi_connected":
            self._ip = ip or self._ip
            self._mark("send", "done")
            self._mark("wifi", "done")
            self._mark("server", "active")
        elif state == "mqtt_connected":
            self._mark("server", "done")

    def _mark(self, key: str, state: str) -> None:
        if key in self._lines:
            self._lines[key] = state

    def _show_lines(self) -> None:
        tr = self.tr
        words = {
            "register": tr("Add the controller to the account of {owner}").format(
                owner=self.flow.owner
            )
            if self.flow.owner
            else tr("Add the controller to your account"),
            "send": tr("Send the settings to the controller"),
            "wifi": tr("Connect to Wi-Fi"),
            "server": tr("Connect to the PoolDesk server"),
            "online": tr("Online on your dashboard"),
        }
        if self._ip and self._lines.get("wifi") == "done":
            words["wifi"] = tr("Connected to Wi-Fi (address {ip})").format(ip=self._ip)
        marks = {
            "todo": f"<span style='{MUTED_STYLE}'>○ {{text}}</span>",
            "active": "<b>… {text}</b>",
            "done": "<span style='color:#1b6e3a'>✓</span> {text}",
            "failed": "<span style='color:#b3261e'>✗ {text}</span>",
        }
        self.view.progress_page.show_lines(
            [marks[self._lines[k]].format(text=words[k]) for k in self._line_keys()]
        )

    def advice(self, outcome: Outcome) -> str:
        tr = self.tr
        return {
            "wifi_auth": tr("The Wi-Fi password is wrong. Enter it again."),
            "wifi_not_found": tr(
                "The controller cannot hear that network. Move it closer to the router, or "
                "rescan and pick another network."
            ),
            "no_ip": tr(
                "The network gave the controller no address. Check the router's DHCP, then retry."
            ),
            "broker_unreachable": tr(
                "The controller cannot reach the PoolDesk server. Check that this network has "
                "internet access, then retry."
            ),
            "broker_auth": tr(
                "The server refused the controller's login, even with fresh credentials. Retry; "
                "if it keeps failing, ask whoever runs the server."
            ),
            "timeout": tr(
                "The controller reported no result in time. Check it has power and is in "
                "range, then retry."
            ),
            "not_online": tr(
                "The controller connected, but the server did not see it come online. Retry."
            ),
        }.get(outcome.reason or "", tr("Setting up failed. Retry."))

    def _failed(self, outcome: Outcome) -> None:
        page = self.view.progress_page
        page.advice.show_error(self.advice(outcome))
        buttons: dict[NextStep | None, QPushButton] = {
            NextStep.PASSWORD: page.password_again,
            NextStep.RESCAN: page.rescan,
        }
        button = buttons.get(outcome.next_step, page.retry)
        button.show()
        button.setFocus()

    def _password_again(self) -> None:
        page = self.view.wifi_page
        self.view.show_page(page)
        page.password.clear()
        page.password.setFocus()
        self.view.message.show_error(self.tr("Enter the Wi-Fi password again."))

    def _rescan_after_failure(self) -> None:
        self._spawn(self._scan_wifi())

    def _retry(self) -> None:
        if self._last_attempt is not None and not self.tasks.busy:
            self._spawn(self._connect(*self._last_attempt))

    def _done(self) -> None:
        page = self.view.done_page
        page.heading.setText(self.tr("{id} is online").format(id=self.flow.device_id))
        if self.flow.owner:
            note = self.tr(
                "It now reports to the dashboard of {owner}, who sees in their log that you set "
                "it up. Your access to it ends when you press Finish."
            ).format(owner=self.flow.owner)
        elif self.target is None:
            note = self.tr("It now reports to your dashboard. You can close this window.")
        else:
            note = self.tr("It is back online on the new network; its setup is unchanged.")
        page.note.setText(note)
        self.view.show_page(page)
        self.devices_changed.emit()

    async def _finish(self) -> None:
        if self._closed:
            return
        self._ending = self._closed = True
        await self.flow.close()
        self.finished.emit(True, "")
        self._dispose()

    # -- cancel ------------------------------------------------------------------------------------
    def cancel(self) -> None:
        if self.flow.completed:
            self.tasks.spawn(self._finish())
        elif not self._ending:
            self._ending = True
            self.tasks.spawn(self.cancel_now())

    async def cancel_now(self) -> None:
        """Cancel the pass (undoing what was not finished) and close the window."""
        if self._closed:
            return
        self._ending = self._closed = True
        self.view.set_busy(True)
        self.view.cancel.setEnabled(False)
        self.view.message.show_info(self.tr("Cancelling…"))
        registered = self.flow.device_registered_here
        await self.flow.cancel()
        if registered:
            self.devices_changed.emit()
        problems = " ".join(fmt.core_message(p) for p in self.flow.cleanup_problems)
        self.finished.emit(False, problems)
        self._dispose()

    def _dispose(self) -> None:
        """Close the window and free it and this controller (the pass is over)."""
        self.view.close_for_good()
        self.view.deleteLater()
        self.deleteLater()

    # -- running steps --------------------------------------------------------------------------
    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        if self._ending:
            coro.close()
            return
        self.tasks.spawn(self._guarded(coro))

    def _server_refused(self, exc: ApiError) -> None:
        if exc.retry_after:  # a lock (too many adds or wrong codes): the wait counts down
            show_refusal(self.view.message, exc)
            return
        text = fmt.core_message(exc.failure)
        if exc.reason == Reason.DEVICE_REGISTERED_ELSEWHERE:
            # an older server's own words (shown as they are) have no full stop
            text = text if text.endswith(".") else text + "."
            text += " " + self.tr(
                "Only its owner can add it elsewhere: ask them to remove it from their "
                "dashboard (⋯ → Remove from my account), then try again. Nothing was "
                "changed on the controller."
            )
        self.view.message.show_error(text)

    async def _guarded(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a step; its failure becomes a message on the wizard, never a traceback."""
        try:
            await coro
        except FlowCancelled:
            return
        except LinkError as exc:
            if not self._ending:  # pick it again from the list (the scan is kept)
                self.view.show_page(self.view.scan_page)
                self.view.scan_page.next.setEnabled(bool(self.found))
                self.view.message.show_error(fmt.core_message(exc.failure or str(exc)))
        except ProvisioningError as exc:
            if not self._ending:
                self.view.message.show_error(fmt.core_message(exc.failure or str(exc)))
        except ApiError as exc:
            if not self._ending:
                self._server_refused(exc)
        except Exception as exc:  # the Bluetooth stack's own errors, or a bug: say it, log it
            log.exception("wizard step failed")
            if not self._ending:
                text = self.tr("Setting up failed. Retry.")
                if self.flow.step in (Step.SCANNING, Step.PICK, Step.CONNECTING_BLE):
                    bluetooth = classify_bluetooth_problem(exc).failure
                    text = fmt.core_message(bluetooth) if bluetooth else text
                self.view.message.show_error(text)
                if self.view.page is self.view.scan_page:
                    self.view.scan_page.rescan.setEnabled(True)
        finally:
            if not self._ending:
                self.view.set_busy(False)

    async def _online(self, device_id: str) -> bool:
        """Online as the dashboard's live MQTT view says, or else as the backend says."""
        if self.store is not None:
            device = self.store.devices.get(device_id.lower())
            if device is not None and device.online is True:
                return True
        return await self._backend_online(device_id)
