"""`HiveMQCloud`: logins on a HiveMQ Cloud cluster (Starter plan or above) through its REST API.

Configuration (environment):
    HIVEMQ_API_URL     the cluster's API base, `https://api.<region>.hivemq.cloud/api/v2/orgs/<org>/clusters/<id>`
    HIVEMQ_API_TOKEN   an API token from the cluster console (Bearer)
    MQTT_BROKER_URL    what clients connect to, e.g. `mqtts://<cluster>.hivemq.cloud:8883`

Mapping: each login becomes a credential, a role of the same name, and one permission per topic of
its rights (publish/subscribe, QoS 0-1, retained messages only where the topic is retained, shared
subscriptions only for the recorder). Rotation deletes and recreates the credential (the API has no
password update) and disconnects the client. HiveMQ applies credential changes within about a
minute and permission changes within five: revocation there is not instant, unlike Mosquitto.
HiveMQ Cloud does not bind a credential to a client id; the client id is kept in the role's
description so `delete_login` can disconnect the live client.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from pooldesk_contract import topics
from pooldesk_server.broker.base import BrokerHealth, BrokerLogin, BrokerRejected, BrokerUnavailable
from pooldesk_server.broker.matching import filter_within
from pooldesk_server.broker.mosquitto import BrokerConfigError
from pooldesk_server.broker.rights import (
    RECORDER_SHARE_GROUP,
    AclRule,
    InvalidTopicName,
    Rights,
    check_rights,
)

ROLE_TAG = "pooldesk login; client id "
RETAINED_TOPICS = tuple(f"/{name}" for name in topics.RETAINED)


def _hivemq_rules(rights: Rights) -> Iterator[tuple[AclRule, str, bool]]:
    """(rule, topic, shared) as HiveMQ needs them. HiveMQ delivers whatever a client may
    subscribe to (no separate receive check), so a plain subscribe pattern wider than the
    login's receive rights (a dashboard's `users/<u>/#`, which must not deliver `binding/#`)
    becomes one subscribe permission per receive right inside it."""
    share_prefix = f"$share/{RECORDER_SHARE_GROUP}/"
    receive = [r.topic for r in rights if r.allow and r.acltype == "publishClientReceive"]
    for rule in rights:
        if not rule.allow or rule.acltype == "publishClientReceive":
            continue
        topic = rule.topic
        if topic.startswith(share_prefix):
            yield rule, topic[len(share_prefix) :], True
            continue
        inside = [t for t in receive if filter_within(t, topic)]
        if rule.acltype != "subscribePattern" or topic in receive or not inside:
            yield rule, topic, False
        else:
            for narrow in inside:
                yield AclRule("subscribePattern", narrow), narrow, False


def permissions_for(username: str, rights: Rights) -> list[dict[str, Any]]:
    """HiveMQ permissions equivalent to `rights` (one per topic filter)."""
    by_topic: dict[str, dict[str, Any]] = {}
    for rule, topic, shared in _hivemq_rules(rights):
        entry = by_topic.setdefault(
            topic,
            {
                "name": f"{username}:{len(by_topic)}",
                "description": f"PoolDesk rights of {username}",
                "topic": topic,
                "publishAllowed": False,
                "subscribeAllowed": False,
                "qos0Allowed": True,
                "qos1Allowed": True,
                "qos2Allowed": False,
                "retainedMsgsAllowed": False,
                "sharedSubAllowed": False,
            },
        )
        if rule.acltype == "publishClientSend":
            entry["publishAllowed"] = True
            entry["retainedMsgsAllowed"] = topic.endswith(RETAINED_TOPICS)
        elif rule.acltype == "subscribePattern":
            entry["subscribeAllowed"] = True
            if shared:
                entry["sharedSubAllowed"] = True
                entry["sharedGroup"] = RECORDER_SHARE_GROUP
    return list(by_topic.values())


def _comparable(permission: Mapping[str, Any]) -> tuple:
    keys = (
        "topic",
        "publishAllowed",
        "subscribeAllowed",
        "qos0Allowed",
        "qos1Allowed",
        "qos2Allowed",
        "retainedMsgsAllowed",
        "sharedSubAllowed",
    )
    return (*(permission.get(k) for k in keys), permission.get("sharedGroup") or None)


def _items(body: Any, *keys: str) -> list[dict[str, Any]]:
    """The list in a response, whichever key the API wraps it in."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in (*keys, "items"):
            if isinstance(body.get(key), list):
                return body[key]
    return []


def _id(body: Any, key: str) -> int:
    inner: Any = (
        body.get(key) if isinstance(body, dict) and isinstance(body.get(key), dict) else body
    )
    try:
        return int(inner["id"])
    except (KeyError, TypeError, ValueError):
        raise BrokerRejected(f"HiveMQ Cloud answered without a {key} id") from None


class HiveMQCloud:
    name = "hivemq-cloud"

    def __init__(
        self,
        *,
        api_url: str,
        api_token: str,
        broker_url: str,
        timeout: float = 15.0,
        page_size: int = 500,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._broker_url = broker_url
        self._page_size = page_size
        self._http = httpx.AsyncClient(
            base_url=api_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_token}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HiveMQCloud:
        env = os.environ if env is None else env
        missing = [
            k for k in ("HIVEMQ_API_URL", "HIVEMQ_API_TOKEN", "MQTT_BROKER_URL") if not env.get(k)
        ]
        if missing:
            raise BrokerConfigError(
                "the 'hivemq-cloud' broker back end needs these environment variables: "
                + ", ".join(missing)
            )
        return cls(
            api_url=env["HIVEMQ_API_URL"],
            api_token=env["HIVEMQ_API_TOKEN"],
            broker_url=env["MQTT_BROKER_URL"],
        )

    @property
    def broker_url(self) -> str:
        return self._broker_url

    @property
    def ca_cert_pem(self) -> str | None:
        return None  # HiveMQ Cloud's certificate chains to a public CA

    async def start(self) -> None:
        await self._request("GET", "/mqtt/roles", params={"limit": 50})

    async def stop(self) -> None:
        await self._http.aclose()

    # ---- HTTP --------------------------------------------------------------------------------

    async def _request(self, method: str, path: str, *, ok_missing: bool = False, **kw: Any) -> Any:
        try:
            response = await self._http.request(method, path, **kw)
        except httpx.HTTPError as error:
            raise BrokerUnavailable(
                f"HiveMQ Cloud API unreachable: {type(error).__name__}"
            ) from None
        if response.status_code == 404 and ok_missing:
            return None
        if response.status_code in (401, 403):
            raise BrokerRejected("HiveMQ Cloud refused the API token (HIVEMQ_API_TOKEN)")
        if response.status_code == 429 or response.status_code >= 500:
            raise BrokerUnavailable(
                f"HiveMQ Cloud API answered {response.status_code}; retry later"
            )
        if response.status_code >= 400:
            detail = _error_detail(response)
            raise BrokerRejected(f"HiveMQ Cloud refused {method} {path}: {detail}")
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    async def _all(self, path: str, key: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        url: str | None = path
        params: dict[str, Any] | None = {"limit": self._page_size}
        while url:
            body = await self._request("GET", url, params=params)
            items += _items(body, key)
            nxt = (body or {}).get("_links", {}).get("next") if isinstance(body, dict) else None
            url, params = (nxt, None) if nxt else (None, None)
        return items

    async def _roles(self) -> dict[str, dict[str, Any]]:
        return {r["name"]: r for r in await self._all("/mqtt/roles", "roles") if "name" in r}

    # ---- BrokerBackend -----------------------------------------------------------------------

    async def put_login(self, login: BrokerLogin) -> None:
        try:
            check_rights(login.rights)
        except InvalidTopicName as error:
            raise BrokerRejected(f"rights of {login.username!r}: {error}") from None
        wanted = permissions_for(login.username, login.rights)
        role = (await self._roles()).get(login.username)
        if role is None:
            role_id = _id(
                await self._request(
                    "POST",
                    "/mqtt/roles",
                    json={
                        "role": {
                            "name": login.username,
                            "description": ROLE_TAG + login.client_id,
                        }
                    },
                ),
                "role",
            )
            current: list[dict[str, Any]] = []
        else:
            role_id = int(role["id"])
            if role.get("description") != ROLE_TAG + login.client_id:
                await self._request(
                    "PUT",
                    f"/mqtt/roles/{role_id}",
                    json={
                        "role": {"name": login.username, "description": ROLE_TAG + login.client_id}
                    },
                )
            current = _items(
                await self._request("GET", f"/mqtt/roles/{role_id}/permissions"), "permissions"
            )
        await self._sync_permissions(role_id, current, wanted)
        user = quote(login.username, safe="")
        await self._request("DELETE", f"/mqtt/credentials/username/{user}", ok_missing=True)
        await self._request(
            "POST",
            "/mqtt/credentials",
            json={"credentials": {"username": login.username, "password": login.password}},
        )
        await self._request("PUT", f"/user/{user}/roles/{role_id}/attach")
        await self._disconnect(login.client_id)  # a rotated password must not stay connected

    async def _sync_permissions(
        self, role_id: int, current: list[dict[str, Any]], wanted: list[dict[str, Any]]
    ) -> None:
        keep = {_comparable(p) for p in wanted}
        have = set()
        for permission in current:
            if _comparable(permission) in keep and _comparable(permission) not in have:
                have.add(_comparable(permission))
                continue
            await self._request("DELETE", f"/mqtt/permissions/{permission['id']}", ok_missing=True)
        for permission in wanted:
            if _comparable(permission) in have:
                continue
            created = await self._request(
                "POST", "/mqtt/permissions", json={"permission": permission}
            )
            permission_id = _id(created, "permission")
            await self._request("PUT", f"/mqtt/roles/{role_id}/permissions/{permission_id}/attach")

    async def put_logins(self, logins: Sequence[BrokerLogin]) -> None:
        for login in logins:
            await self.put_login(login)

    async def change_rights(self, username: str, rights: Rights) -> bool:
        """Replace the permissions of the login's role; its credential stays. HiveMQ Cloud
        applies permission changes to live connections within minutes, so a login that lost
        a right is disconnected now (it reconnects with the same password and the new rights)."""
        try:
            check_rights(rights)
        except InvalidTopicName as error:
            raise BrokerRejected(f"rights of {username!r}: {error}") from None
        role = (await self._roles()).get(username)
        description = str((role or {}).get("description", ""))
        if role is None or not description.startswith(ROLE_TAG):
            return False
        role_id = int(role["id"])
        current = _items(
            await self._request("GET", f"/mqtt/roles/{role_id}/permissions"), "permissions"
        )
        wanted = permissions_for(username, rights)
        await self._sync_permissions(role_id, current, wanted)
        kept = {_comparable(p) for p in wanted}
        if any(_comparable(p) not in kept for p in current):
            await self._disconnect(description[len(ROLE_TAG) :])
        return True

    async def _disconnect(self, client_id: str) -> None:
        path = f"/mqtt/clients/{quote(client_id, safe='')}/connection"
        await self._request("DELETE", path, ok_missing=True)

    async def delete_login(self, username: str) -> None:
        user = quote(username, safe="")
        await self._request("DELETE", f"/mqtt/credentials/username/{user}", ok_missing=True)
        role = (await self._roles()).get(username)
        if role is None:
            return
        description = str(role.get("description", ""))
        if description.startswith(ROLE_TAG):
            await self._disconnect(description[len(ROLE_TAG) :])
        for permission in _items(
            await self._request("GET", f"/mqtt/roles/{role['id']}/permissions", ok_missing=True),
            "permissions",
        ):
            await self._request("DELETE", f"/mqtt/permissions/{permission['id']}", ok_missing=True)
        await self._request("DELETE", f"/mqtt/roles/{role['id']}", ok_missing=True)

    async def list_logins(self) -> set[str]:
        ours = {
            name
            for name, role in (await self._roles()).items()
            if str(role.get("description", "")).startswith(ROLE_TAG)
        }
        names = set()
        for item in await self._all("/mqtt/credentials", "credentials"):
            info = item.get("userInfo") or item.get("credentials") or item
            if isinstance(info, dict) and info.get("username") in ours:
                names.add(str(info["username"]))
        return names

    async def logins_used(self, usernames: Sequence[str]) -> dict[str, int] | None:  # noqa: ARG002
        return None  # the API does not say which credential a connection used

    async def health(self) -> BrokerHealth:
        try:
            await self._request("GET", "/mqtt/roles", params={"limit": 50})
        except (BrokerUnavailable, BrokerRejected) as error:
            return BrokerHealth(False, str(error))
        return BrokerHealth(True, "HiveMQ Cloud API reachable")


def _error_detail(response: httpx.Response) -> str:
    try:
        errors = response.json().get("errors") or []
        return (
            "; ".join(str(e.get("detail") or e.get("title")) for e in errors) or response.text[:200]
        )
    except (ValueError, AttributeError):
        return f"status {response.status_code}"
