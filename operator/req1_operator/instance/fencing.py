"""Self-fencing: a primary that has not renewed its Lease for (duration - 2 s) stops accepting writes at once.

The clock here is monotonic and local, so it keeps running while the API server is unreachable — which is the
very case it exists for. Another pod may take the lease only after ``renewTime + duration``; fencing 2 s earlier
leaves the fast shutdown that margin to close every connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

CHECK_INTERVAL = 0.2


class Fence:
    def __init__(self, fence_after: float) -> None:
        self.fence_after = fence_after
        self.armed = False
        self.last_renewal = 0.0

    def renewed(self) -> None:
        self.last_renewal = time.monotonic()

    def arm(self) -> None:
        """From now on this pod accepts writes only while it keeps renewing."""
        self.renewed()
        self.armed = True

    def disarm(self) -> None:
        self.armed = False

    def overdue(self) -> bool:
        return self.armed and time.monotonic() - self.last_renewal > self.fence_after

    def seconds_left(self) -> float:
        return self.fence_after - (time.monotonic() - self.last_renewal)

    async def watch(self, on_overdue: Callable[[], Awaitable[None]]) -> None:
        """Run forever: call ``on_overdue`` (which must disarm) as soon as the deadline passes."""
        while True:
            if self.overdue():
                log.error("primary lease not renewed for %.1fs: fencing", time.monotonic() - self.last_renewal)
                await on_overdue()
            await asyncio.sleep(CHECK_INTERVAL)
