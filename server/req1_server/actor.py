"""Who is acting, for the audit log the database writes itself (migration 0017, spec §7).

The audit entries come from triggers on the audited tables, so every write path is covered without code in
the handlers; what the database cannot know is the caller. The auth gate sets :data:`CURRENT` for each
mutating request (user and client IP), and :func:`bind` — called by ``Database`` on every primary connection
it hands out while one is set — copies it into the session settings ``req1.actor`` and ``req1.ip`` the trigger
reads. asyncpg's ``RESET ALL`` on release clears them, so a pooled connection never carries a previous
caller. Reads (GET/HEAD) set nothing and pay no extra round trip.
"""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass

import asyncpg

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BIND = "SELECT set_config('req1.actor', $1, false), set_config('req1.ip', $2, false)"


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID | None
    ip: str | None


CURRENT: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("req1.actor", default=None)


def act_as(user_id: uuid.UUID | None, ip: str | None) -> None:
    """Record the caller of this request (its task's context) for the writes that follow."""
    CURRENT.set(Actor(user_id, ip))


async def bind(conn: asyncpg.Connection) -> None:
    """Give ``conn`` the current caller's identity, if there is one."""
    actor = CURRENT.get()
    if actor is not None:
        await conn.execute(BIND, str(actor.user_id) if actor.user_id else "", actor.ip or "")
