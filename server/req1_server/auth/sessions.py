"""Login sessions, refresh-token rotation and revocation in Redis (§2.3).

``req1:session:<sid>`` is a hash {user, refresh} (refresh = SHA-256 of the current refresh token) with
TTL ``REFRESH_TOKEN_TTL_HOURS``; ``req1:user-sessions:<user>`` lists a user's sids so a password change
or deactivation can revoke them all; ``req1:revoked:<sid>`` marks a revoked sid until its access
tokens expire. Refresh tokens are ``<sid>.<secret>``; replaying a used one revokes the session.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid

from req1_server.redisstore import RedisStore, RedisUnavailable

SESSION = "req1:session:"
REVOKED = "req1:revoked:"
USER_SESSIONS = "req1:user-sessions:"

# KEYS: session, revoked; ARGV: presented hash, new hash, session ttl, revoked ttl
ROTATE = """
local current = redis.call('HGET', KEYS[1], 'refresh')
if not current then return false end
if current ~= ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], '1', 'EX', ARGV[4])
  return 'replay'
end
redis.call('HSET', KEYS[1], 'refresh', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return redis.call('HGET', KEYS[1], 'user')
"""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class RefreshRejected(Exception):
    """Unknown, expired or replayed refresh token."""


class Sessions:
    def __init__(self, store: RedisStore, session_ttl_seconds: int, access_ttl_seconds: int) -> None:
        self.store = store
        self.session_ttl = session_ttl_seconds
        self.access_ttl = access_ttl_seconds

    @staticmethod
    def new_sid() -> str:
        return uuid.uuid4().hex

    async def create(self, user_id: uuid.UUID, sid: str) -> str | None:
        """Record the session; returns its refresh token, or None while Redis is down."""
        refresh = f"{sid}.{secrets.token_urlsafe(32)}"

        async def write(r):  # type: ignore[no-untyped-def]
            async with r.pipeline(transaction=True) as pipe:
                pipe.hset(SESSION + sid, mapping={"user": str(user_id), "refresh": digest(refresh)})
                pipe.expire(SESSION + sid, self.session_ttl)
                pipe.sadd(USER_SESSIONS + str(user_id), sid)
                pipe.expire(USER_SESSIONS + str(user_id), self.session_ttl)
                await pipe.execute()

        try:
            await self.store.run(write)
        except RedisUnavailable:
            return None
        return refresh

    async def rotate(self, refresh_token: str) -> tuple[uuid.UUID, str, str]:
        """Swap a refresh token for a new one: (user id, sid, new refresh token)."""
        sid, dot, secret = refresh_token.partition(".")
        if not dot or not secret or len(sid) != 32:
            raise RefreshRejected("malformed refresh token")
        new = f"{sid}.{secrets.token_urlsafe(32)}"
        result = await self.store.run(
            lambda r: r.eval(ROTATE, 2, SESSION + sid, REVOKED + sid, digest(refresh_token), digest(new),
                             self.session_ttl, self.access_ttl + 60)
        )
        if not result or result == "replay":
            raise RefreshRejected("refresh token is unknown, expired or already used")
        try:
            return uuid.UUID(str(result)), sid, new
        except ValueError as err:
            raise RefreshRejected("corrupt session") from err

    async def is_revoked(self, sid: str) -> bool:
        """Raises RedisUnavailable when it cannot tell (the caller fails open and counts it)."""
        return bool(await self.store.run(lambda r: r.exists(REVOKED + sid)))

    async def revoke(self, sid: str, user_id: uuid.UUID | None = None, access_expires_at: int | None = None) -> None:
        ttl = self.access_ttl + 60
        if access_expires_at is not None:
            ttl = max(1, access_expires_at - int(time.time()) + 60)

        async def write(r):  # type: ignore[no-untyped-def]
            async with r.pipeline(transaction=True) as pipe:
                pipe.delete(SESSION + sid)
                pipe.set(REVOKED + sid, "1", ex=ttl)
                if user_id is not None:
                    pipe.srem(USER_SESSIONS + str(user_id), sid)
                await pipe.execute()

        await self.store.run(write)

    async def revoke_all(self, user_id: uuid.UUID, keep_sid: str | None = None) -> int:
        """Revoke every login session of a user except ``keep_sid``; returns how many."""
        sids: set[str] = set(await self.store.run(lambda r: r.smembers(USER_SESSIONS + str(user_id))))
        sids.discard(keep_sid or "")
        for sid in sids:
            await self.revoke(sid, user_id)
        return len(sids)
