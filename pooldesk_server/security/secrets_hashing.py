"""High-entropy secrets (refresh tokens, API keys, claim codes) are stored as SHA-256 digests.

A slow hash is not needed for them: they are random, long and never chosen by a person.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("ascii"), b.encode("ascii"))


def new_api_key() -> str:
    return "pdk_" + secrets.token_urlsafe(32)
