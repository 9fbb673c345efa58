"""The dashboard: a connection indicator, the "Add device" button and one card per device."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import ClassVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from pooldesk.ui.theme import is_dark, tile_colors
from pooldesk.ui.tile_icons import SIZE, icon
from pooldesk.ui.views.common import MUTED_STYLE, MessageLabel

CARD_MIN_WIDTH = 280
RUN_FOR_CHOICES = (15 * 60, 30 * 60, 3600, 2 * 3600, 4 * 3600, 8 * 3600)


@dataclass
class CardText:
    """Everything a card shows, worded by the controller."""

    name: str
    device_id: str
    online: bool | None
    status: str
    pump: str
    pump_on: bool | None
    toggle: str
    busy: bool
    temperature: str
    stale: bool
    alerts: list[str] = field(default_factory=list)
    message: str = ""
    message_is_error: bool = False
    controls_enabled: bool = True
    schedule_paused: bool = False  # manual or timer: offer "Resume schedule"
    air: str = ""  # only when the controller reports an air temperature
    next_run: str = ""  # "Next run: today 08:00–12:00"
    run_time: str = ""  # "Ran today 2 h · this week 9 h 30 min"
    wifi: str = ""  # "Wi-Fi good (−61 dBm)"
    signal: int | None = None  # 0-4 bars, None: not reported
    uptime: str = ""  # "Up 3 d 4 h"
    shared: str = ""  # "Shared by alice · viewer"; "" on the user's own devices
    owned: bool = True  # the user owns it: rename, remove, Wi-Fi, people, hand-over
    controls_tip: str = ""  # why the pump and schedule controls are off (a viewer)
    transfer: str = ""  # a hand-over under way: "Moving to bob: waiting for the controller…"


class ConnectionIndicator(QLabel):
    COLORS: ClassVar[dict[str, str]] = {
        "ok": "#1b6e3a",
        "wait": "#a66a00",
        "bad": "#b3261e",
        "off": "#6b6b6b",
    }
    DARK_COLORS: ClassVar[dict[str, str]] = {
        "ok": "#6fcf8f",
        "wait": "#f0b44c",
        "bad": "#ff8f85",
        "off": "#a3acb8",
    }

    def set_state(self, level: str, text: str) -> None:
        colors = self.DARK_COLORS if is_dark(self.palette()) else self.COLORS
        color = colors.get(level, colors["off"])
        self.setText(f"<span style='color:{color}'>●</span> {text}")
        self.setProperty("level", level)
        self.setToolTip(text)


class DeviceCard(QFrame):
    toggle_clicked = Signal(str)
    run_for_requested = Signal(str, int)
    follow_schedule_requested = Signal(str)
    history_requested = Signal(str)
    schedule_requested = Signal(str)
    rename_requested = Signal(str)
    remove_requested = Signal(str)
    change_wifi_requested = Signal(str)
    alerts_requested = Signal(str)
    people_requested = Signal(str)
    leave_requested = Signal(str)

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self._shown: CardText | None = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumWidth(CARD_MIN_WIDTH)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.name = QLabel()
        font = self.name.font()
        font.setPointSize(font.pointSize() + 3)
        font.setBold(True)
        self.name.setFont(font)
        top.addWidget(self.name, 1)
        self.menu_button = QToolButton()
        self.menu_button.setText("⋯")
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self)
        self.history_action = menu.addAction(self.tr("History…"))
        self.schedule_action = menu.addAction(self.tr("Schedule…"))
        self.alerts_action = menu.addAction(self.tr("Alerts…"))
        menu.addSeparator()
        self.people_action = menu.addAction(self.tr("People and hand-over…"))
        self.rename_action = menu.addAction(self.tr("Rename…"))
        self.change_wifi_action = menu.addAction(self.tr("Change Wi-Fi…"))
        self.remove_action = menu.addAction(self.tr("Remove from my account…"))
        self.leave_action = menu.addAction(self.tr("Stop using this shared device…"))
        self.menu_button.setMenu(menu)
        _room_for_arrow(self.menu_button)
        top.addWidget(self.menu_button)
        layout.addLayout(top)
        self.setObjectName("deviceCard")
        ident = QHBoxLayout()  # id and connection, one quiet line under the name
        self.device_id = QLabel()
        ident.addWidget(self.device_id)
        self.status = QLabel()
        self.status.setWordWrap(True)  # "Offline · last seen …" is long in Spanish
        ident.addWidget(self.status, 1)
        layout.addLayout(ident)
        self.shared = QLabel()  # whose it is and what this user may do: "Shared by alice · …"
        self.shared.setWordWrap(True)
        self.shared.setObjectName("sharedBy")
        layout.addWidget(self.shared)
        self.transfer = QLabel()
        self.transfer.setWordWrap(True)
        layout.addWidget(self.transfer)
        # The water temperature is what a pool owner looks for first: the largest text.
        water = QHBoxLayout()
        self.water_icon = QLabel()
        water.addWidget(self.water_icon, 0, Qt.AlignmentFlag.AlignVCenter)
        self.temperature = QLabel()
        tfont = self.temperature.font()
        tfont.setPointSize(tfont.pointSize() + 10)
        tfont.setBold(True)
        self.temperature.setFont(tfont)
        self.temperature.setWordWrap(True)  # "(last known)" goes to a second line, never cut
        water.addWidget(self.temperature, 1)
        layout.addLayout(water)
        self.air = QLabel()
        layout.addWidget(self.air)
        self.pump_icon = QLabel()
        self.pump = QLabel()
        self.pump.setWordWrap(True)
        self.pump.setTextFormat(Qt.TextFormat.PlainText)
        pfont = self.pump.font()
        pfont.setBold(True)
        self.pump.setFont(pfont)
        layout.addLayout(_icon_row(self.pump_icon, self.pump))
        self.next_run_icon, self.next_run = QLabel(), QLabel()
        self.next_run.setWordWrap(True)
        layout.addLayout(_icon_row(self.next_run_icon, self.next_run))
        self.run_time_icon, self.run_time = QLabel(), QLabel()
        self.run_time.setWordWrap(True)
        layout.addLayout(_icon_row(self.run_time_icon, self.run_time))
        self.wifi_icon, self.wifi = QLabel(), QLabel()
        self.wifi.setWordWrap(True)
        layout.addLayout(_icon_row(self.wifi_icon, self.wifi))
        self.alerts = QLabel()
        self.alerts.setWordWrap(True)
        layout.addWidget(self.alerts)
        buttons = QHBoxLayout()
        self.toggle = QPushButton()
        self.run_for = QToolButton()
        self.run_for.setText(self.tr("Run for…"))
        self.run_for.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        run_menu = QMenu(self)
        self.run_actions = {}
        for seconds in RUN_FOR_CHOICES:
            hours, minutes = divmod(seconds // 60, 60)
            label = (
                self.tr("{h} h").format(h=hours) if hours else self.tr("{m} min").format(m=minutes)
            )
            self.run_actions[seconds] = run_menu.addAction(label)
        run_menu.addSeparator()
        self.schedule_mode_action = run_menu.addAction(self.tr("Follow the schedule"))
        self.run_for.setMenu(run_menu)
        _room_for_arrow(self.run_for)
        self.resume = QPushButton(self.tr("Resume schedule"))
        self.resume.setToolTip(self.tr("Hand the pump back to its schedule"))
        self.resume.hide()
        self._default_tips: dict[QWidget, str] = {self.resume: self.resume.toolTip()}
        resume_row = QHBoxLayout()  # its own row: the card stays narrow in every language
        resume_row.addWidget(self.resume)
        resume_row.addStretch(1)
        layout.addLayout(resume_row)
        buttons.addWidget(self.toggle)
        buttons.addWidget(self.run_for)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.message = MessageLabel(lines=1, sticky=True)
        layout.addWidget(self.message)

        self.toggle.clicked.connect(lambda: self.toggle_clicked.emit(self.key))
        self.resume.clicked.connect(lambda: self.follow_schedule_requested.emit(self.key))
        for seconds, action in self.run_actions.items():
            action.triggered.connect(
                lambda _c=False, s=seconds: self.run_for_requested.emit(self.key, s)
            )
        self.schedule_mode_action.triggered.connect(
            lambda: self.follow_schedule_requested.emit(self.key)
        )
        self.history_action.triggered.connect(lambda: self.history_requested.emit(self.key))
        self.schedule_action.triggered.connect(lambda: self.schedule_requested.emit(self.key))
        self.alerts_action.triggered.connect(lambda: self.alerts_requested.emit(self.key))
        self.rename_action.triggered.connect(lambda: self.rename_requested.emit(self.key))
        self.remove_action.triggered.connect(lambda: self.remove_requested.emit(self.key))
        self.change_wifi_action.triggered.connect(lambda: self.change_wifi_requested.emit(self.key))
        self.people_action.triggered.connect(lambda: self.people_requested.emit(self.key))
        self.leave_action.triggered.connect(lambda: self.leave_requested.emit(self.key))

    def show_text(self, text: CardText) -> None:
        if text == self._shown:
            return  # most messages repeat what the card already says
        self._shown = text
        colors = tile_colors(self.palette())
        self._style(colors)
        self.name.setText(text.name)
        self.device_id.setText(text.device_id)
        self.device_id.setStyleSheet(f"color: {colors['muted']};")
        color = {True: colors["on"], False: colors["alert"], None: colors["muted"]}[text.online]
        self.status.setText(f"<span style='color:{color}'>●</span> {html.escape(text.status)}")
        self.temperature.setText(text.temperature)
        self.air.setText(text.air)
        self.air.setVisible(bool(text.air))
        # The pump reads at a glance: its icon is green while it runs, grey while it is off.
        running = colors["on"] if text.pump_on else colors["muted"]
        self.pump.setText(text.pump)
        self.pump_icon.setPixmap(icon("pump", running))
        faded = f"color: {colors['muted']};"
        self.temperature.setStyleSheet(faded if text.stale else "")
        self.pump.setStyleSheet(faded if text.stale else "")
        self.water_icon.setPixmap(
            icon("water", colors["muted"] if text.stale else colors["accent"])
        )
        for label, glyph, value in (
            (self.next_run, self.next_run_icon, text.next_run),
            (self.run_time, self.run_time_icon, text.run_time),
        ):
            label.setText(value)
            label.setVisible(bool(value))
            glyph.setVisible(bool(value))
        self.next_run_icon.setPixmap(icon("calendar", colors["muted"]))
        self.run_time_icon.setPixmap(icon("clock", colors["muted"]))
        link = " · ".join(t for t in (text.wifi, text.uptime) if t)
        self.wifi.setText(link)
        self.wifi.setStyleSheet(faded)
        self.wifi.setVisible(bool(link))
        self.wifi_icon.setVisible(bool(link))
        self.wifi_icon.setPixmap(icon("wifi", colors["muted"], level=text.signal or 0))
        self.alerts.setText("\n".join(f"⚠ {a}" for a in text.alerts))
        self.alerts.setStyleSheet(f"color: {colors['alert']};")
        self.alerts.setVisible(bool(text.alerts))
        self.shared.setText(text.shared)
        self.shared.setStyleSheet(f"color: {colors['accent']}; font-weight: bold;")
        self.shared.setVisible(bool(text.shared))
        self.transfer.setText(text.transfer)
        self.transfer.setStyleSheet(f"color: {colors['muted']};")
        self.transfer.setVisible(bool(text.transfer))
        for action in (
            self.people_action,
            self.rename_action,
            self.change_wifi_action,
            self.remove_action,
        ):
            action.setVisible(text.owned)
        self.leave_action.setVisible(not text.owned)
        self.toggle.setText(text.toggle)
        enabled = text.controls_enabled and not text.busy and not text.controls_tip
        for control in (self.toggle, self.run_for, self.resume):
            control.setEnabled(enabled)
            # A disabled button still shows its tooltip: say why it cannot be pressed.
            control.setToolTip(text.controls_tip or self._default_tips.get(control, ""))
        self.resume.setVisible(text.schedule_paused)
        if text.message_is_error:
            self.message.show_error(text.message)
        else:
            self.message.show_info(text.message)
        self.stale = text.stale

    def _style(self, colors: dict[str, str]) -> None:
        """A raised tile: the card colour on the window, a thin border, rounded corners."""
        sheet = (
            f"#deviceCard {{ background: {colors['card']}; border: 1px solid {colors['border']};"
            " border-radius: 10px; }"
        )
        if self.styleSheet() != sheet:
            self.setStyleSheet(sheet)


def _icon_row(glyph: QLabel, text: QLabel) -> QHBoxLayout:
    row = QHBoxLayout()
    glyph.setFixedWidth(SIZE + 4)
    row.addWidget(glyph, 0, Qt.AlignmentFlag.AlignTop)
    row.addWidget(text, 1)
    return row


class DashboardView(QWidget):
    add_device_requested = Signal()
    account_requested = Signal()
    inbox_requested = Signal()
    setup_code_requested = Signal()
    sign_out_requested = Signal()
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        header = QHBoxLayout()
        self.title = QLabel(self.tr("My pools"))  # the controller words it: set_title()
        font = self.title.font()
        font.setPointSize(font.pointSize() + 6)
        font.setBold(True)
        self.title.setFont(font)
        header.addWidget(self.title)
        header.addStretch(1)
        self.connection = ConnectionIndicator()  # on its own line: long states fit at 600 px
        # "Add device": a click sets one up from here; its arrow also offers the installer
        # code, for a controller someone else sets up (one header button: Spanish fits 600 px).
        self.add_button = QToolButton()
        self.add_button.setText(self.tr("Add device"))
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        add_menu = QMenu(self)
        self.add_here_action = add_menu.addAction(self.tr("Set up a controller from here…"))
        self.setup_code_action = add_menu.addAction(self.tr("Installer code…"))
        self.setup_code_action.setToolTip(
            self.tr("A one-time code that lets an installer add a controller to your account")
        )
        add_menu.setToolTipsVisible(True)
        self.add_button.setMenu(add_menu)
        self.inbox_button = QPushButton(self.tr("Inbox"))  # invitations and offered devices
        self.inbox_button.setObjectName("inboxButton")
        self.account_button = QPushButton(self.tr("Account"))
        self.sign_out_button = QPushButton(self.tr("Sign out"))
        for button in (
            self.add_button,
            self.inbox_button,
            self.account_button,
            self.sign_out_button,
        ):
            header.addWidget(button)
        height = self.account_button.sizeHint().height()
        self.add_button.setMinimumHeight(height)  # as tall as its neighbours
        layout.addLayout(header)
        layout.addWidget(self.connection)
        self.notice = MessageLabel(lines=1)
        layout.addWidget(self.notice)
        self.empty = QLabel(self.tr('No devices yet. Use "Add device" to set up a controller.'))
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet(MUTED_STYLE)
        layout.addWidget(self.empty)
        self.card_scroll = QScrollArea()
        self.card_scroll.setWidgetResizable(True)
        self.card_scroll.setFrameShape(QFrame.Shape.NoFrame)
        # Cards reflow into as many columns as fit; never a sideways scroll.
        self.card_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        holder = QWidget()
        self.grid = QGridLayout(holder)
        self.grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.card_scroll.setWidget(holder)
        layout.addWidget(self.card_scroll, 1)
        self.cards: dict[str, DeviceCard] = {}
        self.columns = 1

        self.add_button.clicked.connect(self.add_device_requested)
        self.add_here_action.triggered.connect(self.add_device_requested)
        self.account_button.clicked.connect(self.account_requested)
        self.sign_out_button.clicked.connect(self.sign_out_requested)
        self.inbox_button.clicked.connect(self.inbox_requested)
        self.setup_code_action.triggered.connect(self.setup_code_requested)

    def show_inbox(self, text: str, waiting: bool, tip: str) -> None:
        """The inbox button with its badge: bold and coloured while something waits."""
        colors = tile_colors(self.palette())
        self.inbox_button.setText(text)
        self.inbox_button.setToolTip(tip)
        self.inbox_button.setProperty("waiting", waiting)
        self.inbox_button.setStyleSheet(
            f"#inboxButton {{ font-weight: bold; color: {colors['accent']}; }}" if waiting else ""
        )

    def card(self, key: str) -> DeviceCard:
        if key not in self.cards:
            self.cards[key] = DeviceCard(key)
            self.relayout()
        return self.cards[key]

    def remove_card(self, key: str) -> None:
        card = self.cards.pop(key, None)
        if card is not None:
            self.grid.removeWidget(card)
            card.deleteLater()
            self.relayout()

    def clear(self) -> None:
        for key in list(self.cards):
            self.remove_card(key)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        columns = self._columns_that_fit()
        if columns != self.columns:
            self.columns = columns
            self.relayout()

    def _columns_that_fit(self) -> int:
        spacing = max(self.grid.horizontalSpacing(), 0)
        margins = self.grid.contentsMargins()
        room = self.card_scroll.viewport().width() - margins.left() - margins.right()
        return max(1, min(3, (room + spacing) // (CARD_MIN_WIDTH + spacing)))

    def relayout(self) -> None:
        """Cards in name order (then id), filling rows of `columns`."""
        for card in self.cards.values():
            self.grid.removeWidget(card)
        order = sorted(self.cards, key=lambda k: (self.cards[k].name.text().lower(), k))
        for index, key in enumerate(order):
            self.grid.addWidget(self.cards[key], index // self.columns, index % self.columns)
        self.empty.setVisible(not self.cards)


def _room_for_arrow(button: QToolButton) -> None:
    """Fusion draws a menu button's arrow over the end of its text; leave room for it."""
    button.setMinimumWidth(button.sizeHint().width() + 14)
