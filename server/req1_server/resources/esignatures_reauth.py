"""Re-authentication for an e-signature (extended contract §3.4): the signer types their password again.

The password is checked against the stored hash in the bounded hashing pool (``auth/passwords.py``). Failures
count in the ``auth`` rate-limit scope of the client IP — the budget login attempts spend — so a stolen
session cannot be used to guess the password by signing: once the budget is spent, signing answers 429 until
the window ends. Each failure is audited (``sign_failed``) in its own transaction, like a failed login.
"""

from __future__ import annotations

import uuid

from aiohttp import web

from req1_server.appkeys import LIMITER
from req1_server.auth.passwords import verify_password
from req1_server.config import SETTINGS
from req1_server.db import database
from req1_server.errors import forbidden
from req1_server.net import client_ip
from req1_server.ratelimit import WINDOW_SECONDS, RateLimiter
from req1_server.redisstore import RedisUnavailable
from req1_server.routing import CurrentUser
from req1_server.store import esignatures as store
from req1_server.store import users

WRONG_PASSWORD = "invalid password for e-signature"
NO_PASSWORD = "account has no password set"
SCOPE = "auth"


async def failures(limiter: RateLimiter, ip: str, *, add: bool) -> tuple[int, int]:
    """(window, count) of the IP's auth budget spent so far, after adding this failure when ``add``;
    (0, 0) when limits are off or Redis is down (fail open, as every limit)."""
    if not limiter.enabled:
        return 0, 0
    window, key = limiter.window_key(SCOPE, ip)

    async def count(r):  # type: ignore[no-untyped-def]
        if not add:
            return int(await r.get(key) or 0)
        async with r.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, WINDOW_SECONDS + 5)
            spent, _ = await pipe.execute()
        return int(spent)

    try:
        return window, await limiter.store.run(count)
    except RedisUnavailable:
        return 0, 0


def signer_of(request: web.Request, user: CurrentUser) -> store.Signer:
    """The caller as a signature records them (email and name as of now, and the client IP)."""
    return store.Signer(user.id, user.email, user.display_name, client_ip(request, request.app[SETTINGS].trust_proxy))


async def reauthenticate(request: web.Request, user: CurrentUser, password: str, entity_type: str,
                         entity_id: uuid.UUID) -> store.Signer:
    """The signer, once their password is confirmed; 429 when the IP's auth budget is spent, else 403."""
    settings, limiter = request.app[SETTINGS], request.app[LIMITER]
    signer = signer_of(request, user)
    ip = signer.ip or "unknown"
    window, spent = await failures(limiter, ip, add=False)
    limiter.judge(SCOPE, spent + 1, window, settings.rate_limit_auth_per_minute)  # this attempt would be the next
    async with database(request).acquire() as conn:
        row = await users.by_id(conn, user.id)
    hashed = row["password_hash"] if row is not None else None
    if await verify_password(password, hashed) and hashed is not None:
        return signer
    reason = NO_PASSWORD if hashed is None else WRONG_PASSWORD
    await failures(limiter, ip, add=True)
    async with database(request).acquire() as conn:
        await store.sign_failed(conn, signer, entity_type, entity_id, reason)
    raise forbidden(reason)
