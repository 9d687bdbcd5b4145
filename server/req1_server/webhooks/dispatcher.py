"""Send queued webhook deliveries: one dispatcher per server process, any number of processes and replicas.

The queue is the ``webhook_delivery`` table; rows are claimed with ``FOR UPDATE SKIP LOCKED`` and leased
(store/webhooks.py), so two processes never send the same attempt and a process killed mid-send leaves its
rows to be retried. The dispatcher sleeps until the earliest pending delivery is due, and is woken early by
``NOTIFY req1_webhooks`` (sent by the queueing trigger at commit) on its own LISTEN connection; when that
connection is down it polls.

Outcomes (contract §8): 2xx success; a network error, a timeout, 429 or 5xx is retried after the configured
delays (±20 % jitter) and then fails; any other status fails at once, as does a refused destination.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import asyncpg
import orjson
from aiohttp import web

from req1_server.background import stop_requested, stop_task, wait_at_most
from req1_server.db import Database
from req1_server.listen import listen_forever
from req1_server.store import webhooks as queue
from req1_server.webhooks import destinations, signing
from req1_server.webhooks.settings import WebhookSettings

log = logging.getLogger("req1.webhooks")

CHANNEL = "req1_webhooks"
BATCH = 16
IDLE_POLL_SECONDS = 30.0  # the longest sleep without a NOTIFY (a missed one costs at most this)
LISTEN_RETRY_SECONDS = 5.0
PURGE_EVERY_SECONDS = 3600.0
JITTER = 0.2


def retry_delay(attempts: int, delays: tuple[float, ...], rng: random.Random | None = None) -> float | None:
    """Seconds before the next attempt after ``attempts`` failed ones, or None when no attempt is left."""
    if attempts > len(delays):
        return None
    base = delays[attempts - 1]
    return base * (1 + JITTER * (2 * (rng or random).random() - 1))


def retryable(status: int | None) -> bool:
    """No status (network error, timeout), 429 and 5xx are worth another attempt; other 4xx are not."""
    return status is None or status == 429 or status >= 500


class Dispatcher:
    def __init__(self, db: Database, dsn: str, settings: WebhookSettings) -> None:
        self.db = db
        self.dsn = dsn
        self.settings = settings
        self.wake = asyncio.Event()
        self.session: aiohttp.ClientSession | None = None
        self.sent = 0  # attempts made by this process (for tests and logs)

    # ---- sending ---------------------------------------------------------------------------

    async def send(self, item: queue.Claimed) -> tuple[int | None, str | None]:
        """POST one delivery: (HTTP status or None, error text or None)."""
        assert self.session is not None
        if not item.active:
            return None, "webhook is inactive"
        if not self.settings.allow_private and destinations.literal_refused(item.url):
            return None, destinations.NOT_ALLOWED
        body = orjson.dumps(item.payload)
        headers = signing.headers(item.event, str(item.id), body, item.secret, int(time.time()),
                                  self.settings.legacy_secret_header)
        try:
            async with self.session.post(item.url, data=body, headers=headers, allow_redirects=False) as resp:
                await resp.read()
                return resp.status, None if 200 <= resp.status < 300 else f"HTTP {resp.status}"
        except destinations.DestinationNotAllowed:
            return None, destinations.NOT_ALLOWED
        except aiohttp.ClientConnectorError as e:
            if isinstance(e.os_error, destinations.DestinationNotAllowed):
                return None, destinations.NOT_ALLOWED
            return None, f"connection failed: {e.os_error or e}"
        except TimeoutError:
            return None, f"timed out after {self.settings.timeout_seconds:g} s"
        except aiohttp.ClientError as e:
            return None, f"{type(e).__name__}: {e}"

    async def deliver(self, item: queue.Claimed) -> None:
        status, error = await self.send(item)
        self.sent += 1
        async with self.db.acquire() as conn:
            if error is None and status is not None:
                await queue.succeeded(conn, item.id, status)
                return
            permanent = error in (destinations.NOT_ALLOWED, "webhook is inactive") or not retryable(status)
            retry_in = None if permanent else retry_delay(item.attempts, self.settings.retry_delays)
            await queue.failed(conn, item.id, status, error or "failed", retry_in)
        log.info("webhook delivery %s attempt %d: %s%s", item.id, item.attempts, error,
                 "" if retry_in is None else f"; next attempt in {retry_in:.0f} s")

    async def run_once(self) -> int:
        """Claim and send one batch; the number sent."""
        lease = self.settings.timeout_seconds + 30.0
        async with self.db.acquire() as conn:
            batch = await queue.claim(conn, BATCH, lease)
        if batch:
            await asyncio.gather(*(self.deliver(item) for item in batch))
        return len(batch)

    async def next_wait(self) -> float:
        async with self.db.acquire() as conn:
            due = await queue.seconds_until_due(conn)
        return IDLE_POLL_SECONDS if due is None else min(due, IDLE_POLL_SECONDS)

    # ---- the loop --------------------------------------------------------------------------

    async def listen(self) -> None:
        """Wake the loop on every NOTIFY, and once after each (re)connection for what was queued meanwhile."""
        await listen_forever(self.dsn, CHANNEL, lambda *_: self.wake.set(), on_connect=lambda _first: self.wake.set(),
                             reconnect=LISTEN_RETRY_SECONDS, what="webhook listener")

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout_seconds)
        connector = aiohttp.TCPConnector(**destinations.connector_options(self.settings.allow_private))
        self.session = aiohttp.ClientSession(timeout=timeout, connector=connector)
        listener = asyncio.get_running_loop().create_task(self.listen(), name="req1-webhook-listener")
        purged_at = 0.0
        try:
            while True:
                self.wake.clear()  # a NOTIFY from here on wakes the wait below at once
                try:
                    if time.monotonic() - purged_at > PURGE_EVERY_SECONDS:
                        async with self.db.acquire() as conn:
                            await queue.purge(conn, self.settings.retention_days)
                        purged_at = time.monotonic()
                    while await self.run_once() == BATCH:
                        pass
                    wait = await self.next_wait()
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
                    if stop_requested():  # the app is stopping; asyncpg reported the cancellation as its error
                        raise asyncio.CancelledError from e
                    log.warning("webhook dispatcher: %s", e)
                    wait = LISTEN_RETRY_SECONDS
                await wait_at_most(self.wake, wait)
        finally:
            listener.cancel()
            await asyncio.wait({listener}, timeout=5.0)  # never hold up the app's shutdown
            await self.session.close()


WEBHOOKS: web.AppKey[Dispatcher | None] = web.AppKey("webhooks", object)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def running(db: Database, dsn: str, settings: WebhookSettings) -> AsyncIterator[Dispatcher | None]:
    """The dispatcher as a task for the app's lifetime (or none when this process only queues)."""
    if not settings.enabled:
        yield None
        return
    dispatcher = Dispatcher(db, dsn, settings)
    task: asyncio.Task[Any] = asyncio.get_running_loop().create_task(dispatcher.run(), name="req1-webhooks")
    try:
        yield dispatcher
    finally:
        await stop_task(task, "the webhook dispatcher")
