"""One LISTEN connection to the primary that survives its server: PostgreSQL's NOTIFY is how changes committed
by any API replica reach every process (live updates, webhook wake-ups), and it only reaches connections that
are listening at the time, so the listener reconnects by itself and tells its owner when it (re)connected, so
the owner can make up for what it may have missed.

A peer that vanished without closing the TCP connection shows up in a heartbeat query.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

from req1_server.background import stop_requested, wait_at_most

log = logging.getLogger("req1.listen")

Notify = Callable[[asyncpg.Connection, int, str, str], None]


async def listen_forever(
    dsn: str,
    channel: str,
    on_notify: Notify,
    *,
    on_connect: Callable[[bool], None] = lambda _first: None,
    on_disconnect: Callable[[], None] = lambda: None,
    heartbeat: float = 30.0,
    reconnect: float = 2.0,
    what: str = "listener",
) -> None:
    """LISTEN on ``channel`` until cancelled; ``on_connect(first)`` after each (re)connection."""
    first = True
    while True:
        conn: asyncpg.Connection | None = None
        try:
            conn = await asyncpg.connect(dsn, timeout=10)
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _c, lost=lost: lost.set())
            await conn.add_listener(channel, on_notify)
            on_connect(first)
            first = False
            while not lost.is_set():
                await wait_at_most(lost, heartbeat)
                if not lost.is_set():
                    await conn.fetchval("SELECT 1", timeout=5.0)
            log.warning("%s lost its connection; reconnecting", what)
        except asyncio.CancelledError:
            raise
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
            if stop_requested():
                raise asyncio.CancelledError from err
            log.warning("%s cannot connect: %s", what, err)
        finally:
            on_disconnect()
            if conn is not None and not conn.is_closed():
                with contextlib.suppress(Exception):
                    await asyncio.shield(conn.close(timeout=2))
        await asyncio.sleep(reconnect)
