"""Files of a fresh dynamic-security store, written without `mosquitto_ctrl`.

The plugin keeps passwords as PBKDF2-HMAC-SHA512 (64-byte key, 12-byte salt, 101 iterations by
default), base64-encoded; writing the store ourselves lets the admin role be narrower than the one
`mosquitto_ctrl dynsec init` makes (that one may read `#` and `$SYS/#`) and starts the broker with
receive-by-default already denied.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pooldesk_server.broker.base import BrokerLogin
from pooldesk_server.broker.dynsec import DEFAULT_ACL_ACCESS
from pooldesk_server.broker.rights import Rights

PBKDF2_ITERATIONS = 101


def password_entry(password: str, iterations: int = PBKDF2_ITERATIONS) -> dict[str, Any]:
    salt = secrets.token_bytes(12)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, 64)
    return {
        "password": base64.b64encode(key).decode(),
        "salt": base64.b64encode(salt).decode(),
        "iterations": iterations,
    }


def initial_store(admin_username: str, admin_password: str) -> dict[str, Any]:
    control = "$CONTROL/dynamic-security/#"
    return {
        "clients": [
            {
                "username": admin_username,
                "textName": "PoolDesk backend (dynamic-security admin)",
                **password_entry(admin_password),
                "roles": [{"rolename": admin_username}],
            }
        ],
        "roles": [
            {
                "rolename": admin_username,
                "acls": [
                    {"acltype": "publishClientSend", "topic": control, "allow": True},
                    {"acltype": "publishClientReceive", "topic": control, "allow": True},
                    {"acltype": "subscribePattern", "topic": control, "allow": True},
                ],
            }
        ],
        "groups": [],
        "defaultACLAccess": {rule["acltype"]: rule["allow"] for rule in DEFAULT_ACL_ACCESS},
    }


def write_private(path: Path, text: str) -> None:
    """Write `text` to a file only its owner may read (0600), replacing it atomically."""
    write_replacing(path, text, 0o600)


def write_replacing(path: Path, text: str, mode: int = 0o644) -> None:
    """Write `text` to a new file and put it in place of `path` in one step: another process
    reading `path` meanwhile (a worker attaching to the broker) sees the old or the new file,
    never a half-written one."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def write_initial_store(path: Path, admin_username: str, admin_password: str) -> None:
    write_private(path, json.dumps(initial_store(admin_username, admin_password), indent=1))


HASH_SCHEME = "dynsec-pbkdf2-sha512"


def dynsec_password_hash(password: str) -> str:
    """A hash of an MQTT password in the plugin's own format, as one string for a database column:
    `dynsec-pbkdf2-sha512$<iterations>$<salt b64>$<hash b64>`. With it, the managed broker's logins
    can be rebuilt (`ManagedMosquitto.import_logins`) without anyone knowing the passwords."""
    entry = password_entry(password)
    return f"{HASH_SCHEME}${entry['iterations']}${entry['salt']}${entry['password']}"


def _entry_from_hash(password_hash: str) -> dict[str, Any]:
    try:
        scheme, iterations, salt, digest = password_hash.split("$")
        if scheme != HASH_SCHEME:
            raise ValueError(scheme)
        base64.b64decode(salt, validate=True)
        base64.b64decode(digest, validate=True)
        return {"password": digest, "salt": salt, "iterations": int(iterations)}
    except ValueError:
        raise ValueError(f"not a {HASH_SCHEME} password hash") from None


@dataclass(frozen=True)
class HashedLogin:
    """A login as the database keeps it: the password only as `dynsec_password_hash(...)`."""

    username: str
    client_id: str
    rights: Rights
    password_hash: str = field(repr=False)


def merge_logins(
    store: dict[str, Any],
    logins: Sequence[BrokerLogin | HashedLogin],
    admin_username: str,
    replace_all: bool,
) -> dict[str, Any]:
    """Return `store` with these logins (client + role of the same name) added or replaced.

    With `replace_all`, every other login except the admin is removed.
    """
    clients = {c["username"]: c for c in store.get("clients", [])}
    roles = {r["rolename"]: r for r in store.get("roles", [])}
    if replace_all:
        admin_roles = {r["rolename"] for r in clients.get(admin_username, {}).get("roles", [])}
        clients = {k: v for k, v in clients.items() if k == admin_username}
        roles = {k: v for k, v in roles.items() if k in admin_roles}
    for login in logins:
        if login.username == admin_username:
            raise ValueError(f"{login.username!r} is the broker's admin login")
        if isinstance(login, HashedLogin):
            secret = _entry_from_hash(login.password_hash)
        else:
            secret = password_entry(login.password)
        clients[login.username] = {
            "username": login.username,
            "clientid": login.client_id,
            **secret,
            "roles": [{"rolename": login.username}],
        }
        roles[login.username] = {
            "rolename": login.username,
            "acls": [
                {"acltype": r.acltype, "topic": r.topic, "priority": r.priority, "allow": r.allow}
                for r in login.rights
            ],
        }
    return {**store, "clients": list(clients.values()), "roles": list(roles.values())}
