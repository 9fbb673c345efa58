"""Sign-in, registration, restore from the keyring, refresh and revocation against the real
backend process."""

from __future__ import annotations

import pytest

from pooldesk.core.backend_client import ApiError, BackendClient, SessionEnded
from pooldesk.core.failures import Code, Failure, failure
from pooldesk.core.session import Session, SessionState
from pooldesk.core.token_store import TokenStore
from tests.app.helpers import unique_user


async def new_session(url: str) -> Session:
    return Session(BackendClient(url), TokenStore(url))


async def registered(url: str) -> tuple[Session, dict[str, str]]:
    user = unique_user()
    session = await new_session(url)
    await session.register(user["username"], user["email"], user["password"], user["device_id"])
    return session, user


async def test_register_signs_in_and_keeps_the_refresh_token_in_the_keyring(
    backend, memory_keyring
) -> None:
    states: list[SessionState] = []
    user = unique_user()
    session = await new_session(backend.url)
    session.subscribe(lambda state, _msg: states.append(state))
    await session.register(user["username"], user["email"], user["password"], user["device_id"])
    try:
        assert session.state is SessionState.SIGNED_IN
        assert session.user.username == user["username"]
        assert states == [SessionState.SIGNING_IN, SessionState.SIGNED_IN]
        [(service, key)] = memory_keyring.entries
        assert key == f"session:{backend.url}"
        stored = memory_keyring.entries[(service, key)]
        assert session.client.tokens.refresh in stored
        assert session.client.tokens.access not in stored  # the access token stays in memory
        devices = await session.client.devices()
        assert [d.device_id for d in devices] == [user["device_id"]]
    finally:
        await session.client.aclose()


async def test_refusals_carry_the_servers_reason_as_the_apps_code(backend) -> None:
    session, user = await registered(backend.url)
    await session.client.aclose()
    again = await new_session(backend.url)
    with pytest.raises(ApiError) as refused:
        await again.register(user["username"], "other@example.com", user["password"], "ESP-FFFFF0")
    assert refused.value.status == 409
    assert refused.value.failure == failure(Code.USERNAME_TAKEN)
    assert again.state is SessionState.SIGNED_OUT
    assert again.message == refused.value.failure
    with pytest.raises(ApiError) as wrong:
        await again.sign_in(user["username"], "Wrong-password-1!")
    assert wrong.value.failure == failure(Code.WRONG_CREDENTIALS)
    await again.client.aclose()


async def test_restart_restores_the_session_from_the_keyring(backend) -> None:
    session, user = await registered(backend.url)
    first_refresh = session.client.tokens.refresh
    await session.client.aclose()

    restarted = await new_session(backend.url)  # a new process: nothing but the keyring
    assert await restarted.start() is True
    assert restarted.state is SessionState.SIGNED_IN
    assert restarted.user.username == user["username"]
    assert restarted.client.tokens.refresh != first_refresh  # rotated on restore
    assert restarted.store.load().refresh_token == restarted.client.tokens.refresh
    await restarted.client.aclose()


async def test_expired_access_token_is_refreshed_unnoticed(backend) -> None:
    session, _user = await registered(backend.url)
    client = session.client
    before = client.tokens.refresh
    client.expire_access_token_now()  # refreshed before the call
    assert len(await client.sessions()) == 1
    assert client.tokens.refresh != before
    assert session.store.load().refresh_token == client.tokens.refresh

    client.tokens.access = "not-a-valid-token"  # the server says 401: refresh once, retry
    middle = client.tokens.refresh
    assert [d.device_id for d in await client.devices()]
    assert client.tokens.refresh != middle
    assert session.state is SessionState.SIGNED_IN
    await client.aclose()


async def test_revoked_session_returns_to_sign_in_with_a_message(backend) -> None:
    session, user = await registered(backend.url)
    other = await new_session(backend.url)
    other.store = TokenStore("other-install")  # a second computer with its own keyring entry
    await other.sign_in(user["username"], user["password"])
    mine = [s for s in await other.client.sessions() if not s.current]
    assert len(mine) == 1
    await other.client.end_session(mine[0].id)

    messages: list[str] = []
    session.subscribe(lambda state, msg: messages.append(f"{state.value}:{msg}"))
    session.client.expire_access_token_now()
    with pytest.raises(SessionEnded):
        await session.client.devices()
    assert session.state is SessionState.SIGNED_OUT
    assert messages
    assert messages[-1].startswith("signed_out:")
    assert "Sign in again" in messages[-1]
    assert session.store.load() is None  # the dead token left the keyring
    await session.client.aclose()
    await other.client.aclose()


async def test_sign_out_ends_the_server_session_and_clears_the_keyring(backend, memory_keyring):
    session, _user = await registered(backend.url)
    refresh = session.client.tokens.refresh
    await session.sign_out()
    assert session.state is SessionState.SIGNED_OUT
    assert memory_keyring.entries == {}
    probe = BackendClient(backend.url)
    with pytest.raises(SessionEnded):
        await probe.restore(refresh)  # the server no longer honours it
    await probe.aclose()
    await session.client.aclose()


async def test_unreachable_server_keeps_the_stored_session(backend) -> None:
    session, _ = await registered(backend.url)
    await session.client.aclose()
    from tests.support.ports import free_port

    stored = session.store.load()
    dead = Session(BackendClient(f"http://127.0.0.1:{free_port()}"), session.store)
    assert await dead.start() is False
    assert isinstance(dead.message, Failure)
    assert dead.message.code is Code.SERVER_UNREACHABLE
    assert session.store.load() == stored  # try again later with the same token
    await dead.client.aclose()
