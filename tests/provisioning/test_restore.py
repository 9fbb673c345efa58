"""`restore` (docs/provisioning.md §7): the client undoes this session's settings on the device,
in process over the in-memory link (device-side protocol code, the table host as controller)."""

from __future__ import annotations

import pytest

from pooldesk.provisioning import DeviceError, ProvisioningClient, SessionRequired

from .device_side import prov_frame
from .memlink import MemoryLink
from .table_host import TableHost
from .test_end_to_end import CODE, MQTT_PASSWORD, binding, make_host


async def connected(host: TableHost) -> tuple[MemoryLink, ProvisioningClient]:
    link = MemoryLink(host, mtu=23)
    client = ProvisioningClient(link, timeout=5.0)
    await client.device_info()
    await client.open_session(CODE)
    return link, client


@pytest.fixture
async def new_host():
    host = make_host()
    yield host
    await host.aclose()


@pytest.fixture
async def bound_host():
    host = make_host()
    host.binding = binding().to_json()
    host.bound = True
    yield host
    await host.aclose()


async def test_device_lists_restore_among_its_capabilities(new_host):
    link = MemoryLink(new_host)
    info = await ProvisioningClient(link).device_info()
    assert "restore" in info.capabilities


async def test_restore_makes_a_new_controller_unbound_again(new_host):
    _link, client = await connected(new_host)
    wrong = await client.send_binding(binding(password="not-the-one"), wait=True, timeout_s=5)
    assert wrong is not None
    assert wrong.reason == "wifi_auth"
    right = await client.send_binding(binding(), wait=True, timeout_s=5)
    assert right is not None
    assert right.state == "mqtt_connected"
    assert new_host.bound

    watch = client.watch_status()
    assert await client.restore() is True
    assert (await watch.until({"idle"}, timeout_s=5)).state == "idle"  # it stopped connecting
    watch.close()
    assert new_host.binding is None
    assert not new_host.bound
    assert (await client.device_info()).bound is False
    assert new_host.applied[-1] == ("restore", {})  # undone as a whole, to before the first send


async def test_restore_gives_a_bound_controller_its_old_wifi_back(bound_host):
    before = dict(bound_host.binding)
    _link, client = await connected(bound_host)
    failed = await client.send_wifi("Cafe", "", wait=True, timeout_s=5)
    assert failed is not None
    assert bound_host.binding["ssid"] == "Cafe"

    watch = client.watch_status()
    assert await client.restore() is True
    back = await watch.until({"mqtt_connected", "failed"}, timeout_s=5)
    watch.close()
    assert back.state == "mqtt_connected"  # reconnected with the old network
    assert bound_host.binding == before
    assert bound_host.binding["mqtt_password"] == MQTT_PASSWORD


async def test_restore_with_nothing_sent_changes_nothing(bound_host):
    before = dict(bound_host.binding)
    _link, client = await connected(bound_host)
    assert await client.restore() is False
    assert bound_host.binding == before
    assert bound_host.applied == []


async def test_a_second_restore_has_nothing_left_to_undo(new_host):
    _link, client = await connected(new_host)
    await client.send_binding(binding(), wait=True, timeout_s=5)
    assert await client.restore() is True
    assert await client.restore() is False
    # sending again after a restore starts a new undo point, at the restored state
    await client.send_binding(binding(), wait=True, timeout_s=5)
    assert new_host.bound
    assert await client.restore() is True
    assert not new_host.bound


async def test_a_refused_binding_leaves_nothing_to_undo(bound_host):
    class Refusing(TableHost):
        async def apply_binding(self, b):  # the controller's own checks say no
            raise ValueError("topic_prefix may use only a-z 0-9 _ - and /")

    host = Refusing(claim_code=CODE, binding=dict(bound_host.binding), bound=True)
    _link, client = await connected(host)
    with pytest.raises(DeviceError) as refused:
        await client.send_binding(binding())
    assert refused.value.code == "invalid"
    assert await client.restore() is False
    assert host.applied == []


async def test_the_undo_point_ends_with_the_session(new_host):
    _link, client = await connected(new_host)
    await client.send_binding(binding(), wait=True, timeout_s=5)
    await client.close()  # `end`: the sent settings are final now
    with pytest.raises(SessionRequired):
        await client.restore()
    await client.open_session(CODE)
    assert await client.restore() is False
    assert new_host.bound


async def test_the_undo_point_ends_with_a_new_hello(new_host):
    _link, client = await connected(new_host)
    await client.send_binding(binding(), wait=True, timeout_s=5)
    await client.open_session(CODE)  # a new session on the same connection
    assert await client.restore() is False
    assert new_host.bound


async def test_the_undo_point_ends_with_a_disconnect(new_host):
    link, client = await connected(new_host)
    await client.send_binding(binding(), wait=True, timeout_s=5)
    link.disconnect()  # the device forgets the session
    client.connection_lost()
    link.connected = True  # the installer connects again
    client = ProvisioningClient(link, timeout=5.0)
    await client.device_info()
    await client.open_session(CODE)
    assert await client.restore() is False
    assert new_host.bound


async def test_restore_is_sealed_and_refused_in_clear(new_host):
    link, client = await connected(new_host)
    await client.send_binding(binding(), wait=True, timeout_s=5)
    # A plaintext restore from a bystander (no claim code) is refused without effect.
    replies = []
    for frame in prov_frame.split(b'\x01{"v":1,"op":"restore"}', 9, 23):
        replies += await link.core.on_write("prov-config", frame)
    assert b"no_session" in b"".join(f for _, f in replies)
    assert new_host.bound
