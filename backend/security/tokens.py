"""JWTs: HS256 only, with issuer, audience, expiry, id and a token-type claim."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import jwt

from backend.db.types import utcnow

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


class Tokens:
    def __init__(
        self,
        *,
        secret: str,
        issuer: str,
        audience: str,
        access_seconds: int,
        refresh_seconds: int,
    ) -> None:
        self._secret = secret
        self._issuer = issuer
        self._audience = audience
        self.access_seconds = access_seconds
        self.refresh_seconds = refresh_seconds

    def issue(self, token_type: TokenType, user_id: str, session_id: str) -> IssuedToken:
        now = utcnow()
        access = token_type == "access"  # noqa: S105 - a token kind, not a secret
        seconds = self.access_seconds if access else self.refresh_seconds
        expires_at = now + timedelta(seconds=seconds)
        jti = str(uuid.uuid4())
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
                options={"require": ["iss", "aud", "exp", "iat", "jti", "sub", "sid", "typ"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None
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
        )
