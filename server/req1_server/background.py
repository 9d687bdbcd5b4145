"""Background tasks that stop when asked: the app's shutdown waits on them, so a task that swallows its own
cancellation (a driver turning it into its own error, or Python 3.11's ``wait_for`` losing it when the awaited
thing finishes at the same moment) would hold the process up forever."""

from __future__ import annotations

import asyncio
import contextlib
import logging

log = logging.getLogger("req1.background")


def stop_requested() -> bool:
    """This task was cancelled, even if asyncpg turned the cancellation into its own error on the way up.

    A loop that catches driver errors and carries on must check this, or it swallows its own shutdown."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def wait_at_most(event: asyncio.Event, seconds: float) -> None:
    """Wait for ``event`` up to ``seconds`` (``asyncio.timeout`` never loses a cancellation)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()


async def stop_task(task: asyncio.Task[object], what: str, limit: float = 10.0) -> None:
    """Cancel ``task`` and wait up to ``limit`` seconds for it; a task that will not stop is logged and left."""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=limit)
    if not done:
        log.warning("%s did not stop within %.0f s of being cancelled", what, limit)
    elif not task.cancelled() and task.exception() is not None:
        log.warning("%s ended with an error: %s", what, task.exception())
