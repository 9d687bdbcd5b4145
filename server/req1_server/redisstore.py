"""One Redis client with outage tolerance: callers get a default instead of an exception while it is down.

Redis holds sessions, revocations, rate-limit windows and a small read cache; none of those may stop
the API when Redis is gone (§2.2, §6.5). After a failure the store stays "down" and skips calls (no
per-request connect timeouts) until a background ping succeeds, so it recovers by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as redis
from aiohttp import web
from redis.exceptions import RedisError

from req1_server.background import stop_task

log = logging.getLogger("req1.redis")
T = TypeVar("T")
PING_INTERVAL_SECONDS = 1.0
FAILURES = (RedisError, OSError, asyncio.TimeoutError)


class RedisUnavailable(Exception):
    """Redis is down (or not configured); the caller decides whether to fail open or answer 503."""


class RedisStore:
    """A redis.asyncio client plus an up/down flag maintained by failures and a recovery ping."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self.client: redis.Redis | None = None
        if url is not None:
            self.client = redis.Redis.from_url(
                url,
                socket_connect_timeout=0.5,
                socket_timeout=1.0,
                health_check_interval=0,
                retry_on_timeout=False,
                decode_responses=True,
            )
        self.up = False
        self.on_state_change: Callable[[bool], None] | None = None
        self._watch: asyncio.Task[None] | None = None

    @property
    def configured(self) -> bool:
        return self.client is not None

    async def start(self) -> None:
        if self.client is None:
            return
        self._set_up(await self.ping())
        self._watch = asyncio.create_task(self._watch_loop(), name="redis-monitor")

    async def close(self) -> None:
        if self._watch is not None:
            await stop_task(self._watch, "the redis monitor")
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.aclose()  # type: ignore[attr-defined]

    async def ping(self) -> bool:
        if self.client is None:
            return False
        try:
            async with asyncio.timeout(1.0):
                return bool(await self.client.ping())
        except FAILURES:
            return False

    async def refresh(self) -> bool:
        """Ping now and record the result (readiness uses it, so a probe also speeds up recovery)."""
        up = await self.ping()
        self._set_up(up)
        return up

    def _set_up(self, up: bool) -> None:
        if up != self.up:
            if up:
                log.info("redis is available")
            else:
                log.warning("redis is unavailable: sessions, revocation and rate limits are degraded")
            self.up = up
            if self.on_state_change is not None:
                self.on_state_change(up)

    async def _watch_loop(self) -> None:
        while True:
            await asyncio.sleep(PING_INTERVAL_SECONDS)
            await self.refresh()

    async def run(self, fn: Callable[[redis.Redis], Awaitable[T]]) -> T:
        """Run one operation; raise :class:`RedisUnavailable` when Redis is off, down or fails now."""
        if self.client is None or not self.up:
            raise RedisUnavailable("redis is unavailable")
        try:
            async with asyncio.timeout(2.0):
                return await fn(self.client)
        except FAILURES as err:
            self._set_up(False)
            raise RedisUnavailable(str(err)) from err

    async def run_or(self, fn: Callable[[redis.Redis], Awaitable[T]], default: T) -> T:
        """Like :meth:`run` but fail open with ``default``."""
        try:
            return await self.run(fn)
        except RedisUnavailable:
            return default

    def state(self) -> str:
        if self.client is None:
            return "disabled"
        return "ok" if self.up else "down"


REDIS: web.AppKey[RedisStore] = web.AppKey("redis", RedisStore)


def redis_store(request: web.Request) -> RedisStore:
    return request.app[REDIS]


