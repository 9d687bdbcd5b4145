"""Holding the primary Lease: take it before writing, renew it, release it after stopping, and fence (stop
accepting writes) when it is lost or not renewed in time."""

from __future__ import annotations

import asyncio

from req1_operator.instance.kube import ApiError
from req1_operator.instance.lease import LeaseLost
from req1_operator.instance.state import ManagerState, log

RENEW_INTERVAL = 2.0


class LeaseHolding(ManagerState):
    @property
    def holding(self) -> bool:
        return self.fence.armed

    async def renew_loop(self) -> None:
        while True:
            await asyncio.sleep(RENEW_INTERVAL)
            if not self.holding or self.stopping:
                continue
            async with self.lease_lock:
                if not self.holding:
                    continue
                try:
                    await self.lease.renew()
                    self.fence.renewed()
                except LeaseLost as exc:
                    log.error("primary lease taken by %s: fencing", exc.holder)
                    await self.fence_now(f"lease taken by {exc.holder}")
                except ApiError as exc:
                    log.warning("lease renewal failed (%.1fs left): %s", self.fence.seconds_left(), exc)

    async def fence_now(self, why: str) -> None:
        """Stop accepting writes at once: fast shutdown (immediate after 3 s)."""
        if not self.fence.armed:
            return
        self.fence.disarm()
        self.fenced = True
        self.fenced_reported_at = None
        self.expect_running = False
        self.fence_reason = f"fenced: {why}"
        await self.pg.stop("fast", grace=3.0)
        await self.local.close()
        self.wake.set()

    async def take_lease(self) -> bool:
        """Acquire the lease and arm the fence; False (with a message) when another live holder has it."""
        async with self.lease_lock:
            if await self.lease.acquire():
                self.fence.arm()
                return True
        view = self.lease.view()
        self.message = f"waiting for the primary lease held by {view.holder if view else '?'}"
        return False

    async def release_lease(self) -> None:
        async with self.lease_lock:
            self.fence.disarm()
            try:
                await self.lease.release()
            except ApiError as exc:
                log.warning("could not release the lease (it will expire): %s", exc)
