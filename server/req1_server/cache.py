"""A small JSON read-cache in Redis with a TTL; every failure is a miss (fail open)."""

from __future__ import annotations

import json
from typing import Any

from req1_server.redisstore import RedisStore

PREFIX = "req1:cache:"


class Cache:
    def __init__(self, store: RedisStore) -> None:
        self.store = store

    async def get_json(self, key: str) -> Any | None:
        raw = await self.store.run_or(lambda r: r.get(PREFIX + key), None)
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    async def set_json(self, key: str, value: Any, ttl_seconds: int) -> None:
        data = json.dumps(value, default=str)
        await self.store.run_or(lambda r: r.set(PREFIX + key, data, ex=max(1, ttl_seconds)), None)

    async def delete(self, key: str) -> None:
        await self.store.run_or(lambda r: r.delete(PREFIX + key), 0)
