"""Leader election on a coordination.k8s.io Lease, so the chart can run two operator replicas safely.

The rules are controller-runtime's: a candidate takes the Lease when it is free or when its record has not
changed for `lease_duration` seconds *by the candidate's own clock* (no trust in the other host's clock); every
write carries the resourceVersion it read, so two candidates can never both win. The leader renews every
`retry_period` seconds; when it has not renewed for `renew_deadline` (< `lease_duration`) seconds it stops at
once (the process exits and its pod restarts as a standby), so it has stopped before any standby may take
over. A graceful shutdown releases the Lease, so a rolling update hands over within one retry period.

`decide` is the pure rule; `LeaderElector` is the thin I/O around it.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from req1_operator.kube.client import ApiError, KubeClient
from req1_operator.kube.resources import LEASE

log = logging.getLogger(__name__)

LEASE_DURATION = 15.0
RENEW_DEADLINE = 10.0
RETRY_PERIOD = 2.0

CREATE, TAKE, RENEW, WAIT = "create", "take", "renew", "wait"


@dataclass(frozen=True)
class Seen:
    """What a candidate knows of the Lease: its record and when (monotonic, locally) the record last changed."""

    holder: str | None
    record: tuple[Any, ...]  # holder, renewTime, transitions: any change proves the holder is alive
    changed_at: float
    duration: float


def decide(seen: Seen | None, me: str, now: float) -> str:
    """CREATE (no Lease), RENEW (ours), TAKE (free, released or expired by our clock) or WAIT."""
    if seen is None:
        return CREATE
    if seen.holder == me:
        return RENEW
    if not seen.holder:
        return TAKE
    return TAKE if now - seen.changed_at >= seen.duration else WAIT


def lost(last_renewed: float, now: float, renew_deadline: float) -> bool:
    """Whether the leader must stop: it has not renewed within the deadline (it may no longer hold the Lease)."""
    return now - last_renewed >= renew_deadline


def micro_time(at: float) -> str:
    """A Kubernetes MicroTime (RFC 3339 with microseconds, UTC)."""
    return datetime.datetime.fromtimestamp(at, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def lease_spec(me: str, previous: Mapping[str, Any], now: float, duration: float, action: str) -> dict[str, Any]:
    """The Lease spec we write: taking it bumps leaseTransitions and sets acquireTime; renewing keeps both."""
    spec = dict(previous)
    if action != RENEW or not spec.get("acquireTime"):
        spec["acquireTime"] = micro_time(now)
        spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (1 if action == TAKE else 0)
    spec.update(holderIdentity=me, leaseDurationSeconds=int(duration), renewTime=micro_time(now))
    return spec


class LeaderElector:
    """Acquire, hold and release one Lease with the operator's own client."""

    def __init__(
        self,
        client: Callable[[], KubeClient],
        namespace: str,
        name: str,
        identity: str,
        *,
        lease_duration: float = LEASE_DURATION,
        renew_deadline: float = RENEW_DEADLINE,
        retry_period: float = RETRY_PERIOD,
    ) -> None:
        self._client = client
        self.namespace, self.name, self.identity = namespace, name, identity
        self.lease_duration, self.renew_deadline, self.retry_period = lease_duration, renew_deadline, retry_period
        self._seen: Seen | None = None
        self.last_renewed: float | None = None  # monotonic time of our last successful write, None when standby

    def _observe(self, lease: Mapping[str, Any], now: float) -> Seen:
        spec = lease.get("spec") or {}
        record = (spec.get("holderIdentity"), spec.get("renewTime"), spec.get("leaseTransitions"))
        changed_at = self._seen.changed_at if self._seen is not None and self._seen.record == record else now
        duration = float(spec.get("leaseDurationSeconds") or self.lease_duration)
        self._seen = Seen(spec.get("holderIdentity"), record, changed_at, duration)
        return self._seen

    async def try_once(self) -> bool:
        """One round: read the Lease and create, take or renew it when the rule says so. True when we hold it."""
        client = self._client()
        lease = await client.get(LEASE, self.namespace, self.name)
        now = time.monotonic()
        seen = self._observe(lease, now) if lease is not None else None
        action = decide(seen, self.identity, now)
        if action == WAIT:
            return False
        body: dict[str, Any] = {
            "apiVersion": LEASE.api_version,
            "kind": "Lease",
            "metadata": {"name": self.name, "namespace": self.namespace},
            "spec": lease_spec(
                self.identity, (lease or {}).get("spec") or {}, time.time(), self.lease_duration, action
            ),
        }
        try:
            if lease is None:
                await client.create(LEASE, self.namespace, body)
            else:  # a PUT carrying the resourceVersion we read: a concurrent writer makes it fail with 409
                body["metadata"]["resourceVersion"] = lease["metadata"]["resourceVersion"]
                await client.request("PUT", LEASE.path(self.namespace, self.name), body=body)
        except ApiError as e:
            if e.status in (409, 422) or e.reason == "AlreadyExists":
                return False
            raise
        if action != RENEW:
            log.info("leader election: %s took Lease %s/%s (%s)", self.identity, self.namespace, self.name, action)
        self.last_renewed = now
        return True

    async def acquire(self) -> None:
        """Wait as a standby until we hold the Lease."""
        log.info("leader election: %s waiting for Lease %s/%s", self.identity, self.namespace, self.name)
        while True:
            try:
                if await asyncio.wait_for(self.try_once(), timeout=self.retry_period * 2):
                    return
            except (TimeoutError, ApiError, OSError) as e:
                log.warning("leader election: could not read or write the Lease: %s", e)
            await asyncio.sleep(self.retry_period)

    def still_leader(self) -> bool:
        """False once the renew deadline has passed without a renewal (checked before every reconcile pass)."""
        return self.last_renewed is not None and not lost(self.last_renewed, time.monotonic(), self.renew_deadline)

    async def hold(self) -> None:
        """Renew every retry period; return when leadership is lost (deadline passed or someone else holds it)."""
        while True:
            await asyncio.sleep(self.retry_period)
            assert self.last_renewed is not None
            left = self.renew_deadline - (time.monotonic() - self.last_renewed)
            if left <= 0:
                return
            try:
                held = await asyncio.wait_for(self.try_once(), timeout=left)
                if not held and self._seen is not None and self._seen.holder not in (None, "", self.identity):
                    return
            except (TimeoutError, ApiError, OSError) as e:
                log.warning("leader election: renewal failed: %s", e)
            if not self.still_leader():
                return

    async def release(self) -> None:
        """Give the Lease up on a graceful stop so a standby takes over within one retry period."""
        if not self.still_leader():
            return
        self.last_renewed = None  # from here on `guard` stops any pass still pending (a debounced child event)
        try:
            client = self._client()
            lease = await client.get(LEASE, self.namespace, self.name)
            if lease is None or (lease.get("spec") or {}).get("holderIdentity") != self.identity:
                return
            spec = {**lease["spec"], "holderIdentity": None, "leaseDurationSeconds": 1,
                    "renewTime": micro_time(time.time())}
            body = {**lease, "spec": spec}
            await client.request("PUT", LEASE.path(self.namespace, self.name), body=body)
            log.info("leader election: %s released Lease %s/%s", self.identity, self.namespace, self.name)
        except (ApiError, OSError) as e:
            log.warning("leader election: could not release the Lease: %s", e)


#: The elector of this process when leader election is on; `guard` consults it before every pass.
ELECTOR: LeaderElector | None = None


def guard() -> None:
    """Stop the process before a pass if leadership may have been lost (a stalled loop, a failed renewal)."""
    if ELECTOR is not None and not ELECTOR.still_leader():
        log.critical("leader election: leadership lost, exiting so this pod restarts as a standby")
        logging.shutdown()
        os._exit(1)
