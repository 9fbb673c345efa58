"""Dashboard controller: backend device list + MQTT link + device store -> cards."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from PySide6.QtCore import QObject, QTimer, Signal

from pooldesk.core import validation
from pooldesk.core.alert_log import AlertLog
from pooldesk.core.backend_client import ApiError, HistoryPage
from pooldesk.core.commands import Command, CommandState, CommandTracker
from pooldesk.core.devices import Device, DeviceStore, utcnow
from pooldesk.core.failures import Message
from pooldesk.core.models import MqttCredentials
from pooldesk.core.mqtt_link import LinkState, LinkStatus, MqttLink
from pooldesk.core.notifications import Notice, NoticeWatcher
from pooldesk.core.pump_runtime import PUMP_STATE_TYPE, history_since, run_time, states_from_history
from pooldesk.core.session import Session
from pooldesk.core.tile_values import next_run, signal_bars, uptime_now
from pooldesk.ui import format as fmt
from pooldesk.ui.countdown import Countdown
from pooldesk.ui.tasks import TaskGroup
from pooldesk.ui.views.alerts_view import AlertsView
from pooldesk.ui.views.common import ConfirmDialog, TextDialog
from pooldesk.ui.views.dashboard_view import CardText, DashboardView

if TYPE_CHECKING:  # imported when first opened: they are not needed at start-up
    from pooldesk.ui.controllers.history import HistoryController
    from pooldesk.ui.controllers.schedule import ScheduleController
    from pooldesk.ui.wizard.controller import WizardController

log = logging.getLogger(__name__)
PUMP_HISTORY_PAGES = 10  # 10 000 pump states: far more than a week of switching


class TileValues(TypedDict, total=False):
    """The optional lines of a card (CardText's fields of the same names)."""

    air: str
    next_run: str
    run_time: str
    wifi: str
    signal: int | None
    uptime: str


class DashboardController(QObject):
    add_device_requested = Signal()  # the provisioning wizard (its own issue) hooks this
    account_requested = Signal()
    notice = Signal(str, str)  # title, text: for the tray

    def __init__(
        self,
        view: DashboardView,
        session: Session | None = None,  # set by the AppController before start()
        *,
        allow_insecure: bool = False,
        command_timeout: float = 8.0,
        keepalive: int = 30,
    ) -> None:
        super().__init__(view)
        # Where broker logins come from: the backend by default; tests may point at another broker.
        self.credentials_source: Callable[[], Awaitable[MqttCredentials]] | None = None
        self.view = view
        self.session = session
        self.allow_insecure = allow_insecure
        self.store = DeviceStore()
        self.link: MqttLink | None = None
        self.commands: CommandTracker | None = None
        self.command_timeout = command_timeout
        self.keepalive = keepalive
        self.tasks = TaskGroup()
        self._outcome: dict[str, tuple[str, bool]] = {}  # device key -> (message, is error)
        # device key -> the pump's (ts, on) since before this week, for "ran today / this week"
        self.pump_states: dict[str, list[tuple[datetime, bool]]] = {}
        self._run_time_text: dict[str, tuple[tuple[int, int], str]] = {}
        self.watcher = NoticeWatcher(self.store, self._notice)
        self.alert_log = AlertLog(self.store)
        self.alert_log.subscribe(self._alerts_changed)
        self.alert_views: dict[str, AlertsView] = {}  # device key -> its open alert list
        self.store.subscribe(self._device_changed)
        self._clock = QTimer(self)
        self._clock.setInterval(15_000)
        self._clock.timeout.connect(self._refresh_all)
        # Devices added or removed elsewhere (another computer, the wizard of another app)
        # appear without signing out: the list is fetched again now and then.
        self.device_list_interval = 60.0
        self._list_clock = QTimer(self)
        self._list_clock.timeout.connect(self._reload_in_background)
        self.history_controllers: dict[str, HistoryController] = {}
        self.schedule_controllers: dict[str, ScheduleController] = {}
        self.dialog: QObject | None = None  # the open rename/remove dialog, for tests
        self.wizard: WizardController | None = None  # the open provisioning wizard
        self.add_device_requested.connect(lambda: self.open_wizard())
        view.add_device_requested.connect(self.add_device_requested)
        view.account_requested.connect(self.account_requested)
        self._link_was_up = False  # the broker link was up once since sign-in
        self._reloading: asyncio.Task | None = None
        self._list_asked = 0  # device-list answers older than this generation are dropped
        self._retry_countdown = Countdown(self)
        self._show_link(LinkStatus(LinkState.IDLE))
        from pooldesk.ui.controllers.updates import UpdatesController

        self.updates = UpdatesController(self)  # the firmware panel on each card
        from pooldesk.ui.controllers.people import PeopleController

        self.people = PeopleController(self)  # shares, invitations, set-up codes, hand-over

    # -- life cycle ---------------------------------------------------------------------------

    @property
    def signed_in(self) -> Session:
        """The session: the AppController sets it before it shows this page."""
        if self.session is None:
            raise RuntimeError("the dashboard used before sign-in")
        return self.session

    def start(self) -> None:
        self.tasks.spawn(self._start())

    async def _start(self) -> None:
        await self.reload_devices()
        self.tasks.spawn(self._fill_from_history())
        self.link = MqttLink(
            self._credentials,
            lambda creds: self.store.subscriptions(creds.topic_prefix),
            on_message=self.store.handle,
            on_status=self._show_link,
            allow_insecure=self.allow_insecure,
            keepalive=self.keepalive,
        )
        self.commands = CommandTracker(self.store, self.link.publish, self.command_timeout)
        self.commands.subscribe(self._command_changed)
        self.link.start()
        self._clock.start()
        self._list_clock.start(int(self.device_list_interval * 1000))

    async def _fill_from_history(self) -> None:
        """Show every card's last recorded water temperature at once (the controller reports
        only every minute); a live value replaces it. Best effort: the live view follows anyway."""

        async def one(key: str, device_id: str) -> None:
            try:
                page = await self.signed_in.client.history(
                    device_id, event_type="telemetry", limit=1
                )
            except ApiError as exc:
                log.info("no recorded values for %s: %s", device_id, exc)
                return
            for event in page.events:  # newest first
                value = event.data.get("water_c")
                if isinstance(value, int | float) and not isinstance(value, bool):
                    self.store.recorded(key, float(value), event.ts)

        devices = [(d.key, d.device_id) for d in self.store.devices.values()]
        await asyncio.gather(*(one(key, device_id) for key, device_id in devices))

    async def _load_pump_states(self, key: str, device_id: str) -> None:
        """The recorded pump states since before this week (docs/mqtt.md, type `state`);
        the live ones are added as they arrive. Best effort: no run time without them."""
        since, events, cursor = history_since(utcnow()), [], None
        try:
            for _ in range(PUMP_HISTORY_PAGES):
                page = await self.signed_in.client.history(
                    device_id, event_type=PUMP_STATE_TYPE, since=since, limit=1000, cursor=cursor
                )
                events.extend(page.events)
                cursor = page.next_cursor
                if not cursor:
                    break
        except ApiError as exc:
            log.info("no recorded pump states for %s: %s", device_id, exc)
            return
        if key not in self.store.devices:
            return
        states = states_from_history(events)
        device = self.store.devices[key]
        if device.pump is not None:  # a live state that arrived meanwhile is the latest
            self._add_pump_state(states, device)
        self.pump_states[key] = states
        self.view.card(key).show_text(self.card_text(device))

    @staticmethod
    def _add_pump_state(states: list[tuple[datetime, bool]], device: Device) -> None:
        pump = device.pump
        if pump is None:
            return
        at = pump.ts or pump.received
        if not states or (states[-1][1] != pump.on and at >= states[-1][0]):
            states.append((at, pump.on))

    async def _credentials(self) -> MqttCredentials:
        if self.credentials_source is not None:
            creds = await self.credentials_source()
        else:
            creds = await self.signed_in.client.mqtt_credentials()
        self.store.topic_prefix = creds.topic_prefix
        return creds

    async def reload_devices(self, *, background: bool = False) -> None:
        self._list_asked += 1
        asked = self._list_asked
        try:
            devices = await self.signed_in.client.devices()
            if asked != self._list_asked:
                return  # a later reload or a removal meanwhile: that picture is the newer one
            self.store.load(devices)
            if not background:  # a background refresh leaves other notices alone
                self.view.notice.clear_message()
            if self.link is not None:  # shared devices come and go with their prefixes
                self.link.update_subscriptions()
            self.updates.refresh()
            self.people.refresh()
        except ApiError as exc:
            if asked == self._list_asked:  # (a newer reload speaks for the list now)
                self.view.notice.show_error(fmt.core_message(exc.failure))

    def _reload_in_background(self) -> None:
        if self._reloading is None or self._reloading.done():
            self._reloading = self.tasks.spawn(self.reload_devices(background=True))

    async def stop(self) -> None:
        self._clock.stop()
        self._list_clock.stop()
        self.updates.stop()
        self.people.stop()
        if self.wizard is not None:
            await self.wizard.cancel_now()
        await self.tasks.cancel_all()
        if self.commands:
            self.commands.cancel_all()
        if self.link:
            await self.link.stop()
        for history in list(self.history_controllers.values()):
            history.close()
        for schedule in list(self.schedule_controllers.values()):
            schedule.close()
        self.link = None
        self.commands = None
        for view in list(self.alert_views.values()):
            view.close()
        self.store.load([])
        self.alert_log.clear()
        self.pump_states.clear()
        self._run_time_text.clear()
        self.view.clear()
        self._show_link(LinkStatus(LinkState.IDLE))

    # -- showing ------------------------------------------------------------------------------
    def _show_link(self, status: LinkStatus) -> None:
        self._retry_countdown.stop()
        if status.state is LinkState.CONNECTED:
            if self._link_was_up and self.session is not None:
                # Back after a drop: the broker cuts a dashboard whose share just ended, so
                # the list of devices (and whose they are) may have changed meanwhile.
                self._reload_in_background()
            self._link_was_up = True
        elif status.state is LinkState.IDLE:
            self._link_was_up = False
        self.store.set_link_up(status.state is LinkState.CONNECTED)
        tr = self.tr
        if status.state is LinkState.CONNECTED:
            self.view.connection.set_state("ok", tr("Live"))
        elif status.state is LinkState.CONNECTING:
            self.view.connection.set_state("wait", tr("Connecting…"))
        elif status.state is LinkState.RECONNECTING:
            self.view.connection.set_state("wait", tr("Reconnecting…"))
            if status.retry_in:  # counts down on screen until the next attempt
                self._retry_countdown.start(
                    status.retry_in,
                    lambda s: self.view.connection.set_state(
                        "wait", tr("Not connected, retrying in {s} s").format(s=s)
                    ),
                    lambda: self.view.connection.set_state("wait", tr("Reconnecting…")),
                )
        elif status.state in (LinkState.REFUSED, LinkState.FAILED):
            self.view.connection.set_state("bad", tr("Not connected"))
        else:
            self.view.connection.set_state("off", tr("Offline"))
        self.view.connection.setToolTip(fmt.core_message(status.detail) if status.detail else "")
        if status.state in (LinkState.REFUSED, LinkState.FAILED) and status.detail:
            self.view.notice.show_error(fmt.core_message(status.detail))

    def _show_title(self) -> None:
        """ "My pools" while every pool shown is the user's own (or none is shown yet); once
        someone shared one, just "Pools" (short: the header fits 600 px in Spanish too)."""
        shared = any(device.shared for device in self.store.devices.values())
        self.view.title.setText(self.tr("Pools") if shared else self.tr("My pools"))

    def _device_changed(self, key: str, what: str) -> None:
        if what in ("added", "removed", "name"):  # "name": the list again, roles may change
            self._show_title()
        if what == "removed":
            self.view.remove_card(key)
            self._outcome.pop(key, None)
            return
        device = self.store.devices.get(key)
        if device is None:
            return
        card = self.view.card(key)
        if what == "added":
            card.toggle_clicked.connect(self.toggle_pump)
            card.run_for_requested.connect(self.run_for)
            card.follow_schedule_requested.connect(self.follow_schedule)
            card.rename_requested.connect(self.ask_rename)
            card.remove_requested.connect(self.ask_remove)
            card.change_wifi_requested.connect(self.open_wizard)
            card.history_requested.connect(self.open_history)
            card.schedule_requested.connect(self.open_schedule)
            card.alerts_requested.connect(self.open_alerts)
            card.people_requested.connect(self.people.open_people)
            card.leave_requested.connect(self.people.ask_leave)
            if self.session is not None:
                self.tasks.spawn(self._load_pump_states(key, device.device_id))
        if what == "pump" and key in self.pump_states:
            self._add_pump_state(self.pump_states[key], device)
        if what == "pump" and key in self._outcome and not self._pending(key):
            # A fresh state from the controller is the truth now: an earlier failure (or
            # confirmation) no longer describes what the card shows.
            del self._outcome[key]
        card.show_text(self.card_text(device))
        if what in ("added", "name"):
            self.view.relayout()

    def refresh_cards(self) -> None:
        """Word every card again (a changed unit or setting)."""
        self._refresh_all()

    def _refresh_all(self) -> None:
        for key, device in self.store.devices.items():
            self.view.card(key).show_text(self.card_text(device))

    def _pending(self, key: str) -> Command | None:
        return self.commands.pending(key) if self.commands else None

    def card_text(self, device: Device) -> CardText:
        tr = self.tr
        link_up = self.store.link_up
        online = device.online
        if not link_up and self._link_was_up:
            # The app lost the broker, not the controller: say so, in grey, not "Offline".
            status, online = tr("This app is not connected · values may be out of date"), None
        elif device.online is True:
            status = tr("Online")
        elif device.online is False:
            status = tr("Offline · last seen {when}").format(when=fmt.ago(device.last_seen))
        else:
            status = tr("Status unknown") if link_up else tr("Waiting for the broker…")
        pump_stale = device.pump_stale(link_up)
        water_stale = device.water_stale(link_up)
        if device.water_c is None:
            temperature = fmt.no_temperature()
        else:
            temperature = fmt.celsius(device.water_c)
            if device.telemetry_received is None and device.water_recorded_at is not None:
                temperature += " " + tr("(recorded {ago})").format(
                    ago=fmt.ago(device.water_recorded_at)
                )
            elif water_stale:
                temperature += " " + tr("(last known)")
        pump = device.pump
        if pump is None:
            pump_text = tr("Pump: unknown")
        else:
            state = tr("on") if pump.on else tr("off")
            pump_text = tr("Pump {state} · {mode}").format(
                state=state, mode=fmt.mode_name(pump.mode)
            )
            if pump.mode == "timer" and pump.until:
                pump_text += " " + tr("until {time}").format(time=fmt.clock(pump.until))
                left = (pump.until - utcnow()).total_seconds()
                if left > 0 and not pump_stale:
                    pump_text += " " + tr("({left} left)").format(left=fmt.time_left(left))
            if pump.mode in ("manual", "timer"):
                pump_text += " · " + tr("schedule paused")
            if pump_stale:
                pump_text += " " + tr("(last known)")
        pending = self._pending(device.key)
        message, is_error = self._outcome.get(device.key, ("", False))
        if pending is not None:
            wants = pending.wants_on
            toggle = (
                tr("Turning on…")
                if wants
                else tr("Turning off…")
                if wants is False
                else tr("Sending…")
            )
            message, is_error = tr("Waiting for the controller…"), False
        else:
            toggle = tr("Turn off") if pump and pump.on else tr("Turn on")
        alerts = [fmt.core_message(a.shown) for a in device.alerts.values()]
        extra = self._tile_values(device)
        return CardText(
            name=device.name,
            device_id=device.device_id,
            online=online,
            status=status,
            pump=pump_text,
            pump_on=pump.on if pump else None,
            toggle=toggle,
            busy=pending is not None,
            temperature=temperature,
            stale=pump_stale and water_stale,
            alerts=alerts,
            message=message,
            message_is_error=is_error,
            controls_enabled=link_up and device.online is True,
            schedule_paused=pump is not None and pump.mode in ("manual", "timer"),
            shared=self._shared_text(device),
            owned=not device.shared,
            controls_tip="" if device.can_control else self.viewer_tip(device),
            transfer=self.people.transfer_line(device.device_id),
            **extra,
        )

    def _shared_text(self, device: Device) -> str:
        if not device.shared:
            return ""
        role = fmt.role_name(device.role)
        if device.owner:
            return self.tr("Shared by {owner} · {role}").format(owner=device.owner, role=role)
        return self.tr("Shared with you · {role}").format(role=role)

    def viewer_tip(self, device: Device) -> str:
        """Why a viewer's pump and schedule controls are off."""
        if not device.owner:
            return self.tr(
                "You are a viewer of this pool: you can see it, but not switch the pump or "
                "change the schedule."
            )
        return self.tr(
            "{owner} shared this pool with you as a viewer: you can see it, but not switch the "
            "pump or change the schedule. Ask {owner} to make you an operator."
        ).format(owner=device.owner)

    def _tile_values(self, device: Device) -> TileValues:
        """Air (when reported), next scheduled run, run time, Wi-Fi signal and uptime."""
        tr, now = self.tr, utcnow()
        values: TileValues = {}
        if device.air_c is not None:
            values["air"] = tr("Air {t}").format(t=fmt.celsius(device.air_c))
        if device.schedule is not None:
            run = next_run(device.schedule, now)
            paused = device.pump is not None and device.pump.mode in ("manual", "timer")
            if run is None:
                values["next_run"] = tr("No scheduled runs")
            elif run.running_at(now) and paused:
                values["next_run"] = tr("Scheduled run until {end} (paused)").format(
                    end=fmt.clock(run.end)
                )
            elif run.running_at(now):
                values["next_run"] = tr("Scheduled run until {end}").format(end=fmt.clock(run.end))
            else:
                values["next_run"] = tr("Next run: {day} {start}–{end}").format(
                    day=fmt.day(run.start), start=fmt.clock(run.start), end=fmt.clock(run.end)
                )
        states = self.pump_states.get(device.key)
        if states is not None:
            # Worded to the minute: computed again when a state arrives or a minute passes,
            # not on every telemetry message (a busy week is thousands of states).
            stamp = (len(states), int(now.timestamp() // 60))
            cached = self._run_time_text.get(device.key)
            if cached is None or cached[0] != stamp:
                ran = run_time(states, now)
                text = tr("Ran {today} today · {week} this week").format(
                    today=fmt.run_duration(ran.today), week=fmt.run_duration(ran.week)
                )
                cached = self._run_time_text[device.key] = (stamp, text)
            values["run_time"] = cached[1]
        bars = signal_bars(device.rssi)
        if bars is not None:
            quality = (tr("very weak"), tr("weak"), tr("fair"), tr("good"), tr("excellent"))[bars]
            values["wifi"] = tr("Wi-Fi {quality} ({rssi} dBm)").format(
                quality=quality, rssi=device.rssi
            )
            values["signal"] = bars
        up = uptime_now(device.uptime_s, device.uptime_received, now)
        if up is not None and device.online is True:
            values["uptime"] = tr("up {duration}").format(duration=fmt.uptime(up))
        return values

    # -- commands -----------------------------------------------------------------------------
    def toggle_pump(self, key: str) -> None:
        device = self.store.devices.get(key)
        if device is None or self.commands is None:
            return
        on = not (device.pump and device.pump.on)
        if device.pump is not None and device.pump.mode == "schedule":
            self._ask_leave_schedule(key, device, on)
            return
        self._outcome.pop(key, None)
        self.commands.switch_pump(key, on)

    def _ask_leave_schedule(self, key: str, device: Device, on: bool) -> None:
        """Switching by hand takes the pump away from its schedule: say so first."""
        text = (
            self.tr(
                "Turning the pump on by hand pauses the schedule of {name}: the pump stays on "
                "until you turn it off or press “Resume schedule”."
            )
            if on
            else self.tr(
                "Turning the pump off by hand pauses the schedule of {name}: the pump stays off "
                "until you turn it on or press “Resume schedule”."
            )
        ).format(name=device.name)
        dialog = ConfirmDialog(
            self.tr("Pause the schedule?"),
            text,
            self.tr("Turn on") if on else self.tr("Turn off"),
            self.view,
        )

        def confirmed() -> None:
            if self.commands is not None and key in self.store.devices:
                self._outcome.pop(key, None)
                self.commands.switch_pump(key, on)

        dialog.accepted.connect(confirmed)
        self.dialog = dialog
        dialog.open()

    def run_for(self, key: str, seconds: int) -> None:
        if self.commands is not None:
            self._outcome.pop(key, None)
            self.commands.run_for(key, seconds)

    def follow_schedule(self, key: str) -> None:
        if self.commands is not None:
            self._outcome.pop(key, None)
            self.commands.follow_schedule(key)

    def _command_changed(self, command: Command) -> None:
        if command.kind != "pump":
            return
        if command.late:  # a failed command the controller answered afterwards
            self._outcome[command.device_key] = (fmt.core_message(command.message), False)
        elif command.state is CommandState.CONFIRMED:
            self._outcome[command.device_key] = (self.tr("Confirmed by the controller."), False)
        elif command.state in (CommandState.FAILED, CommandState.REJECTED):
            self._outcome[command.device_key] = (fmt.core_message(command.message), True)
        device = self.store.devices.get(command.device_key)
        if device is not None:
            self.view.card(command.device_key).show_text(self.card_text(device))

    # -- rename / remove ----------------------------------------------------------------------
    def ask_rename(self, key: str) -> None:
        device = self.store.devices[key]
        dialog = TextDialog(
            self.tr("Rename device"),
            self.tr("Name"),
            device.name,
            lambda text: _translated(validation.device_name_error(text)),
            self.view,
        )
        dialog.submitted.connect(lambda name: self.tasks.spawn(self.rename(key, name)))
        self.dialog = dialog
        dialog.open()

    async def rename(self, key: str, name: str) -> None:
        device = self.store.devices.get(key)
        if device is None:
            return
        try:
            await self.signed_in.client.rename_device(device.device_id, name.strip())
        except ApiError as exc:
            self.view.notice.show_error(fmt.core_message(exc.failure))
            return
        await self.reload_devices()

    def ask_remove(self, key: str) -> None:
        device = self.store.devices[key]
        dialog = ConfirmDialog(
            self.tr("Remove device"),
            self.tr(
                'Remove "{name}" ({id}) from your account? It stops reporting to you and '
                "its broker login is deleted. You can add it again with its claim code."
            ).format(name=device.name, id=device.device_id),
            self.tr("Remove"),
            self.view,
        )
        dialog.accepted.connect(lambda: self.tasks.spawn(self.remove(key)))
        self.dialog = dialog
        dialog.open()

    async def remove(self, key: str) -> None:
        device = self.store.devices.get(key)
        if device is None:
            return
        try:
            await self.signed_in.client.remove_device(device.device_id)
        except ApiError as exc:
            self.view.notice.show_error(fmt.core_message(exc.failure))
            return
        # A list fetched before the removal would bring the card back: whatever reload is under
        # way is dropped, and the list is read again now (a share that began meanwhile shows).
        self._list_asked += 1
        self.store.remove(key)
        self._reloading = self.tasks.spawn(self.reload_devices(background=True))
        self.view.notice.show_info(self.tr("{name} was removed.").format(name=device.name))

    # -- provisioning wizard -------------------------------------------------------------------
    def open_wizard(self, change_wifi_for: str | None = None) -> None:
        """Open the wizard for "Add device", or for "Change Wi-Fi…" of a card's device."""
        from pooldesk.ui.wizard.controller import WizardController

        if self.wizard is not None:
            self.wizard.raise_()
            return
        wizard = WizardController(
            self.signed_in, self.view.window(), store=self.store, change_wifi_for=change_wifi_for
        )
        self.wizard = wizard
        wizard.devices_changed.connect(lambda: self.tasks.spawn(self.reload_devices()))
        wizard.finished.connect(self._wizard_finished)
        wizard.start()

    def _wizard_finished(self, _online: bool, problem: str) -> None:
        self.wizard = None
        if problem:
            self.view.notice.show_error(problem)

    # -- history / schedule -------------------------------------------------------------------
    def open_history(self, key: str) -> None:
        from pooldesk.ui.controllers.history import HistoryController

        existing = self.history_controllers.get(key)
        if existing is not None:
            existing.raise_()
            return
        controller = HistoryController(
            key,
            store=self.store,
            fetch_page=self._history_page,
            spawn=self.tasks.spawn,
            window=self.view.window(),
        )
        self.history_controllers[key] = controller
        controller.closed.connect(lambda: self.history_controllers.pop(key, None))

    async def _history_page(
        self, device_id: str, since: datetime, limit: int, cursor: str | None
    ) -> HistoryPage:
        return await self.signed_in.client.history(
            device_id, since=since, limit=limit, cursor=cursor
        )

    def open_alerts(self, key: str) -> None:
        """The device's alert list (active, then cleared ones); Esc or Close, then reopen."""
        view = self.alert_views.get(key)
        if view is None:
            device = self.store.devices.get(key)
            name = device.name if device else key.upper()
            view = AlertsView(self.tr("Alerts · {name}").format(name=name), self.view.window())
            self.alert_views[key] = view
            view.closed.connect(lambda: self._alerts_closed(key, view))
            self._alerts_changed(key)
            view.show()
        view.raise_()
        view.activateWindow()

    def _alerts_closed(self, key: str, view: AlertsView) -> None:
        if self.alert_views.get(key) is view:
            del self.alert_views[key]
        view.deleteLater()

    def _alerts_changed(self, key: str) -> None:
        view = self.alert_views.get(key)
        if view is None:
            return
        tr = self.tr
        severity = {"critical": tr("Critical"), "warning": tr("Warning"), "info": tr("Information")}
        rows = []
        for entry in self.alert_log.entries(key):
            when = tr("since {time}").format(time=fmt.when(entry.since))
            if not entry.active:
                when += " · " + tr("cleared {time}").format(time=fmt.when(entry.cleared_at))
            level = severity.get(entry.severity, entry.severity)
            text = f"{fmt.core_message(entry.shown)}\n{level} · {when}"
            rows.append((entry.severity, text, entry.active))
        active = self.alert_log.active_count(key)
        if active:
            summary = (
                tr("1 active alert") if active == 1 else tr("{n} active alerts").format(n=active)
            )
        elif rows:
            summary = tr("No active alerts. Earlier ones are listed below.")
        else:
            summary = tr("No alerts since this app started. The controller reports active "
                         "alerts again whenever the app connects.")  # fmt: skip
        view.show_entries(summary, rows)

    def open_schedule(self, key: str) -> None:
        from pooldesk.ui.controllers.schedule import ScheduleController

        existing = self.schedule_controllers.get(key)
        if existing is not None:
            existing.raise_()
            return
        device = self.store.devices[key]
        controller = ScheduleController(
            device,
            commands=lambda: self.commands,
            read_only_tip=None if device.can_control else self.viewer_tip(device),
            window=self.view.window(),
        )
        self.schedule_controllers[key] = controller
        controller.closed.connect(lambda: self.schedule_controllers.pop(key, None))

    # -- notifications ------------------------------------------------------------------------
    def _notice(self, notice: Notice) -> None:
        if notice.kind == "offline":
            self.notice.emit(
                self.tr("{name} is offline").format(name=notice.device_name),
                self.tr("The controller stopped reporting."),
            )
        else:
            self.notice.emit(
                self.tr("Alert from {name}").format(name=notice.device_name),
                fmt.core_message(notice.text),
            )


def _translated(problem: Message | None) -> str | None:
    return fmt.core_message(problem) if problem else None
