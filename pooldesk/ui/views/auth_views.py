"""First-run server prompt, sign-in and registration screens."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from pooldesk.core import validation
from pooldesk.core.failures import Code, Failure, failure
from pooldesk.ui.format import core_message
from pooldesk.ui.views.common import MUTED_STYLE, OK_STYLE, BusyBar, FieldHint, MessageLabel


def _title(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setPointSize(font.pointSize() + 6)
    font.setBold(True)
    label.setFont(font)
    return label


class _Centered(QWidget):
    """A screen whose content sits in a narrow column in the middle."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        self.column = QVBoxLayout()
        self.column.setSpacing(8)
        holder = QWidget()
        holder.setLayout(self.column)
        holder.setFixedWidth(380)
        outer.addWidget(holder)
        outer.addStretch(1)


class ServerView(_Centered):
    """Asks which server to use (first run, or "Change server")."""

    submitted = Signal(str, bool)  # url, allow insecure
    local_requested = Signal()  # "Run the server on this computer"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.column.addStretch(1)
        self.column.addWidget(_title(self.tr("Welcome to PoolDesk")))
        intro = QLabel(
            self.tr(
                "Which PoolDesk server holds your account? Enter its address, or let "
                "this computer run the server for your household."
            )
        )
        intro.setWordWrap(True)
        self.column.addWidget(intro)
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://pool.example.com")
        self.column.addWidget(QLabel(self.tr("Server address")))
        self.column.addWidget(self.url)
        self.insecure = QCheckBox(self.tr("Allow insecure connections"))
        self.column.addWidget(self.insecure)
        insecure_note = QLabel(
            self.tr(
                "Plain http:// and mqtt:// to other computers are not encrypted; "
                "allow them only on a network you trust."
            )
        )
        insecure_note.setWordWrap(True)
        insecure_note.setStyleSheet(MUTED_STYLE)
        self.column.addWidget(insecure_note)
        self.error = MessageLabel()
        self.column.addWidget(self.error)
        self.continue_button = QPushButton(self.tr("Connect to a server"))
        self.continue_button.setDefault(True)
        self.local_button = QPushButton(self.tr("Run the server on this computer…"))
        self.local_button.setToolTip(
            self.tr("For a household without a server: this computer keeps your account and "
                    "history and links the pool controllers on your home network.")
        )  # fmt: skip
        self.column.addWidget(self.continue_button)  # one above the other: long in Spanish
        self.column.addWidget(self.local_button)
        self.column.addStretch(2)
        self.local_button.clicked.connect(self.local_requested)
        self.continue_button.clicked.connect(self._submit)
        self.url.returnPressed.connect(self._submit)

    def _submit(self) -> None:
        self.submitted.emit(self.url.text(), self.insecure.isChecked())

    def set_values(self, url: str, allow_insecure: bool) -> None:
        self.url.setText(url)
        self.insecure.setChecked(allow_insecure)


class SignInView(_Centered):
    submitted = Signal(str, str)
    register_requested = Signal()
    change_server_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.column.addStretch(1)
        self.column.addWidget(_title(self.tr("Sign in")))
        self.server = QLabel()
        self.server.setStyleSheet(MUTED_STYLE)
        self.column.addWidget(self.server)
        self.notice = MessageLabel()
        self.column.addWidget(self.notice)
        form = QFormLayout()
        self.username = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(self.tr("Username"), self.username)
        form.addRow(self.tr("Password"), self.password)
        self.column.addLayout(form)
        self.username_hint = FieldHint()
        self.column.addWidget(self.username_hint)
        self.busy = BusyBar()
        self.column.addWidget(self.busy)
        self.error = MessageLabel()
        self.column.addWidget(self.error)
        self.sign_in_button = QPushButton(self.tr("Sign in"))
        self.sign_in_button.setDefault(True)
        self.column.addWidget(self.sign_in_button)
        links = QHBoxLayout()
        self.register_button = QPushButton(self.tr("Create an account"))
        self.register_button.setFlat(True)
        self.server_button = QPushButton(self.tr("Change server"))
        self.server_button.setFlat(True)
        links.addWidget(self.register_button)
        links.addStretch(1)
        links.addWidget(self.server_button)
        self.column.addLayout(links)
        self.column.addStretch(2)

        self.username.textChanged.connect(self._validate)
        self.password.textChanged.connect(self._validate)
        self.username.returnPressed.connect(self._submit)
        self.password.returnPressed.connect(self._submit)
        self.sign_in_button.clicked.connect(self._submit)
        self.register_button.clicked.connect(self.register_requested)
        self.server_button.clicked.connect(self.change_server_requested)
        self._validate()

    def _validate(self) -> bool:
        name = self.username.text()
        problem = validation.username_error(name) if name else None
        self.username_hint.set_problem(core_message(problem) if problem else None)
        ok = bool(name) and problem is None and bool(self.password.text())
        self.sign_in_button.setEnabled(ok and not self.busy.isVisible())
        return ok

    def _submit(self) -> None:
        if self._validate() and not self.busy.isVisible():
            self.submitted.emit(self.username.text(), self.password.text())

    def set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        for widget in (self.username, self.password, self.register_button, self.server_button):
            widget.setEnabled(not busy)
        if busy:
            self.error.clear_message()
        self._validate()


class PasswordChecklist(QWidget):
    """The password rules, each ticked as soon as the typed password meets it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.lines: list[QLabel] = []
        for _rule in validation.password_rules(""):
            label = QLabel()
            layout.addWidget(label)
            self.lines.append(label)
        self.update_for("")

    def update_for(self, password: str, username: str = "") -> None:
        rules = validation.password_rules(password, username)
        for label, rule in zip(self.lines, rules, strict=True):
            label.setText(("✓ " if rule.met else "• ") + core_message(rule.text))
            label.setStyleSheet(OK_STYLE if rule.met else MUTED_STYLE)


class RegisterView(_Centered):
    submitted = Signal(str, str, str, str)  # username, email, password, device id ("": none)
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.column.addStretch(1)
        self.column.addWidget(_title(self.tr("Create your account")))
        form = QFormLayout()
        self.username = QLineEdit()
        self.email = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm = QLineEdit()
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.device_id = QLineEdit()
        self.device_id.setPlaceholderText("ESP-A1B2C3")
        self.hints: dict[str, FieldHint] = {}
        for key, label, field in (
            ("username", self.tr("Username"), self.username),
            ("email", self.tr("Email"), self.email),
            ("password", self.tr("Password"), self.password),
            ("confirm", self.tr("Repeat password"), self.confirm),
        ):
            holder = QVBoxLayout()
            holder.setSpacing(2)
            holder.addWidget(field)
            if key == "password":
                self.checklist = PasswordChecklist()
                holder.addWidget(self.checklist)
            self.hints[key] = FieldHint()
            holder.addWidget(self.hints[key])
            form.addRow(label, holder)
        self.column.addLayout(form)
        # An account may start without a controller (docs/sharing.md): someone in the
        # household shares theirs, or an installer sets up controllers for others.
        self.has_controller = QRadioButton(self.tr("I have a pool controller to add"))
        self.no_controller = QRadioButton(self.tr("No controller of my own yet"))
        self.has_controller.setChecked(True)
        self._choice = QButtonGroup(self)
        self._choice.addButton(self.has_controller)
        self._choice.addButton(self.no_controller)
        self.column.addWidget(self.has_controller)
        self.device_box = QWidget()
        device_form = QFormLayout(self.device_box)
        device_form.setContentsMargins(24, 0, 0, 0)
        holder = QVBoxLayout()
        holder.setSpacing(2)
        holder.addWidget(self.device_id)
        self.hints["device_id"] = FieldHint()
        holder.addWidget(self.hints["device_id"])
        device_form.addRow(self.tr("Device id"), holder)
        device_help = QLabel(self.tr("The device id is printed on the controller's label."))
        device_help.setStyleSheet(MUTED_STYLE)
        device_help.setWordWrap(True)
        device_form.addRow("", device_help)
        self.column.addWidget(self.device_box)
        self.column.addWidget(self.no_controller)
        self.no_controller_help = QLabel(
            self.tr(
                "For someone a pool is shared with, or an installer who sets up controllers "
                "for others. You can add a controller later with “Add device”."
            )
        )
        self.no_controller_help.setStyleSheet(MUTED_STYLE)
        self.no_controller_help.setWordWrap(True)
        self.no_controller_help.setContentsMargins(24, 0, 0, 0)
        self.column.addWidget(self.no_controller_help)
        self.busy = BusyBar()
        self.column.addWidget(self.busy)
        self.error = MessageLabel()
        self.column.addWidget(self.error)
        buttons = QHBoxLayout()
        self.back_button = QPushButton(self.tr("Back to sign in"))
        self.back_button.setFlat(True)
        self.create_button = QPushButton(self.tr("Create account"))
        self.create_button.setDefault(True)
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.create_button)
        self.column.addLayout(buttons)
        self.column.addStretch(2)

        self._touched: set[str] = set()
        for key, field in self._fields().items():
            field.textChanged.connect(lambda _t, k=key: self._edited(k))
            field.returnPressed.connect(self._submit)
        self.create_button.clicked.connect(self._submit)
        self.back_button.clicked.connect(self.back_requested)
        self.has_controller.toggled.connect(self._choice_changed)
        self._choice_changed()

    def _choice_changed(self) -> None:
        with_device = self.has_controller.isChecked()
        self.device_box.setVisible(with_device)
        self._validate()

    def _fields(self) -> dict[str, QLineEdit]:
        return {
            "username": self.username,
            "email": self.email,
            "password": self.password,
            "confirm": self.confirm,
            "device_id": self.device_id,
        }

    def _edited(self, key: str) -> None:
        self._touched.add(key)
        self._validate()

    def problems(self) -> dict[str, Failure | None]:
        password = self.password.text()
        return {
            "username": validation.username_error(self.username.text()),
            "email": validation.email_error(self.email.text().strip()),
            "password": validation.password_error(password, self.username.text()),
            "confirm": None if self.confirm.text() == password else failure(Code.PASSWORDS_DIFFER),
            "device_id": validation.device_id_error(self.device_id.text())
            if self.has_controller.isChecked()
            else None,
        }

    def _validate(self) -> bool:
        self.checklist.update_for(self.password.text(), self.username.text())
        problems = self.problems()
        for key, problem in problems.items():
            shown = problem if key in self._touched and key != "password" else None
            self.hints[key].set_problem(core_message(shown) if shown else None)
        ok = all(p is None for p in problems.values())
        self.create_button.setEnabled(ok and not self.busy.isVisible())
        return ok

    def _submit(self) -> None:
        self._touched.update(self._fields())
        if self._validate() and not self.busy.isVisible():
            self.submitted.emit(
                self.username.text(),
                self.email.text().strip(),
                self.password.text(),
                validation.normalize_device_id(self.device_id.text())
                if self.has_controller.isChecked()
                else "",
            )

    def set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        for field in self._fields().values():
            field.setEnabled(not busy)
        for radio in (self.has_controller, self.no_controller):
            radio.setEnabled(not busy)
        self.back_button.setEnabled(not busy)
        if busy:
            self.error.clear_message()
        self._validate()

    def focus_first(self) -> None:
        self.username.setFocus(Qt.FocusReason.OtherFocusReason)
