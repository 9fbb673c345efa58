"""The headless demo: a new owner's first minutes, told step by step with timings.

Every step goes through the code the app itself uses: the session and backend client for the
account, the wizard's Qt-free `ProvisioningFlow` for the controller (Bluetooth scan, claim
code, Wi-Fi, binding, online), and the dashboard's core (MQTT link, device store, command
tracker) for the pump. A step that does not hold stops the
story with its reason; `run_story` returns whether all held.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pooldesk.core.backend_client import ApiError, BackendClient
from pooldesk.core.commands import CommandState, CommandTracker
from pooldesk.core.devices import SUBSCRIPTIONS, DeviceStore
from pooldesk.core.models import MqttCredentials
from pooldesk.core.mqtt_link import MqttLink
from pooldesk.core.provisioning_flow import Outcome, Progress, ProvisioningFlow, Step
from pooldesk.core.session import Session
from pooldesk.core.token_store import TokenStore
from pooldesk.core.updates import UpdateInfo, Updates
from pooldesk.demo.environment import DemoController, DemoEnvironment
from pooldesk.demo.household import ShareRefused, Viewer
from pooldesk.provisioning import ProvisioningError

log = logging.getLogger(__name__)

STEPS = (
    "register",
    "sign in",
    "scan",
    "secure session",
    "Wi-Fi",
    "binding",
    "controller online",
    "pump on confirmed",
    "pump off confirmed",
    "history holds both",
    "viewer invited",
    "viewer sees the pump switch",
    "firmware update confirmed",
    "bad update rolled back",
)
STEP_TIMEOUT_S = 60.0
SCAN_SECONDS = 5.0
HISTORY_TIMEOUT_S = 15.0
UPDATE_TIMEOUT_S = 45.0
Printer = Callable[[str], None]


class StepFailed(Exception):
    """A step of the story did not hold; the message says why in plain words."""


@dataclass
class StepResult:
    name: str
    ok: bool
    seconds: float
    detail: str = ""


@dataclass
class StoryResult:
    steps: list[StepResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return len(self.steps) == len(STEPS) and all(s.ok for s in self.steps)

    @property
    def failed_step(self) -> StepResult | None:
        return next((s for s in self.steps if not s.ok), None)


def demo_account() -> dict[str, str]:
    """A fresh account that meets the server's rules (12+ characters, mixed classes)."""
    tag = secrets.token_hex(3)
    return {
        "username": f"demo-{tag}",
        "email": f"demo-{tag}@example.com",
        "password": f"Pool-{secrets.token_urlsafe(9)}-7a",
    }


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ApiError):
        return exc.message
    if isinstance(exc, TimeoutError):
        return "no result in time"
    return str(exc) or type(exc).__name__


class Story:
    def __init__(
        self, env: DemoEnvironment, *, out: Printer = print, wifi_password: str | None = None
    ) -> None:
        self.env = env
        self.out = out
        self.wifi_password = env.wifi_password if wifi_password is None else wifi_password
        self.account = demo_account()
        self.controller: DemoController = env.controllers[0]
        self.session = Session(BackendClient(env.backend_url), TokenStore(env.backend_url))
        self.flow: ProvisioningFlow | None = None
        self.store = DeviceStore()
        self.link: MqttLink | None = None
        self.commands: CommandTracker | None = None
        self._connecting: asyncio.Task[Outcome] | None = None
        self._controller_connected = asyncio.Event()  # the flow waits for `online` now
        self.confirmed: dict[bool, str] = {}  # pump on/off -> cmd_id the controller echoed
        self.viewer = Viewer(env.backend_url)  # the second account (docs/sharing.md)
        self.result = StoryResult()

    @property
    def key(self) -> str:
        return self.controller.device_id.lower()

    # -- running ------------------------------------------------------------------------------
    async def run(self) -> StoryResult:
        steps: list[tuple[str, Callable[[], Awaitable[str]]]] = [
            ("register", self.register),
            ("sign in", self.sign_in),
            ("scan", self.scan),
            ("secure session", self.secure_session),
            ("Wi-Fi", self.wifi),
            ("binding", self.binding),
            ("controller online", self.online),
            ("pump on confirmed", lambda: self.switch(True)),
            ("pump off confirmed", lambda: self.switch(False)),
            ("history holds both", self.history),
            ("viewer invited", self.invite_viewer),
            ("viewer sees the pump switch", self.viewer_watches),
            ("firmware update confirmed", self.good_update),
            ("bad update rolled back", self.bad_update),
        ]
        try:
            for name, action in steps:
                if not await self._step(name, action):
                    break
        finally:
            await self.close()
        return self.result

    async def _step(self, name: str, action: Callable[[], Awaitable[str]]) -> bool:
        started = time.monotonic()
        try:
            detail = await asyncio.wait_for(action(), STEP_TIMEOUT_S)
            ok = True
        except (StepFailed, ApiError, ProvisioningError, TimeoutError) as exc:
            detail, ok = _reason(exc), False
        except Exception as exc:  # an unexpected failure still ends in a clear report
            log.exception("demo step %s failed", name)
            detail, ok = f"unexpected error: {_reason(exc)}", False
        result = StepResult(name, ok, time.monotonic() - started, detail)
        self.result.steps.append(result)
        mark = " ok " if ok else "FAIL"
        self.out(f"[{mark}] {name:<27} {result.seconds:6.2f} s  {detail}")
        return ok

    async def close(self) -> None:
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
        if self.flow is not None:
            await (self.flow.close() if self.flow.completed else self.flow.cancel())
        if self.commands is not None:
            self.commands.cancel_all()
        if self.link is not None:
            await self.link.stop()
        await self.viewer.close()
        await self.session.client.aclose()

    # -- the steps ----------------------------------------------------------------------------
    async def register(self) -> str:
        a = self.account
        await self.session.client.register(
            a["username"], a["email"], a["password"], self.controller.device_id
        )
        return f"account {a['username']} with controller {self.controller.device_id}"

    async def sign_in(self) -> str:
        user = await self.session.sign_in(self.account["username"], self.account["password"])
        # As the app does after sign-in: the dashboard's live link to the broker.
        self.store.load(await self.session.client.devices())
        self.link = MqttLink(self._credentials, SUBSCRIPTIONS, on_message=self.store.handle)
        self.commands = CommandTracker(self.store, self.link.publish)
        self.link.start()
        self.flow = ProvisioningFlow(
            self.session.client,
            user.username,
            on_progress=self._progress,
            online_check=self._online_on_broker,
        )
        return f"signed in as {user.username}; dashboard link to the broker started"

    async def _credentials(self) -> MqttCredentials:
        creds = await self.session.client.mqtt_credentials()
        self.store.topic_prefix = creds.topic_prefix
        return creds

    async def _online_on_broker(self, device_id: str) -> bool:
        device = self.store.devices.get(device_id.lower())
        return device is not None and device.online is True

    def _progress(self, progress: Progress) -> None:
        if progress.step is Step.WAITING_ONLINE:
            self._controller_connected.set()

    async def scan(self) -> str:
        assert self.flow is not None
        found = await self.flow.scan(SCAN_SECONDS, wanted=self.controller.device_id)
        if not any(c.device_id == self.controller.device_id for c in found):
            raise StepFailed(
                f"no advertisement from {self.controller.device_id} in {SCAN_SECONDS:.0f} s"
            )
        return "heard " + ", ".join(f"{c.device_id} ({c.rssi} dBm)" for c in found)

    async def secure_session(self) -> str:
        assert self.flow is not None
        target = next(c for c in self.flow.controllers if c.device_id == self.controller.device_id)
        info = await self.flow.select(target)
        if info.bound:
            raise StepFailed(f"{info.device_id} is already bound to an account")
        await self.flow.open_session(self.controller.label_code)
        return f"{info.device_id} (firmware {info.firmware_version}) accepted the claim code"

    async def wifi(self) -> str:
        assert self.flow is not None
        networks = await self.flow.scan_wifi()
        chosen = next((n for n in networks if n.ssid == self.env.wifi_ssid), None)
        if chosen is None:
            heard = ", ".join(n.ssid for n in networks) or "no network"
            raise StepFailed(f"the controller does not hear {self.env.wifi_ssid} (only {heard})")
        return f"the controller hears {len(networks)} networks; {chosen.ssid} at {chosen.rssi} dBm"

    async def binding(self) -> str:
        """Registration, the device's broker login and the binding, until the controller says
        it is connected to the broker (the flow then waits for `online`: the next step)."""
        assert self.flow is not None
        self._connecting = asyncio.create_task(
            self.flow.connect(self.env.wifi_ssid, self.wifi_password, name="Demo pool")
        )
        connected = asyncio.create_task(self._controller_connected.wait())
        try:
            await asyncio.wait({self._connecting, connected}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            connected.cancel()
        if self._controller_connected.is_set():
            return "registered, broker login issued, binding sent; controller on Wi-Fi and MQTT"
        outcome = self._connecting.result()
        raise StepFailed(_outcome_text(outcome))

    async def online(self) -> str:
        assert self._connecting is not None
        outcome = await self._connecting
        if not outcome.online:
            raise StepFailed(_outcome_text(outcome))
        device = self.store.devices[self.key]
        return f"{device.device_id} online on the broker as the dashboard sees it (IP {outcome.ip})"

    async def switch(self, on: bool) -> str:
        assert self.commands is not None
        done = asyncio.get_running_loop().create_future()

        def settled(command) -> None:
            if command.state is not CommandState.PENDING and not done.done():
                done.set_result(command)

        self.commands.subscribe(settled)
        command = self.commands.switch_pump(self.key, on)
        if command.state is CommandState.PENDING:
            command = await done
        if command.state is not CommandState.CONFIRMED:
            raise StepFailed(str(command.message) or f"the command ended {command.state.value}")
        relay = self.controller.sim.relay_on
        if relay is not on:
            raise StepFailed(f"confirmed, but the relay is {'on' if relay else 'off'}")
        self.confirmed[on] = command.cmd_id
        state = "on" if on else "off"
        return f"cmd_id {command.cmd_id[:8]}… echoed by the controller; relay {state}"

    async def history(self) -> str:
        wanted = {cmd_id: on for on, cmd_id in self.confirmed.items()}
        found: dict[str, bool] = {}

        async def look() -> bool:
            page = await self.session.client.history(
                self.controller.device_id, event_type="state", limit=100
            )
            for event in page.events:
                cmd_id = event.data.get("cmd_id") if isinstance(event.data, dict) else None
                if cmd_id in wanted and bool(event.data.get("on")) is wanted[cmd_id]:
                    found[cmd_id] = wanted[cmd_id]
            return len(found) == len(wanted) == 2

        deadline = time.monotonic() + HISTORY_TIMEOUT_S
        while not await look():
            if time.monotonic() > deadline:
                missing = ["on" if on else "off" for cmd, on in wanted.items() if cmd not in found]
                raise StepFailed(f"the history has no pump-{'/'.join(missing)} state of the demo")
            await asyncio.sleep(0.2)
        return "pump on and pump off recorded with their cmd_ids"

    async def invite_viewer(self) -> str:
        """The owner invites a second account (no controller of its own) as a viewer of the
        pool; it accepts and starts its own live view."""
        tokens = self.session.client.tokens
        if tokens is None:
            raise StepFailed("the owner is not signed in")
        try:
            owner = await self.viewer.join(tokens.access, self.controller.device_id)
        except ShareRefused as exc:
            raise StepFailed(str(exc)) from None
        self.viewer.watch()
        return f"{self.viewer.username} accepted; lists {self.controller.device_id} of {owner}"

    async def viewer_watches(self) -> str:
        """The owner switches the pump on and off; the viewer's dashboard core sees both."""
        for on in (True, False):
            await self.switch(on)
            if not await self.viewer.sees_pump(self.key, on, HISTORY_TIMEOUT_S):
                state = "on" if on else "off"
                raise StepFailed(f"the viewer did not see the pump go {state}")
        return f"{self.viewer.username} saw the owner's pump go on, then off"

    async def _update(self, version: str) -> UpdateInfo:
        """Start an update as the owner (the app's card does the same) and follow it until
        it ends, as GET /api/devices reports it."""
        updates = Updates(self.session.client)
        await updates.start(self.controller.device_id, version)
        deadline = time.monotonic() + UPDATE_TIMEOUT_S
        while True:
            info = (await updates.firmware(self.controller.device_id)).update
            if info is not None and info.final:
                return info
            if time.monotonic() > deadline:
                raise StepFailed(f"the update to {version} did not end in {UPDATE_TIMEOUT_S:.0f} s")
            await asyncio.sleep(0.2)

    async def _online_at(self, version: str) -> None:
        """The dashboard sees the controller online, and the controller runs `version`."""
        deadline = time.monotonic() + UPDATE_TIMEOUT_S
        while True:
            device = self.store.devices.get(self.key)
            if device is not None and device.online and self.controller.sim.online:
                running = self.controller.sim.controller.fw_version
                if running == version:
                    return
            if time.monotonic() > deadline:
                raise StepFailed(f"the controller is not back online at {version}")
            await asyncio.sleep(0.1)

    async def good_update(self) -> str:
        releases = self.env.releases
        info = await self._update(releases.good_version)
        if info.state != "confirmed":
            raise StepFailed(info.text)
        await self._online_at(releases.good_version)
        return (
            f"signed release {releases.good_version} downloaded over MQTT, verified, swapped, "
            "confirmed by the controller online"
        )

    async def bad_update(self) -> str:
        releases = self.env.releases
        info = await self._update(releases.bad_version)
        if info.state != "rolled_back":
            raise StepFailed(f"expected a rollback, got: {info.text}")
        await self._online_at(releases.good_version)
        return (
            f"{releases.bad_version} crashed at start-up; the controller went back to "
            f"{releases.good_version} by itself ({info.reason})"
        )


def _outcome_text(outcome: Outcome) -> str:
    return f"the controller did not come online ({outcome.reason}): {outcome.advice}"


async def run_story(out: Printer = print, *, wifi_password: str | None = None) -> bool:
    """Set up the demo, tell the story, tear everything down; True when every step held."""
    from pooldesk.demo.memory_keyring import use_memory_keyring

    use_memory_keyring()
    started = time.monotonic()
    out("PoolDesk demo (headless): starting a backend, its broker and two simulated controllers…")
    async with DemoEnvironment() as env:
        out(f"  backend {env.backend_url} (SQLite and managed Mosquitto in {env.data_dir})")
        for c in env.controllers:
            out(f"  controller {c.device_id}, claim code {c.label_code}, on the virtual radio")
        out(f"  ready in {time.monotonic() - started:.2f} s")
        result = await Story(env, out=out, wifi_password=wifi_password).run()
    failed = result.failed_step
    total = time.monotonic() - started
    if failed is None and result.ok:
        out(f"All {len(STEPS)} steps held ({total:.1f} s in all); everything stopped.")
        return True
    if failed is not None:
        out(f"The demo failed at step '{failed.name}': {failed.detail}")
    return False
