"""An installer sets up a controller for its owner with the owner's set-up code (docs/sharing.md
"Set-up codes"): simulated controller on the virtual radio, the real backend and its managed
Mosquitto."""

from __future__ import annotations

import pytest

from pooldesk.core.backend_client import ApiError, BackendClient
from pooldesk.core.provisioning_flow import ProvisioningFlow
from tests.app.helpers import unique_user
from tests.app.wizard.conftest import device_ids_on


@pytest.fixture
async def installer(backend):
    """An account without a controller of its own, signed in."""
    user = unique_user()
    client = BackendClient(backend.url)
    await client.register(user["username"], user["email"], user["password"], None)
    await client.login(user["username"], user["password"])
    try:
        yield user["username"], client
    finally:
        await client.aclose()


async def selected(flow: ProvisioningFlow, sim) -> None:
    found = await flow.scan(3.0, wanted=sim.device_id)
    [picked] = [c for c in found if c.device_id == sim.device_id]
    await flow.select(picked)


async def test_the_installer_sets_up_the_owners_controller_and_keeps_no_access(
    account, installer, controllers
) -> None:
    name, client = installer
    [sim] = await controllers(1)
    code = await account.client.create_setup_code()
    flow = ProvisioningFlow(client, name)
    await selected(flow, sim)
    await flow.open_session(sim.claim_code, setup_code=code.code.lower())  # typed loosely
    assert flow.owner == account.username
    await flow.scan_wifi()
    outcome = await flow.connect("PoolNet", "poolpass123")
    assert outcome.online
    binding = sim.stored_config()["binding"]
    assert binding["topic_prefix"].startswith(f"users/{account.username}/devices/")
    assert binding["username"] == account.username
    await flow.close()  # the wizard's Finish: the set-up grant ends now
    [device] = [d for d in await account.client.devices() if d.device_id == sim.device_id]
    assert device.name == sim.device_id  # the owner names it; an installer cannot rename
    assert device.status == "online"
    assert await device_ids_on(client) == set()
    with pytest.raises(ApiError) as gone:
        await client.device(sim.device_id)
    assert gone.value.status == 404
    assert await account.client.setup_codes() == []  # single use


async def test_a_wrong_set_up_code_is_refused_and_registers_nothing(
    account, installer, controllers
) -> None:
    name, client = installer
    [sim] = await controllers(1)
    flow = ProvisioningFlow(client, name)
    await selected(flow, sim)
    with pytest.raises(ApiError) as refused:
        await flow.open_session(sim.claim_code, setup_code="0000-0000-0000")
    assert refused.value.status == 403
    assert refused.value.message.startswith("That set-up code is wrong or has expired")
    assert flow.owner is None
    await flow.cancel()
    assert sim.device_id not in await device_ids_on(account.client)
