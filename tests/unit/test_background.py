"""Background tasks stop when the app stops, even when a driver turns the cancellation into its own error."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from req1_server.background import stop_requested, stop_task, wait_at_most
from req1_server.webhooks import dispatcher
from req1_server.webhooks.settings import WebhookSettings


class CancelTurnsIntoDriverError:
    """A database whose connections hang until cancelled, then fail as asyncpg does when cut mid-query."""

    def __init__(self) -> None:
        self.acquired = asyncio.Event()

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[Any]:
        self.acquired.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise asyncpg.InterfaceError("cannot perform operation: another operation is in progress") from None
        yield None  # pragma: no cover - never reached


async def test_the_webhook_dispatcher_stops_although_asyncpg_swallowed_its_cancellation() -> None:
    db = CancelTurnsIntoDriverError()
    unreachable = "postgresql://req1@127.0.0.1:1/none"  # its listener only retries
    async with dispatcher.running(db, unreachable, WebhookSettings()) as running:  # type: ignore[arg-type]
        assert running is not None
        await asyncio.wait_for(db.acquired.wait(), 10)
    # before the fix the dispatcher logged the error, slept and looped: the app's shutdown never ended (and
    # stop_task alone would give up after 10 s and leave the task running, which this catches)
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "req1-webhooks"]


async def test_wait_at_most_keeps_a_cancellation_that_races_the_event() -> None:
    event = asyncio.Event()

    async def waiter() -> None:
        while True:
            await wait_at_most(event, 5)
            event.clear()

    task = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    event.set()
    task.cancel()  # in the same loop step as the event: wait_for in 3.11 may return normally here
    await asyncio.wait({task}, timeout=5)
    assert task.cancelled()


async def test_stop_task_gives_up_on_a_task_that_will_not_stop() -> None:
    released = asyncio.Event()

    async def stubborn() -> None:
        while not released.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.01)

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await stop_task(task, "a stubborn task", limit=0.2)
    assert not task.done()  # left running, logged, and the caller moves on
    released.set()
    await task


async def test_stop_requested_sees_a_cancellation_under_a_driver_error() -> None:
    seen: list[bool] = []

    async def loop() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            seen.append(stop_requested())
            raise

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.wait({task})
    assert seen == [True]
