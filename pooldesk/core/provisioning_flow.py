"""The "Add device" pass as a Qt-free state machine: Bluetooth scan to "online on my account".

The wizard (`pooldesk/ui/wizard/`) and headless scripts (`pooldesk demo --headless`,
`bench/provision.py`) drive the same object. Each step is an awaitable method; progress arrives
through one plain callback; every failure is an exception with a sentence for the installer
(`ProvisioningError`, `ApiError`) or an `Outcome` that says what to do next.

    flow = ProvisioningFlow(backend_client, "alice", on_progress=print)
    found = await flow.scan(3.0)                       # [NearbyController], strongest first
    info = await flow.select(found[0])                 # Bluetooth connection + device-info
    await flow.identify(5)                             # the picked unit blinks (optional)
    await flow.open_session("KQ4M-7XTZ-2PB6-WRHD")     # or the label's QR text
    networks = await flow.scan_wifi()                  # what the controller hears
    outcome = await flow.connect("PoolNet", "poolpass123", name="Back garden")
    if not outcome.online:                             # outcome.next_step: password/rescan/retry
        outcome = await flow.connect("PoolNet", "the-right-one")
    await flow.close()                                 # keeps the result, ends the session

    # A bound controller on a new router, binding untouched:
    outcome = await flow.change_wifi("NewRouter", "secret")

    await flow.cancel()                                # any time, from any task

Guarantees:
- `connect` registers the device on the account (`POST /api/devices` with the claim code) only
  when it is not there yet, fetches the device's broker login, then writes the binding. A
  refused broker login ("broker_auth") is answered once by fresh credentials and a resend.
- Online means both: the controller reports `mqtt_connected` over Bluetooth, and the broker side
  says `online` (`online_check`, by default the backend's device list, which the recorder keeps
  from the `status` topic; the app passes its live MQTT device store).
- `cancel()` stops the running step (never in the middle of a write to the controller), asks
  the controller to restore the settings it had before this session's binding / Wi-Fi (`restore`,
  docs/provisioning.md §7: a new controller is unbound again, a Change Wi-Fi gets its old
  network back), removes a device this pass registered but did not bring online
  (`DELETE /api/devices/{id}`, which also revokes its broker login), ends the secure session and
  disconnects. Known limit: the undo point lives in the secure session; settings sent in a session
  that ended early (the Bluetooth link dropped) stay on the controller, and `cleanup_problems`
  says so and what to do.
- A dropped Bluetooth link fails the running step at once with LinkError ("...pick it again from
  the list"); `select` the controller again to go on (a registration made here is reused).
- `timings` lists (step, seconds) for every step taken, for the demo and the benchmark.

Installer (docs/sharing.md "Set-up codes"): `open_session(claim_code, setup_code=…)` registers
the controller to the owner of the set-up code; the binding carries the owner's prefix and name,
online is read from `GET /api/devices/{id}` (the only read the set-up grant allows), and
`close()` / `cancel()` end the grant. The grant allows no renaming: the owner names the device.
An installer cannot remove the owner's device, so a cancel
after the registration leaves it on the owner's account and `cleanup_problems` says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, TypeVar

from pooldesk.core import setup_codes
from pooldesk.core.backend_client import ApiError, BackendClient
from pooldesk.core.bluetooth_problems import classify as classify_bluetooth_problem
from pooldesk.core.failures import Code, Failure, failure
from pooldesk.provisioning import (
    FAILURE_ADVICE,
    Binding,
    DeviceInfo,
    LinkError,
    ProvisioningClient,
    ProvisioningError,
    ProvisioningTimeout,
    StatusEvent,
    WifiNetwork,
    parse_claim_code,
)
from pooldesk.provisioning.client import StatusWatch

log = logging.getLogger(__name__)

T = TypeVar("T")
LINK_LOST = failure(Code.BLUETOOTH_LINK_LOST)
OnlineCheck = Callable[[str], Awaitable[bool]]  # device id (ESP-A1B2C3) -> online on the broker?


class Step(enum.Enum):
    IDLE = "idle"
    SCANNING = "scanning"  # Bluetooth scan (Progress.fraction, Progress.found)
    PICK = "pick"  # scan done: choose a controller
    CONNECTING_BLE = "connecting_ble"  # Bluetooth connection to the picked controller
    CLAIM = "claim"  # connected: identify, enter the claim code
    OPENING_SESSION = "opening_session"
    WIFI_SCAN = "wifi_scan"  # the controller scans for networks
    WIFI = "wifi"  # choose a network, enter its password
    REGISTERING = "registering"  # POST /api/devices
    CREDENTIALS = "credentials"  # POST /api/devices/{id}/credentials
    SENDING = "sending"  # binding / Wi-Fi written to the controller
    CONNECTING = "connecting"  # live status from the controller (Progress.status)
    WAITING_ONLINE = "waiting_online"  # controller says MQTT connected; waiting for `online`
    ONLINE = "online"
    FAILED = "failed"  # Progress.outcome says why and what to do
    CANCELLED = "cancelled"
    CLOSED = "closed"


class NextStep(enum.Enum):
    """What the installer should do after a failed connection attempt."""

    PASSWORD = "password"  # noqa: S105 - enter the Wi-Fi password again
    RESCAN = "rescan"  # scan for networks again and pick another / move closer
    RETRY = "retry"  # try the same settings again (server side or network problem)


_NEXT = {
    "wifi_auth": NextStep.PASSWORD,
    "wifi_not_found": NextStep.RESCAN,
    "no_ip": NextStep.RETRY,
    "broker_unreachable": NextStep.RETRY,
    "broker_auth": NextStep.RETRY,
    "timeout": NextStep.RETRY,
    "not_online": NextStep.RETRY,
}
_EXTRA_ADVICE = {
    "timeout": "The controller reported no result in time. Check it has power and is in range, "
    "then retry.",
    "not_online": "The controller connected, but the server did not see it come online. Retry.",
}


@dataclass(frozen=True)
class Outcome:
    """The result of `connect`/`change_wifi`."""

    online: bool
    reason: str | None = None  # wifi_auth, wifi_not_found, no_ip, broker_unreachable,
    # broker_auth (the controller's), or timeout / not_online (the flow's)
    ip: str | None = None

    @property
    def next_step(self) -> NextStep | None:
        return None if self.online else _NEXT.get(self.reason or "", NextStep.RETRY)

    @property
    def advice(self) -> str:
        """What to do next, in plain English (the UI translates by `reason` instead)."""
        if self.online:
            return ""
        return FAILURE_ADVICE.get(self.reason or "") or _EXTRA_ADVICE.get(
            self.reason or "", "Retry."
        )


@dataclass(frozen=True)
class Progress:
    step: Step
    fraction: float | None = None  # scan progress 0..1
    found: Any = None  # a NearbyController heard during the scan
    status: StatusEvent | None = None  # the controller's live status while CONNECTING
    outcome: Outcome | None = None  # with FAILED / ONLINE


class FlowCancelled(ProvisioningError):
    """The installer cancelled; cleanup has run (see `ProvisioningFlow.cleanup_problems`)."""

    def __init__(self) -> None:
        super().__init__("Cancelled.")


class FlowError(ProvisioningError):
    """A step was called out of order, or the controller is not fit for it."""


class ProvisioningFlow:
    """One guided pass over one controller at a time. Not reusable after `close`/`cancel`."""

    def __init__(
        self,
        backend: BackendClient,
        username: str,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        online_check: OnlineCheck | None = None,
        request_timeout: float = 10.0,
        connect_timeout: float = 60.0,
        online_timeout: float = 20.0,
        poll_interval: float = 0.1,
        bluetooth_timeout: float = 8.0,
    ) -> None:
        self.backend = backend
        self.username = username
        self.on_progress = on_progress
        self.online_check = online_check or backend_online_check(backend)
        self.request_timeout = request_timeout
        self.connect_timeout = connect_timeout
        self.online_timeout = online_timeout
        self.poll_interval = poll_interval
        self.bluetooth_timeout = bluetooth_timeout  # beyond the scan's own duration

        self.step = Step.IDLE
        self.timings: list[tuple[Step, float]] = []
        self.controllers: list[Any] = []  # NearbyController from the last scan
        self.controller: Any = None  # the picked NearbyController
        self.info: DeviceInfo | None = None
        self.networks: list[WifiNetwork] = []
        self.client: ProvisioningClient | None = None
        self.device_registered_here = False  # this pass added it to the account
        self.completed = False  # the controller went online in this pass
        self.cleanup_problems: list[Failure] = []  # what cancel could not undo
        self.link_lost = False  # the Bluetooth link dropped: pick the controller again
        self._sent_in_session = False  # binding/Wi-Fi written in the open session, not final yet
        self._kept_on: str | None = None  # controller left with unfinished settings (no undo)
        self._bound_before_send: bool | None = None  # was it bound before this pass wrote to it
        self._lost = asyncio.Event()
        self._claim_code: str | None = None
        self.setup_code: str | None = None  # installing for the owner of this code
        self.owner: str | None = None  # that owner, once the device is registered to them
        self._name: str | None = None  # the name given to the device in this pass
        self._credentials: dict[str, Any] | None = None
        self._stack: AsyncExitStack | None = None
        self._op: asyncio.Task[Any] | None = None
        self._critical = False
        self._cancel_requested = False
        self._finished = False
        self._step_started = time.perf_counter()

    # -- progress ---------------------------------------------------------------------------
    def _set(self, step: Step, **fields: Any) -> None:
        now = time.perf_counter()
        if step is not self.step:
            self.timings.append((self.step, now - self._step_started))
            self._step_started = now
            self.step = step
        self._emit(Progress(step, **fields))

    def _emit(self, progress: Progress) -> None:
        if self.on_progress is None:
            return
        try:
            self.on_progress(progress)
        except Exception:
            log.exception("progress callback failed")

    @property
    def device_id(self) -> str | None:
        return self.info.device_id if self.info else None

    # -- steps --------------------------------------------------------------------------------
    async def scan(self, duration: float = 3.0, *, wanted: str | None = None) -> list[Any]:
        """Nearby controllers, strongest first; `wanted` ends the scan when that id is heard."""
        from pooldesk.ble.scan import scan_for_controllers

        def found(controller: Any) -> None:
            self._emit(Progress(Step.SCANNING, found=controller))

        def progress(fraction: float) -> None:
            self._emit(Progress(Step.SCANNING, fraction=fraction))

        stop = (lambda seen: wanted.upper() in seen) if wanted else None

        async def bounded_scan() -> list[Any]:
            # Bluetooth that cannot be reached must end the scan with a reason, never hang it.
            try:
                async with asyncio.timeout(duration + self.bluetooth_timeout):
                    return await scan_for_controllers(
                        duration, on_found=found, on_progress=progress, stop_when=stop
                    )
            except ProvisioningError:
                raise
            except Exception as exc:
                problem = classify_bluetooth_problem(exc)
                log.warning("Bluetooth scan failed (%s): %s", problem.cause.value, problem.detail)
                raise problem from exc

        self._set(Step.SCANNING, fraction=0.0)
        try:
            self.controllers = await self._run(bounded_scan())
        finally:
            if self.step is Step.SCANNING and not self._cancel_requested:
                self._set(Step.PICK)
        return self.controllers

    async def select(self, controller: Any) -> DeviceInfo:
        """Connect to a controller from the scan and read its device-info."""
        from pooldesk.ble.link import open_gatt_link

        self._checkpoint()
        switching = self.info is not None and self.info.device_id != controller.device_id
        if switching:  # the first unit was not finished: put its settings back first
            with contextlib.suppress(ProvisioningError):
                await self._restore_unfinished()
        await self._disconnect()
        if switching:
            await self._undo_registration()
            self.info = None
            if self._kept_on is None:
                self._bound_before_send = None
        self.controller = controller
        self._claim_code = None
        self._credentials = None
        self.link_lost = False
        self._lost.clear()
        self._set(Step.CONNECTING_BLE)
        stack = AsyncExitStack()
        try:
            link = await self._run(
                stack.enter_async_context(
                    open_gatt_link(controller.ble_device, on_disconnect=self._link_lost)
                )
            )
            self._stack = stack
            self.client = ProvisioningClient(link, timeout=self.request_timeout)
            self.info = await self._run(self.client.device_info())
        except BaseException:
            self.client = None
            self._stack = None
            with contextlib.suppress(Exception):
                await stack.aclose()
            if not self._cancel_requested:
                self._set(Step.PICK)
            raise
        self._set(Step.CLAIM)
        return self.info

    async def identify(self, seconds: int = 5) -> None:
        """Blink the picked controller's LED (before the session too, at most 10 s then)."""
        client = self._need_client()
        if not client.session_open:
            seconds = min(seconds, 10)
        await self._run(client.identify(seconds))

    async def open_session(self, claim_code: str, *, setup_code: str | None = None) -> None:
        """The secure session bound to the claim code (typed, grouped or the QR text).

        A wrong code raises WrongClaimCode (with `retry_after`); RetryLater while the controller
        waits. Neither is permanent: enter the code again. With an owner's `setup_code` the
        controller is registered to that owner (an installer's pass).
        """
        client = self._need_client()
        _, canonical = parse_claim_code(claim_code, expected_device_id=self.device_id)
        if setup_code is not None:
            self.setup_code = setup_codes.normalize(setup_code)
        self._session_ended()  # a new hello discards the previous session and its undo point
        self._set(Step.OPENING_SESSION)
        try:
            await self._run(client.open_session(claim_code))
        except BaseException:
            if not self._cancel_requested:
                self._set(Step.CLAIM)
            raise
        self._claim_code = canonical
        try:
            # Account first: a controller someone else owns must fail now, not after the
            # Wi-Fi scan, the password and the wait for it to come online.
            await self._run(self._claim_on_account(self._need_device_id()))
        except BaseException:
            if not self._cancel_requested:
                self._set(Step.CLAIM)
            raise
        self._set(Step.WIFI_SCAN)

    async def _claim_on_account(self, device_id: str) -> None:
        """Add the controller to the account with the claim code it has just proven (so a
        wrong code is counted by the controller only). Already there: nothing to do."""
        self._set(Step.REGISTERING)
        if self.setup_code is not None:
            await self._register_for_owner(device_id, None)
            return
        on_account = {d.device_id.upper() for d in await self.backend.devices()}
        if device_id.upper() in on_account:
            return
        self._checkpoint()
        await self.backend.add_device(device_id, None, self._claim_code)
        self.device_registered_here = True

    async def scan_wifi(self) -> list[WifiNetwork]:
        """The networks the controller hears (not the laptop), strongest first."""
        client = self._need_session()
        self._set(Step.WIFI_SCAN)
        try:
            self.networks = await self._run(client.scan_wifi())
        finally:
            if not self._cancel_requested:
                self._set(Step.WIFI)
        return self.networks

    async def connect(self, ssid: str, password: str, *, name: str | None = None) -> Outcome:
        """Register (once), fetch the broker login, write the binding, follow it to online.

        Call again with corrected settings after a failed Outcome; the registration and login
        are reused, nothing needs resetting on the controller.
        """
        client = self._need_session()
        device_id = self._need_device_id()
        if self.setup_code is not None:
            name = None  # the set-up grant allows no renaming: the owner names it
        if self._credentials is None:
            self._credentials = await self._run(self._register_and_fetch(device_id, name))
            self._name = name or None
        elif name and name != self._name:  # typed on a retry: it still applies
            await self._run(self.backend.rename_device(device_id, name))
            self._name = name
        return await self._run(self._bind_and_follow(client, ssid, password))

    async def change_wifi(self, ssid: str, password: str) -> Outcome:
        """New Wi-Fi for a controller that is already bound; its binding stays as it is."""
        client = self._need_session()
        if self.info is None or not self.info.bound:
            raise FlowError(failure(Code.NOT_SET_UP_NO_WIFI))

        async def send() -> StatusWatch:
            watch = client.watch_status()
            self._sending()
            try:
                await client.send_wifi(ssid, password)
            except BaseException:
                watch.close()
                raise
            return watch

        self._set(Step.SENDING)
        watch = await self._critical_section(send())
        return await self._run(self._follow(watch, resend=None))

    async def close(self) -> None:
        """Finish: end the secure session and disconnect. Keeps what was done."""
        if self._finished:
            return
        self._finished = True
        await self._disconnect()
        await self._end_grant()
        self._set(Step.CLOSED)

    async def cancel(self) -> None:
        """Stop now and undo what the installer did not finish (see the module docstring)."""
        if self._finished:
            return
        self._cancel_requested = True
        op = self._op
        if op is not None and not op.done():
            if not self._critical:
                op.cancel()
            await asyncio.wait({op})
        self._finished = True
        problems: list[Failure] = []
        undo_failed: ProvisioningError | None = None
        try:
            await self._restore_unfinished()
        except ProvisioningError as exc:
            log.info("could not restore the controller's settings: %s", exc)
            undo_failed = exc
        self._session_ended()
        if self._kept_on is not None and not self.completed:
            problems.append(self._kept_advice(self._kept_on, undo_failed))
        try:
            kept = await self._undo_registration()
            if kept:
                problems.append(kept)
        except ApiError as exc:
            problems.append(
                failure(Code.DEVICE_NOT_REMOVED, device=self.device_id or "", cause=exc.failure)
            )
        self.cleanup_problems = problems
        await self._disconnect()
        self._set(Step.CANCELLED)

    # -- internals ------------------------------------------------------------------------------
    def _sending(self) -> None:
        """A binding / Wi-Fi is about to be written: from now on there is something to undo."""
        if self._bound_before_send is None:
            self._bound_before_send = bool(self.info and self.info.bound)
        self._sent_in_session = True

    def _session_ended(self) -> None:
        """The secure session is over (or about to be): what it sent can no longer be undone."""
        if self._sent_in_session and not self.completed:
            self._kept_on = self.device_id
        self._sent_in_session = False

    async def _restore_unfinished(self) -> None:
        """Ask the controller to put back its settings from before this session's writes."""
        client = self.client
        if not self._sent_in_session or self.completed or client is None:
            return
        if client.session_open and not self.link_lost:
            await client.restore()
            self._sent_in_session = False

    def _kept_advice(self, device_id: str, undo_failed: ProvisioningError | None) -> Failure:
        wifi_only = bool(self._bound_before_send)
        if undo_failed is None:
            code = Code.KEPT_WIFI_LINK_ENDED if wifi_only else Code.KEPT_SETTINGS_LINK_ENDED
            return failure(code, device=device_id)
        code = Code.KEPT_WIFI_UNDO_FAILED if wifi_only else Code.KEPT_SETTINGS_UNDO_FAILED
        return failure(code, device=device_id, reason=undo_failed.failure or str(undo_failed))

    async def _undo_registration(self) -> Failure | None:
        """Remove the device this pass added to the account, unless it went online. An
        installer cannot: the grant ends, and the answer says where the device stays."""
        if self.owner is not None and self.device_id:
            owner = self.owner
            await self._end_grant()
            if self.completed:
                return None
            return failure(Code.DEVICE_STAYS_WITH_OWNER, device=self.device_id, owner=owner)
        if self.device_registered_here and not self.completed and self.device_id:
            await self.backend.remove_device(self.device_id)
            self.device_registered_here = False
        return None

    async def _register_for_owner(self, device_id: str, name: str | None) -> None:
        """An installer's registration: once, to the set-up code's owner."""
        if self.owner is not None:
            return
        self._checkpoint()
        info = await self.backend.add_device(
            device_id, name or None, self._claim_code, setup_code=self.setup_code
        )
        self.owner = info.owner or None
        self.device_registered_here = True

    async def _end_grant(self) -> None:
        """The installer's last step: no access to the owner's device from now on."""
        if self.owner is None or not self.device_id:
            return
        try:
            await self.backend.end_setup_grant(self.device_id)
        except ApiError as exc:  # it ends by itself at its expiry anyway
            log.info("the set-up grant was not ended: %s", exc.message)
        self.owner = None

    async def _register_and_fetch(self, device_id: str, name: str | None) -> dict[str, Any]:
        self._checkpoint()
        self._set(Step.REGISTERING)
        if self.setup_code is not None:
            await self._register_for_owner(device_id, name)
            self._checkpoint()
            return await self._fetch_credentials(device_id)
        on_account = {d.device_id.upper() for d in await self.backend.devices()}
        if device_id.upper() not in on_account:
            self._checkpoint()
            await self.backend.add_device(device_id, name or None, self._claim_code)
            self.device_registered_here = True
        elif name:
            # Registered at sign-up: the name the installer typed still applies.
            await self.backend.rename_device(device_id, name)
        self._checkpoint()
        return await self._fetch_credentials(device_id)

    async def _fetch_credentials(self, device_id: str) -> dict[str, Any]:
        self._set(Step.CREDENTIALS)
        data = await self.backend.device_credentials(device_id)
        self._checkpoint()
        return data

    def _binding(self, ssid: str, password: str) -> Binding:
        creds = self._credentials or {}
        return Binding(
            ssid=ssid,
            password=password,
            broker_url=str(creds["brokerUrl"]),
            mqtt_user=str(creds["mqttUser"]),
            mqtt_password=str(creds["mqttPassword"]),
            client_id=str(creds["clientId"]),
            topic_prefix=str(creds["topicPrefix"]),
            username=self.owner or self.username,
            ca_cert=creds.get("caCert") or None,
        )

    async def _bind_and_follow(
        self, client: ProvisioningClient, ssid: str, password: str
    ) -> Outcome:
        async def send() -> StatusWatch:
            watch = client.watch_status()
            self._sending()
            try:
                await client.send_binding(self._binding(ssid, password))
            except BaseException:
                watch.close()
                raise
            return watch

        async def resend_with_fresh_login() -> StatusWatch:
            self._credentials = await self._fetch_credentials(self._need_device_id())
            self._set(Step.SENDING)
            return await self._critical_section(send())

        self._set(Step.SENDING)
        watch = await self._critical_section(send())
        return await self._follow(watch, resend=resend_with_fresh_login)

    async def _follow(
        self,
        watch: StatusWatch,
        resend: Callable[[], Coroutine[Any, Any, StatusWatch]] | None,
    ) -> Outcome:
        """Status events until mqtt_connected (then broker-side online) or a failure."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.connect_timeout
        ip: str | None = None
        self._set(Step.CONNECTING)
        try:
            while True:
                try:
                    event = await self._next_status(watch, max(0.0, deadline - loop.time()))
                except ProvisioningTimeout:
                    return self._failed(Outcome(False, "timeout"))
                self._emit(Progress(Step.CONNECTING, status=event))
                ip = event.ip or ip
                if event.state == "mqtt_connected":
                    break
                if event.state != "failed":
                    continue
                if event.reason == "broker_auth" and resend is not None:
                    watch.close()
                    watch = await resend()
                    resend = None  # once: refused again means something else is wrong
                    self._set(Step.CONNECTING)
                    continue
                return self._failed(Outcome(False, event.reason or "failed", ip))
        finally:
            watch.close()
        self._set(Step.WAITING_ONLINE)
        if not await self._wait_online(self._need_device_id()):
            return self._failed(Outcome(False, "not_online"))
        self.completed = True
        outcome = Outcome(True, None, ip)
        self._set(Step.ONLINE, outcome=outcome)
        return outcome

    async def _next_status(self, watch: StatusWatch, timeout_s: float) -> StatusEvent:
        """The next status event, or LinkError as soon as the Bluetooth link drops."""
        if self.link_lost:
            raise LinkError(LINK_LOST)
        event = asyncio.ensure_future(watch.next(timeout_s))
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait({event, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (event, lost):
                task.cancel()
        if event.done() and not event.cancelled():
            return event.result()
        raise LinkError(LINK_LOST)

    async def _wait_online(self, device_id: str) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.online_timeout
        check = self.online_check if self.owner is None else self._granted_online
        while True:
            try:
                if await check(device_id):
                    return True
            except ApiError as exc:  # a hiccup of the server: keep asking until the deadline
                log.info("online check failed: %s", exc.message)
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(self.poll_interval)

    async def _granted_online(self, device_id: str) -> bool:
        """Online as the backend says, read through the installer's set-up grant."""
        return (await self.backend.device(device_id)).status == "online"

    def _failed(self, outcome: Outcome) -> Outcome:
        self._set(Step.FAILED, outcome=outcome)
        return outcome

    async def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run one step as a task `cancel()` can stop; a cancel then reads as FlowCancelled."""
        self._checkpoint()
        if self._op is not None and not self._op.done():
            if self._op is asyncio.current_task():
                return await coro  # nested step inside the running one
            coro.close()
            raise FlowError(failure(Code.STEP_STILL_RUNNING))
        task = asyncio.ensure_future(coro)
        self._op = task
        try:
            return await task
        except asyncio.CancelledError:
            if self._cancel_requested and task.cancelled():
                raise FlowCancelled() from None
            raise
        finally:
            if self._op is task:
                self._op = None

    async def _critical_section(self, coro: Coroutine[Any, Any, T]) -> T:
        """A write to the controller: never cut in half; a cancel takes effect right after."""
        self._checkpoint()
        self._critical = True
        try:
            result = await asyncio.shield(asyncio.ensure_future(coro))
        finally:
            self._critical = False
        if self._cancel_requested:
            if isinstance(result, StatusWatch):
                result.close()
            raise FlowCancelled()
        return result

    def _checkpoint(self) -> None:
        if self._cancel_requested:
            raise FlowCancelled()
        if self._finished:
            raise FlowError(failure(Code.FLOW_ENDED))

    def _need_client(self) -> ProvisioningClient:
        if self._finished:
            raise FlowError(failure(Code.FLOW_ENDED))
        if self.link_lost:
            raise LinkError(LINK_LOST)
        if self.client is None:
            raise FlowError(failure(Code.PICK_CONTROLLER_FIRST))
        return self.client

    def _need_session(self) -> ProvisioningClient:
        client = self._need_client()
        if not client.session_open:
            raise FlowError(failure(Code.CLAIM_CODE_FIRST))
        return client

    def _need_device_id(self) -> str:
        if self.info is None:
            raise FlowError(failure(Code.PICK_CONTROLLER_FIRST))
        return self.info.device_id

    def _link_lost(self) -> None:
        if self.client is not None:
            self._session_ended()
            self.link_lost = True
            self._lost.set()
            self.client.connection_lost(LINK_LOST)

    async def _disconnect(self) -> None:
        self._session_ended()
        client, stack = self.client, self._stack
        self.client, self._stack = None, None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), 5)
        if stack is not None:
            with contextlib.suppress(Exception):
                await stack.aclose()


def backend_online_check(backend: BackendClient) -> OnlineCheck:
    """`online` as the backend's device list says (the recorder follows the `status` topic)."""

    async def check(device_id: str) -> bool:
        for device in await backend.devices():
            if device.device_id.upper() == device_id.upper():
                return device.status == "online"
        return False

    return check
