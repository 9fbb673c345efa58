"""JWTs: HS256 only, with issuer, audience, expiry, id and a token-type claim."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import jwt

from pooldesk_server.db.types import utcnow

TokenType = Literal["access", "refresh"]
ALGORITHM = "HS256"


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: datetime


@dataclass(frozen=True)
class Claims:
    user_id: str
    session_id: str
    jti: str
    token_type: TokenType
    expires: int = 0  # `exp`, seconds since the epoch


class Tokens:
    def __init__(
        self,
        *,
        secret: str,
        issuer: str,
        audience: str,
        access_seconds: int,
        refresh_seconds: int,
        leeway_seconds: int = 0,
    ) -> None:
        self._secret = secret
        self.leeway_seconds = leeway_seconds
        self._issuer = issuer
        self._audience = audience
        self.access_seconds = access_seconds
        self.refresh_seconds = refresh_seconds

    def issue(
        self,
        token_type: TokenType,
        user_id: str,
        session_id: str,
        *,
        jti: str | None = None,
        issued_at: datetime | None = None,
    ) -> IssuedToken:
        """A signed token. Given the same `jti` and `issued_at` (whole seconds) it is the same
        token again, byte for byte: that is how a refresh retried within the grace window gets
        its successor back without the successor being stored."""
        now = issued_at or utcnow().replace(microsecond=0)
        access = token_type == "access"  # noqa: S105 - a token kind, not a secret
        seconds = self.access_seconds if access else self.refresh_seconds
        expires_at = now + timedelta(seconds=seconds)
        jti = jti or str(uuid.uuid4())
        payload = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": user_id,
            "sid": session_id,
            "jti": jti,
            "typ": token_type,
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        token = jwt.encode(payload, self._secret, algorithm=ALGORITHM)
        return IssuedToken(token=token, jti=jti, expires_at=expires_at)

    def decode(self, token: str, expected_type: TokenType) -> Claims:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                options={
                    "require": ["iss", "aud", "exp", "iat", "jti", "sub", "sid", "typ"],
                    "verify_iat": False,  # checked below, with the leeway
                },
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None
        issued = payload.get("iat")
        if not isinstance(issued, int) or isinstance(issued, bool):
            raise InvalidToken("bad iat claim")
        # Another instance's clock may run a little ahead: a token it issued a moment ago must
        # not be refused here as "issued in the future".
        if issued > utcnow().timestamp() + self.leeway_seconds:
            raise InvalidToken("token issued in the future")
        if payload.get("typ") != expected_type:
            raise InvalidToken(f"expected a {expected_type} token")
        for name in ("sub", "sid", "jti"):
            if not isinstance(payload.get(name), str):
                raise InvalidToken(f"bad {name} claim")
        return Claims(
            user_id=payload["sub"],
            session_id=payload["sid"],
            jti=payload["jti"],
            token_type=expected_type,
            expires=int(payload["exp"]),
        )
