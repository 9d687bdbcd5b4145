"""Fixed-window rate limits in Redis, shared by every server replica (§6.5); fail open when Redis is down."""

from __future__ import annotations

import time

from req1_server.errors import rate_limited
from req1_server.metrics import Metrics
from req1_server.redisstore import RedisStore, RedisUnavailable

WINDOW_SECONDS = 60
PREFIX = "req1:rl:"


class RateLimiter:
    def __init__(self, store: RedisStore, metrics: Metrics, enabled: bool) -> None:
        self.store = store
        self.metrics = metrics
        self.enabled = enabled and store.configured

    @staticmethod
    def window_key(scope: str, ident: str) -> tuple[int, str]:
        """The current window number and its Redis key."""
        window = int(time.time() // WINDOW_SECONDS)
        return window, f"{PREFIX}{scope}:{ident}:{window}"

    def judge(self, scope: str, count: int, window: int, limit: int) -> None:
        """Raise 429 when ``count`` requests in ``window`` exceed ``limit``."""
        if count > limit:
            self.metrics.rate_limited.labels(scope=scope).inc()
            retry = max(1, int((window + 1) * WINDOW_SECONDS - time.time() + 0.999))
            raise rate_limited(retry)

    async def hit(self, scope: str, ident: str, limit: int) -> None:
        """Count one request in the current window; raise 429 when it is over ``limit``."""
        if not self.enabled:
            return
        window, key = self.window_key(scope, ident)

        async def incr(r):  # type: ignore[no-untyped-def]
            async with r.pipeline(transaction=False) as pipe:
                pipe.incr(key)
                pipe.expire(key, WINDOW_SECONDS + 5)
                count, _ = await pipe.execute()
            return int(count)

        try:
            count = await self.store.run(incr)
        except RedisUnavailable:
            self.metrics.rate_limit_skipped.inc()
            return
        self.judge(scope, count, window, limit)
