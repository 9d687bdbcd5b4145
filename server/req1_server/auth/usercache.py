"""A short-lived per-process cache of the ``app_user`` row the gate checks on every request.

Contract §2.2 lets the per-request user load be served from a cache at most 5 s stale and invalidated on
change. Entries live :data:`TTL_SECONDS`; user writes through this process call :meth:`UserCache.forget`
after they commit, and an epoch counter stops a read that raced with such a write from caching the old row.
Other replicas see the change once their entry expires (≤ :data:`TTL_SECONDS`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

TTL_SECONDS = 2.0
MAX_ENTRIES = 10_000

Row = Mapping[str, Any]


class UserCache:
    def __init__(self, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self.epoch = 0
        self.entries: dict[uuid.UUID, tuple[float, Row]] = {}

    def get(self, user_id: uuid.UUID) -> Row | None:
        entry = self.entries.get(user_id)
        if entry is None:
            return None
        if entry[0] <= self.clock():
            self.entries.pop(user_id, None)
            return None
        return entry[1]

    def ticket(self) -> int:
        """Take before reading the database; :meth:`put` ignores rows read across a :meth:`forget`."""
        return self.epoch

    def put(self, user_id: uuid.UUID, row: Row, ticket: int) -> None:
        if ticket != self.epoch or self.ttl <= 0:
            return
        if len(self.entries) >= self.max_entries:
            self.entries.clear()
        self.entries[user_id] = (self.clock() + self.ttl, row)

    def forget(self, user_id: uuid.UUID) -> None:
        """The user changed (role, active, name) or was deleted: drop it and void in-flight reads."""
        self.epoch += 1
        self.entries.pop(user_id, None)
