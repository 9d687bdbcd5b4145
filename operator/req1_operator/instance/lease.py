"""The primary Lease: one holder at a time, taken only when free, expired or already ours.

Every write is a PUT carrying the resourceVersion that was read (or a POST that fails when the object exists), so
of two managers racing for the same expired lease exactly one wins. Expiry is ``renewTime + leaseDurationSeconds``
compared with this machine's clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from req1_operator.instance.kube import ApiError, Kube


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def micro_time(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class LeaseView:
    """What a Lease says, judged at one instant."""

    holder: str
    renew_time: dt.datetime | None
    duration: int

    @classmethod
    def of(cls, lease: dict[str, Any] | None) -> LeaseView | None:
        if lease is None:
            return None
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        return cls(holder, parse_time(spec.get("renewTime")), int(spec.get("leaseDurationSeconds") or 0))

    def expired(self, at: dt.datetime) -> bool:
        if not self.holder or self.renew_time is None:
            return True
        return self.renew_time + dt.timedelta(seconds=self.duration) < at

    def live_holder(self, at: dt.datetime) -> str | None:
        """The pod holding the lease now, or None when it is free or expired."""
        return None if self.expired(at) else self.holder


_FREE = LeaseView("", None, 0)


class LeaseLost(Exception):
    """Someone else holds the lease (live): this pod must not be (or stay) a primary."""

    def __init__(self, holder: str) -> None:
        super().__init__(f"lease held by {holder}")
        self.holder = holder


class PrimaryLease:
    """This pod's handle on ``<instance>-postgres-primary``."""

    def __init__(self, kube: Kube, name: str, identity: str, duration: int) -> None:
        self.kube = kube
        self.name = name
        self.identity = identity
        self.duration = duration
        self.last: dict[str, Any] | None = None  # the object as last read or written

    def view(self) -> LeaseView | None:
        return LeaseView.of(self.last)

    async def read(self) -> LeaseView | None:
        self.last = await self.kube.get_lease(self.name)
        return self.view()

    def _spec(self, previous: dict[str, Any] | None, t: dt.datetime) -> dict[str, Any]:
        old = (previous or {}).get("spec") or {}
        mine = old.get("holderIdentity") == self.identity
        return {
            **old,
            "holderIdentity": self.identity,
            "leaseDurationSeconds": self.duration,
            "acquireTime": old.get("acquireTime") if mine and old.get("acquireTime") else micro_time(t),
            "renewTime": micro_time(t),
            "leaseTransitions": int(old.get("leaseTransitions") or 0) + (0 if mine else 1),
        }

    async def acquire(self) -> bool:
        """Take or renew the lease if it is free, expired or ours; False when another live holder has it
        (or another manager won the race). Raises ApiError when the API server cannot be reached."""
        t = now()
        current = await self.kube.get_lease(self.name)
        self.last = current
        if current is None:
            spec = {**self._spec(None, t), "leaseTransitions": 0}
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name},
                "spec": spec,
            }
            try:
                self.last = await self.kube.create_lease(body)
                return True
            except ApiError as exc:
                if exc.status == 409:
                    return False
                raise
        view = LeaseView.of(current)
        assert view is not None
        if view.holder != self.identity and not view.expired(t):
            return False
        return await self._put(current, t)

    async def renew(self) -> None:
        """Renew a lease we hold (or that lapsed); raises LeaseLost when another live holder has it."""
        current = self.last
        if current is None or (LeaseView.of(current) or _FREE).holder != self.identity:
            current = await self.kube.get_lease(self.name)
        for _ in range(2):
            if current is None:
                if await self.acquire():
                    return
                break
            view = LeaseView.of(current) or _FREE
            t = now()
            if view.holder != self.identity and not view.expired(t):
                break
            if await self._put(current, t):
                return
            current = await self.kube.get_lease(self.name)  # written since we read it: look again
        self.last = current
        raise LeaseLost((self.view() or _FREE).holder)

    async def _put(self, current: dict[str, Any], t: dt.datetime) -> bool:
        body = {**current, "spec": self._spec(current, t)}
        try:
            self.last = await self.kube.replace_lease(body)
            return True
        except ApiError as exc:
            if exc.status == 409:
                return False
            raise

    async def release(self) -> None:
        """Give the lease up after this pod has stopped accepting writes, so a successor need not wait for expiry."""
        current = await self.kube.get_lease(self.name)
        if current is None or (current.get("spec") or {}).get("holderIdentity") != self.identity:
            return
        spec = {**current["spec"], "holderIdentity": None, "renewTime": None}
        try:
            self.last = await self.kube.replace_lease({**current, "spec": spec})
        except ApiError as exc:
            if exc.status != 409:
                raise
