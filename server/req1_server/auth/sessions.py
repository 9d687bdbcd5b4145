"""Login sessions, refresh-token rotation and revocation in Redis (§2.3).

``req1:session:<sid>`` is a hash {user, refresh, created} (refresh = SHA-256 of the current refresh token)
with TTL ``REFRESH_TOKEN_TTL_HOURS`` (idle timeout, renewed at each refresh) but never beyond ``created`` +
``SESSION_MAX_AGE_HOURS`` (absolute lifetime); ``req1:user-sessions:<user>`` lists a user's sids so a password
change or deactivation can revoke them all, and each login or refresh extends it so it outlives every session
it lists; ``req1:revoked:<sid>`` marks a revoked sid until its access tokens expire. Refresh tokens are
``<sid>.<secret>``; replaying a used one revokes the session.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Callable

from req1_server.redisstore import RedisStore, RedisUnavailable

SESSION = "req1:session:"
REVOKED = "req1:revoked:"
USER_SESSIONS = "req1:user-sessions:"

# KEYS: session, revoked; ARGV: presented hash, new hash, session ttl, revoked ttl, now, max age (seconds)
ROTATE = """
local current = redis.call('HGET', KEYS[1], 'refresh')
if not current then return false end
if current ~= ARGV[1] then
  local user = redis.call('HGET', KEYS[1], 'user') or ''
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], '1', 'EX', ARGV[4])
  return 'replay:' .. user
end
redis.call('HSETNX', KEYS[1], 'created', ARGV[5])
local left = tonumber(redis.call('HGET', KEYS[1], 'created')) + tonumber(ARGV[6]) - tonumber(ARGV[5])
if left <= 0 then
  redis.call('DEL', KEYS[1])
  return false
end
redis.call('HSET', KEYS[1], 'refresh', ARGV[2])
redis.call('EXPIRE', KEYS[1], math.min(tonumber(ARGV[3]), math.ceil(left)))
return redis.call('HGET', KEYS[1], 'user')
"""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class RefreshRejected(Exception):
    """Unknown, expired or replayed refresh token."""


class RefreshReplayed(RefreshRejected):
    """A refresh token presented again after its rotation: the session is revoked (audited as refresh_reuse)."""

    def __init__(self, user_id: uuid.UUID | None) -> None:
        super().__init__("refresh token is unknown, expired or already used")
        self.user_id = user_id


class Sessions:
    def __init__(self, store: RedisStore, session_ttl_seconds: int, access_ttl_seconds: int,
                 max_age_seconds: int = 720 * 3600, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.session_ttl = session_ttl_seconds
        self.access_ttl = access_ttl_seconds
        self.max_age = max_age_seconds
        self.clock = clock

    @staticmethod
    def new_sid() -> str:
        return uuid.uuid4().hex

    async def create(self, user_id: uuid.UUID, sid: str) -> str | None:
        """Record the session; returns its refresh token, or None while Redis is down."""
        refresh = f"{sid}.{secrets.token_urlsafe(32)}"

        async def write(r):  # type: ignore[no-untyped-def]
            async with r.pipeline(transaction=True) as pipe:
                pipe.hset(SESSION + sid, mapping={"user": str(user_id), "refresh": digest(refresh),
                                                  "created": int(self.clock())})
                pipe.expire(SESSION + sid, min(self.session_ttl, self.max_age))
                self._index(pipe, str(user_id), sid)
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
                             self.session_ttl, self.access_ttl + 60, int(self.clock()), self.max_age)
        )
        if result and str(result).startswith("replay:"):
            user = str(result).removeprefix("replay:")
            raise RefreshReplayed(uuid.UUID(user) if user else None)
        if not result:
            raise RefreshRejected("refresh token is unknown, expired or already used")
        try:
            user_id = uuid.UUID(str(result))
        except ValueError as err:
            raise RefreshRejected("corrupt session") from err

        async def index(r):  # type: ignore[no-untyped-def]
            async with r.pipeline(transaction=True) as pipe:
                self._index(pipe, str(user_id), sid)
                await pipe.execute()

        await self.store.run(index)
        return user_id, sid, new

    def _index(self, pipe, user: str, sid: str) -> None:  # type: ignore[no-untyped-def]
        """List the sid under its user, the list living at least as long as any session may (max age)."""
        pipe.sadd(USER_SESSIONS + user, sid)
        pipe.expire(USER_SESSIONS + user, self.max_age)

    async def user_sids(self, user_id: uuid.UUID) -> set[str]:
        """The user's listed sessions; raises RedisUnavailable (callers that must revoke answer 503)."""
        return set(await self.store.run(lambda r: r.smembers(USER_SESSIONS + str(user_id))))

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
        sids = await self.user_sids(user_id)
        sids.discard(keep_sid or "")
        for sid in sids:
            await self.revoke(sid, user_id)
        return len(sids)
