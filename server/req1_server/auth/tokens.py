"""Access tokens: JWT HS256 with ``sub``, ``email``, ``role``, ``iat``, ``exp`` and ``sid`` (§2.1).

``role`` in the token is informational only: authorization always uses the database role.
Link tokens carry ``scope: "link"`` and live 60 seconds; they are accepted only as ``?token=``.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

ALGORITHM = "HS256"
LEEWAY_SECONDS = 60
LINK_TOKEN_SECONDS = 60


@dataclass(frozen=True)
class Claims:
    user_id: uuid.UUID
    session_id: str
    expires_at: int
    scope: str | None


class TokenError(Exception):
    """The token is malformed, badly signed, expired, or misses a required claim."""


def issue(secret: str, user_id: uuid.UUID, email: str, role: str, sid: str, ttl_seconds: int,
          scope: str | None = None) -> tuple[str, int]:
    now = int(time.time())
    exp = now + ttl_seconds
    claims: dict[str, Any] = {"sub": str(user_id), "email": email, "role": role, "iat": now, "exp": exp, "sid": sid}
    if scope is not None:
        claims["scope"] = scope
    return jwt.encode(claims, secret, algorithm=ALGORITHM), exp


VERIFIED_MAX = 10_000
_verified: dict[tuple[str, str], Claims] = {}


def verify(secret: str, token: str) -> Claims:
    """The claims of a valid token. A token verified before is not decoded again (PyJWT's checks of the key
    and the token cost more than the rest of an authenticated request): only its expiry is checked again."""
    key = (secret, token)
    claims = _verified.get(key)
    if claims is not None:
        if time.time() < claims.expires_at + LEEWAY_SECONDS:
            return claims
        _verified.pop(key, None)
        raise TokenError("Signature has expired")
    claims = _decode(secret, token)
    if len(_verified) >= VERIFIED_MAX:
        _verified.clear()
    _verified[key] = claims
    return claims


def _decode(secret: str, token: str) -> Claims:
    try:
        data = jwt.decode(
            token, secret, algorithms=[ALGORITHM], leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "sub", "sid"]},
        )
        sid = data["sid"]
        if not isinstance(sid, str) or not sid:
            raise TokenError("bad sid")
        scope = data.get("scope")
        return Claims(uuid.UUID(str(data["sub"])), sid, int(data["exp"]), scope if isinstance(scope, str) else None)
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as err:
        raise TokenError(str(err)) from err
