"""People: who has access to one device, the invitation inbox. Widgets only; the
`PeopleController` words the dynamic texts and answers the signals."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from pooldesk.ui.views.common import MUTED_STYLE, BusyBar, MessageLabel


@dataclass(frozen=True)
class AccessRow:
    """One person with access, as the People dialog lists them."""

    share_id: str
    name: str  # the member's username
    detail: str  # "operator · since 6 Dec 12:00" / "invited 5 min ago, not accepted yet"
    role: str  # operator | viewer
    role_locked: str = ""  # why the role cannot be changed here ("" : it can)


@dataclass(frozen=True)
class InboxItem:
    kind: str  # "share" or "transfer"
    id: str
    text: str
    accept: str  # button texts; "" hides the button
    decline: str


class _Dialog(QDialog):
    """A window of its own (non-modal), opened with show(); `closed` once, however it closes."""

    closed = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(480)
        self._closed_emitted = False

    def done(self, result: int) -> None:
        super().done(result)
        if not self._closed_emitted:
            self._closed_emitted = True
            self.closed.emit()


def clear_layout(layout: QLayout) -> None:
    """Take every item out of a layout, deleting its widgets (rows shown again)."""
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None:
            widget.deleteLater()


def _fit(window: QWidget) -> None:
    """Grow a shown window to fit content that changed (wrapped text, new rows); never
    shrink it under the user's hand. Once now and once when the posted layout work is done."""
    _grow(window)
    QTimer.singleShot(0, window, lambda: _grow(window))


def _grow(window: QWidget) -> None:
    layout = window.layout()
    if layout is None:
        return
    layout.activate()
    hint = window.sizeHint()
    width = max(window.width(), hint.width())
    height = max(window.height(), hint.height())
    if layout.hasHeightForWidth():
        height = max(height, layout.totalHeightForWidth(width))
    if (width, height) == (window.width(), window.height()):
        return
    window.resize(width, height)
    # Grown past the bottom of the screen (a window manager then cuts it short): move it up.
    screen = window.screen()
    if screen is not None and window.isVisible():
        room = screen.availableGeometry()
        frame = window.frameGeometry()
        bottom = frame.top() + height + (frame.height() - window.height())
        if bottom > room.bottom():
            window.move(frame.left(), max(room.top(), frame.top() - (bottom - room.bottom())))


def _heading(text: str = "") -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setPointSize(font.pointSize() + 2)
    font.setBold(True)
    label.setFont(font)
    label.setWordWrap(True)
    return label


def _muted(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setStyleSheet(MUTED_STYLE)
    label.setWordWrap(True)
    return label


class PeopleView(_Dialog):
    invite_requested = Signal(str, str, bool)  # username, role, all devices
    end_requested = Signal(str)  # share id
    role_changed = Signal(str, str)  # share id, new role
    transfer_requested = Signal(str, str)  # username, history: keep | clear
    cancel_transfer_requested = Signal(str)  # transfer id

    def __init__(self, title: str, roles: list[tuple[str, str]], parent: QWidget | None = None):
        super().__init__(title, parent)
        self._roles = roles  # (role, its name) in the order offered
        layout = QVBoxLayout(self)
        self.heading = _heading(self.tr("Who has access"))
        layout.addWidget(self.heading)
        self.rows_box = QVBoxLayout()
        layout.addLayout(self.rows_box)
        self.empty = _muted(self.tr("Only you. Invite someone below."))
        layout.addWidget(self.empty)
        self.row_widgets: dict[str, tuple[QComboBox, QPushButton]] = {}
        self.row_details: dict[str, QLabel] = {}  # share id -> its "role · since …" line
        self._rows_shown: list[AccessRow] | None = None

        invite = QGroupBox(self.tr("Invite someone"))
        box = QVBoxLayout(invite)
        line = QHBoxLayout()
        self.username = QLineEdit()
        self.username.setPlaceholderText(self.tr("their PoolDesk username"))
        line.addWidget(self.username, 1)
        self.role = QComboBox()
        for role, name in roles:
            self.role.addItem(name, role)
        line.addWidget(self.role)
        self.invite_button = QPushButton(self.tr("Send invitation"))
        line.addWidget(self.invite_button)
        box.addLayout(line)
        self.role_help = _muted()
        box.addWidget(self.role_help)
        self.all_devices = QCheckBox(self.tr("All my devices, also ones I add later"))
        box.addWidget(self.all_devices)
        layout.addWidget(invite)

        hand_over = QGroupBox(self.tr("Hand over this device"))
        box = QVBoxLayout(hand_over)
        self.transfer_note = _muted(
            self.tr("For a house sale: the new owner accepts, then the controller moves to "
                    "their account by itself. You and everyone you shared it with lose access.")
        )  # fmt: skip
        box.addWidget(self.transfer_note)
        self.transfer_state = QLabel()
        self.transfer_state.setWordWrap(True)
        box.addWidget(self.transfer_state)
        self.transfer_form = QWidget()
        tform = QVBoxLayout(self.transfer_form)
        tform.setContentsMargins(0, 0, 0, 0)
        self.new_owner = QLineEdit()
        self.new_owner.setPlaceholderText(self.tr("the new owner's username"))
        tform.addWidget(self.new_owner)
        self.keep_history = QRadioButton(self.tr("The history goes with the device"))
        self.clear_history = QRadioButton(self.tr("Clear the history first"))
        self.keep_history.setChecked(True)
        self._history = QButtonGroup(self)
        self._history.addButton(self.keep_history)
        self._history.addButton(self.clear_history)
        tform.addWidget(self.keep_history)
        tform.addWidget(self.clear_history)
        self.offer_button = QPushButton(self.tr("Offer the device…"))
        tform.addWidget(self.offer_button, 0, Qt.AlignmentFlag.AlignLeft)
        box.addWidget(self.transfer_form)
        self.cancel_transfer_button = QPushButton(self.tr("Cancel the hand-over"))
        box.addWidget(self.cancel_transfer_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(hand_over)
        layout.addStretch(1)
        self.busy = BusyBar()
        layout.addWidget(self.busy)
        self.message = MessageLabel()
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._transfer_id = ""
        self.cancel_transfer_button.hide()

        self.invite_button.clicked.connect(self._invite)
        self.username.returnPressed.connect(self._invite)
        self.offer_button.clicked.connect(self._offer)
        self.cancel_transfer_button.clicked.connect(
            lambda: self.cancel_transfer_requested.emit(self._transfer_id)
        )

    def _invite(self) -> None:
        name = self.username.text().strip()
        if name:
            self.invite_requested.emit(
                name, str(self.role.currentData()), self.all_devices.isChecked()
            )

    def _offer(self) -> None:
        name = self.new_owner.text().strip()
        if name:
            self.transfer_requested.emit(name, "keep" if self.keep_history.isChecked() else "clear")

    def show_access(self, rows: list[AccessRow]) -> None:
        if rows == self._rows_shown:
            return  # a poll that changed nothing: keep the widgets under the user's pointer
        self._rows_shown = list(rows)
        clear_layout(self.rows_box)
        self.row_widgets.clear()
        self.row_details.clear()
        for row in rows:
            self.rows_box.addWidget(self._row(row))
        self.empty.setVisible(not rows)
        _fit(self)

    def _row(self, row: AccessRow) -> QWidget:
        frame = QFrame()
        frame.setObjectName("accessRow")
        line = QHBoxLayout(frame)
        line.setContentsMargins(0, 2, 0, 2)
        text = QVBoxLayout()
        name = QLabel(row.name)
        font = name.font()
        font.setBold(True)
        name.setFont(font)
        text.addWidget(name)
        detail = self.row_details[row.share_id] = _muted(row.detail)
        text.addWidget(detail)
        line.addLayout(text, 1)
        role = QComboBox()
        for value, label in self._roles:
            role.addItem(label, value)
        role.setCurrentIndex(max(0, role.findData(row.role)))
        role.setEnabled(not row.role_locked)
        role.setToolTip(row.role_locked)
        role.currentIndexChanged.connect(
            lambda _i, r=role, s=row.share_id: self.role_changed.emit(s, str(r.currentData()))
        )
        line.addWidget(role)
        end = QPushButton(self.tr("End access"))
        end.clicked.connect(lambda _c=False, s=row.share_id: self.end_requested.emit(s))
        line.addWidget(end)
        self.row_widgets[row.share_id] = (role, end)
        return frame

    def show_transfer(self, state: str, transfer_id: str = "") -> None:
        """A hand-over under way (its state and Cancel), or the form to start one."""
        self._transfer_id = transfer_id
        self.transfer_state.setText(state)
        self.transfer_state.setVisible(bool(state))
        self.transfer_form.setVisible(not transfer_id)
        self.cancel_transfer_button.setVisible(bool(transfer_id))
        _fit(self)

    def set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        for button in (self.invite_button, self.offer_button, self.cancel_transfer_button):
            button.setEnabled(not busy)


class InboxView(_Dialog):
    accept_requested = Signal(str, str)  # kind, id
    decline_requested = Signal(str, str)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        layout = QVBoxLayout(self)
        self.heading = _heading(self.tr("Waiting for your answer"))
        layout.addWidget(self.heading)
        self.items_box = QVBoxLayout()
        layout.addLayout(self.items_box)
        self.empty = _muted(self.tr("Nothing waits for your answer."))
        layout.addWidget(self.empty)
        self.under_way = _muted()  # devices accepted and still on their way
        layout.addWidget(self.under_way)
        layout.addStretch(1)
        self.busy = BusyBar()
        layout.addWidget(self.busy)
        self.message = MessageLabel()
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.buttons: dict[tuple[str, str], tuple[QPushButton, QPushButton]] = {}
        self.texts: list[QLabel] = []  # each item's sentence, in order
        self._items_shown: list[InboxItem] | None = None

    def show_items(self, items: list[InboxItem], under_way: str = "") -> None:
        self.under_way.setText(under_way)
        self.under_way.setVisible(bool(under_way))
        if items == self._items_shown:
            return  # nothing new: keep the buttons under the user's pointer
        self._items_shown = list(items)
        clear_layout(self.items_box)
        self.buttons.clear()
        self.texts.clear()
        for entry in items:
            self.items_box.addWidget(self._item(entry))
        self.empty.setVisible(not items)
        _fit(self)

    def _item(self, entry: InboxItem) -> QWidget:
        frame = QFrame()
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        box = QVBoxLayout(frame)
        text = QLabel(entry.text)
        text.setWordWrap(True)
        box.addWidget(text)
        self.texts.append(text)
        row = QHBoxLayout()
        row.addStretch(1)
        decline = QPushButton(entry.decline)
        accept = QPushButton(entry.accept)
        decline.clicked.connect(lambda: self.decline_requested.emit(entry.kind, entry.id))
        accept.clicked.connect(lambda: self.accept_requested.emit(entry.kind, entry.id))
        row.addWidget(decline)
        row.addWidget(accept)
        box.addLayout(row)
        self.buttons[(entry.kind, entry.id)] = (accept, decline)
        return frame

    def set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        for accept, decline in self.buttons.values():
            accept.setEnabled(not busy)
            decline.setEnabled(not busy)
