"""PostgreSQL access: the primary pool, an optional read replica with fallback (§6.6), transactions with retry.

Every connection decodes json/jsonb to Python objects and uuid to :class:`uuid.UUID`. Heavy read-only
endpoints use :meth:`Database.acquire_read`; it picks the replica unless the replica is marked down,
the caller wrote in the last few seconds, or acquiring from it fails — then the primary answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import orjson
from aiohttp import web

from req1_server import actor
from req1_server.background import stop_task
from req1_server.errors import DB_UNAVAILABLE, conflict

log = logging.getLogger("req1.db")
T = TypeVar("T")
RETRIES = 3
REPLICA_RECHECK_SECONDS = 2.0
RECENT_WRITE_SECONDS = 5

# Called with the request; True when the user wrote recently and must read the primary.
RecentWriteCheck = Callable[[web.Request], Awaitable[bool]]


def json_loads(text: str) -> Any:
    """orjson's parser, the standard library's for what orjson refuses (numbers beyond 64-bit integers)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


_new_object = object.__new__
_set_slot = object.__setattr__
_SAFE_UNKNOWN = uuid.SafeUUID.unknown


def uuid_from_pg(text: str) -> uuid.UUID:
    """``uuid.UUID(text)`` for PostgreSQL's canonical text form, without the parsing of every spelling the
    constructor accepts (a list of 1,000 objects decodes several thousand)."""
    value = _new_object(uuid.UUID)
    _set_slot(value, "int", int(text.replace("-", ""), 16))
    _set_slot(value, "is_safe", _SAFE_UNKNOWN)
    return value


async def init_connection(conn: asyncpg.Connection) -> None:
    """json/jsonb as Python values, uuid as uuid.UUID (not asyncpg's own subclass)."""
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(typename, encoder=json.dumps, decoder=json_loads, schema="pg_catalog")
    await conn.set_type_codec("uuid", encoder=str, decoder=uuid_from_pg, schema="pg_catalog", format="text")


#: A peer that vanished without a FIN (its node died, the network was cut) fails a connection within seconds
#: instead of TCP's minutes: idle ones by keepalive (5 s idle + 2 probes 2 s apart), busy ones when sent data
#: stays unacknowledged for TCP_USER_TIMEOUT. The pool then opens a new connection through the -rw Service,
#: which by then leads to the new primary (docs/postgres-ha.md).
TCP_OPTIONS = (
    (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
    (socket.IPPROTO_TCP, getattr(socket, "TCP_KEEPIDLE", 4), 5),
    (socket.IPPROTO_TCP, getattr(socket, "TCP_KEEPINTVL", 5), 2),
    (socket.IPPROTO_TCP, getattr(socket, "TCP_KEEPCNT", 6), 2),
    (socket.IPPROTO_TCP, getattr(socket, "TCP_USER_TIMEOUT", 18), 8000),
)


def fail_fast_on_dead_peer(conn: asyncpg.Connection) -> None:
    """Keepalive and a user timeout on a TCP connection's socket (Unix sockets are left alone)."""
    transport = getattr(conn, "_transport", None)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    for level, option, value in TCP_OPTIONS:
        with contextlib.suppress(OSError):
            sock.setsockopt(level, option, value)


async def _init_pooled(conn: asyncpg.Connection) -> None:
    fail_fast_on_dead_peer(conn)
    await init_connection(conn)


async def create_pool(dsn: str, size: int, *, min_size: int = 1, connect_timeout: float = 5.0) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min(min_size, size),
        max_size=size,
        init=_init_pooled,
        timeout=connect_timeout,
        command_timeout=60,
        max_inactive_connection_lifetime=300,
    )
    assert pool is not None
    return pool


class Database:
    """The primary pool and, optionally, a replica pool that reads fall back from."""

    def __init__(self, primary: asyncpg.Pool, replica: asyncpg.Pool | None = None) -> None:
        self.primary = primary
        self.replica = replica
        self.replica_up = replica is not None
        self.recent_write: RecentWriteCheck | None = None
        self._monitor: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, dsn: str, pool_size: int, replica_dsn: str | None = None) -> Database:
        primary = await create_pool(dsn, pool_size)
        replica = None
        if replica_dsn:
            # min_size 0: a replica that is down at start must not stop the server
            replica = await create_pool(replica_dsn, pool_size, min_size=0, connect_timeout=2.0)
        db = cls(primary, replica)
        if replica is not None:
            db.replica_up = await db.check_replica()
            db._monitor = asyncio.create_task(db._watch_replica(), name="replica-monitor")
        return db

    async def close(self) -> None:
        if self._monitor is not None:
            await stop_task(self._monitor, "the replica monitor")
        pools = [self.primary] + ([self.replica] if self.replica is not None else [])
        for pool in pools:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pool.close(), timeout=5)

    # ---- health --------------------------------------------------------------------------

    @staticmethod
    async def answers(pool: asyncpg.Pool | None, limit: float) -> bool:
        """The pool's server answers `SELECT 1` within ``limit`` seconds."""
        if pool is None:
            return False
        try:
            async with asyncio.timeout(limit), pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
            return True
        except Exception:
            return False

    async def check_primary(self, limit: float = 2.0) -> bool:
        return await self.answers(self.primary, limit)

    async def check_replica(self, limit: float = 2.0) -> bool:
        return await self.answers(self.replica, limit)

    async def _watch_replica(self) -> None:
        while True:
            await asyncio.sleep(REPLICA_RECHECK_SECONDS)
            up = await self.check_replica()
            if up != self.replica_up:
                log.warning("read replica is %s", "back up" if up else "down; reads use the primary")
            self.replica_up = up

    # ---- connections ---------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        """A primary connection, carrying the caller of a mutating request for the audit triggers (actor.py)."""
        async with self.primary.acquire() as conn:
            await actor.bind(conn)
            yield conn

    @contextlib.asynccontextmanager
    async def acquire_read(self, request: web.Request | None = None) -> AsyncIterator[asyncpg.Connection]:
        """A replica connection when it is safe and up, else a primary one (§6.6)."""
        pool = await self._read_pool(request)
        if pool is not self.primary:
            try:
                conn = await asyncio.wait_for(pool.acquire(), timeout=2.0)
            except (*DB_UNAVAILABLE, asyncpg.PostgresError):
                log.warning("read replica unavailable; falling back to the primary")
                self.replica_up = False
                pool = self.primary
            else:
                try:
                    yield conn
                except DB_UNAVAILABLE:
                    self.replica_up = False  # failed mid-query: the next reads go to the primary
                    raise
                finally:
                    await pool.release(conn)
                return
        async with self.primary.acquire() as conn:
            yield conn

    async def _read_pool(self, request: web.Request | None) -> asyncpg.Pool:
        if self.replica is None or not self.replica_up:
            return self.primary
        if request is not None and self.recent_write is not None and await self.recent_write(request):
            return self.primary
        return self.replica

    async def read(self, request: web.Request | None, fn: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Run a read-only ``fn`` on the replica; if the replica fails mid-query, rerun it on the primary."""
        pool = await self._read_pool(request)
        if pool is not self.primary:
            try:
                async with asyncio.timeout(60):
                    conn = await asyncio.wait_for(pool.acquire(), timeout=2.0)
                    try:
                        return await fn(conn)
                    finally:
                        await pool.release(conn)
            except DB_UNAVAILABLE:
                log.warning("read replica failed; rerunning the read on the primary")
                self.replica_up = False
        async with self.primary.acquire() as conn:
            return await fn(conn)

    async def transaction(self, fn: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Run ``fn`` in a primary transaction; retry serialization failures and deadlocks, then 409."""
        for attempt in range(RETRIES + 1):
            try:
                async with self.acquire() as conn, conn.transaction():
                    return await fn(conn)
            except (asyncpg.SerializationError, asyncpg.DeadlockDetectedError):
                if attempt == RETRIES:
                    break
                await asyncio.sleep(0.01 * (2**attempt))
        raise conflict("concurrent update, please retry")

    def pool_stats(self) -> dict[str, dict[str, int]]:
        stats = {}
        for name, pool in (("primary", self.primary), ("replica", self.replica)):
            if pool is None:
                continue
            stats[name] = {
                "size": pool.get_size(),
                "idle": pool.get_idle_size(),
                "max": pool.get_max_size(),
            }
        return stats


DATABASE: web.AppKey[Database] = web.AppKey("database", Database)


def database(request: web.Request) -> Database:
    return request.app[DATABASE]


async def wait_for_postgres(dsn: str, patience: float = 30.0) -> None:
    """Block until PostgreSQL accepts a connection (startup races with the database's own start)."""
    deadline = time.monotonic() + patience
    delay = 0.2
    while True:
        try:
            conn = await asyncpg.connect(dsn, timeout=5)
            await conn.close()
            return
        except (*DB_UNAVAILABLE, asyncpg.CannotConnectNowError):
            if time.monotonic() > deadline:
                raise
            log.warning("PostgreSQL is not reachable yet; retrying in %.1fs", delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
