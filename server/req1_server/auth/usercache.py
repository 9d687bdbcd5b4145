"""A short-lived per-process cache of the ``app_user`` row the gate checks on every request.

Contract §2.2 lets the per-request user load be served from a cache at most 5 s stale and invalidated on
change. Entries live :data:`TTL_SECONDS`; user writes through this process call :meth:`UserCache.forget`
after they commit, and an epoch counter stops a read that raced with such a write from caching the old row.
Other replicas see the change once their entry expires (≤ :data:`TTL_SECONDS`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Hashable, Mapping
from typing import Any, Generic, TypeVar

TTL_SECONDS = 2.0
MAX_ENTRIES = 10_000

Row = Mapping[str, Any]
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Entries that expire after ``ttl`` seconds; a read that raced with :meth:`forget`/:meth:`clear` (its
    ticket taken before) is not cached."""

    def __init__(self, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self.epoch = 0
        self.entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self.clock():
            self.entries.pop(key, None)
            return None
        return entry[1]

    def ticket(self) -> int:
        """Take before reading the database; :meth:`put` ignores values read across a :meth:`forget`."""
        return self.epoch

    def put(self, key: K, value: V, ticket: int) -> None:
        if ticket != self.epoch or self.ttl <= 0:
            return
        if len(self.entries) >= self.max_entries:
            self.entries.clear()
        self.entries[key] = (self.clock() + self.ttl, value)

    def forget(self, key: K) -> None:
        """The value changed or was deleted: drop it and void in-flight reads."""
        self.epoch += 1
        self.entries.pop(key, None)

    def clear(self) -> None:
        self.epoch += 1
        self.entries.clear()


class UserCache(TtlCache[uuid.UUID, Row]):
    """The ``app_user`` rows by id; user writes through this process call :meth:`forget` after they commit."""
