"""Per-instance serialisation and debouncing of reconcile passes, fed by kopf handlers and child watches.

kopf handlers for the Req1Instance run a pass directly (and let kopf retry on errors); child watch events only
mark the owner dirty, and a short debounce folds a burst of child events into one pass. Passes of one instance
never overlap, passes of different instances run concurrently.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import kopf

from req1_operator import leader, metrics
from req1_operator.kube.client import KubeClient
from req1_operator.kube.observe import Key, Observed, from_bodies
from req1_operator.reconcile import Outcome, reconcile, resource_version

log = logging.getLogger(__name__)

OWNERS_INDEX = "req1_owners"
PODS_INDEX = "req1_pods"
LEASES_INDEX = "req1_leases"
CHILD_INDEX_SUFFIX = "_children"
MONITORING_TTL = 600.0


class Engine:
    def __init__(self, client_factory: Any, debounce: float = 0.2) -> None:
        self._client_factory = client_factory
        self.debounce = debounce
        self.locks: defaultdict[Key, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.pending: dict[Key, asyncio.Task[None]] = {}
        self.dirty: set[Key] = set()
        self.indexes: dict[str, kopf.Index[Any, Any]] = {}
        self.phases: dict[Key, str] = {}
        self.written: dict[Key, tuple[int, dict[str, Any]]] = {}  # our last status write per instance
        self._monitoring: tuple[float, bool] | None = None
        self.rechecks: dict[Key, asyncio.TimerHandle] = {}

    @property
    def client(self) -> KubeClient:
        client: KubeClient = self._client_factory()
        return client

    def bind(self, kwargs: Mapping[str, Any]) -> None:
        """Remember kopf's index objects (handed to every handler as kwargs) for background passes."""
        if not self.indexes:
            self.indexes = {k: v for k, v in kwargs.items() if isinstance(v, kopf.Index)}

    def observe(self, key: Key) -> Observed:
        bodies: list[dict[str, Any]] = []
        for name, index in self.indexes.items():
            if name.endswith(CHILD_INDEX_SUFFIX) and key in index:
                bodies.extend(index[key])
        pods = (
            list(self.indexes[PODS_INDEX][key])
            if PODS_INDEX in self.indexes and key in self.indexes[PODS_INDEX]
            else []
        )
        lease = None
        if LEASES_INDEX in self.indexes and key in self.indexes[LEASES_INDEX]:
            lease = next(iter(self.indexes[LEASES_INDEX][key]), None)
        return from_bodies(bodies, pods, lease)

    def owner(self, key: Key) -> Mapping[str, Any] | None:
        idx = self.indexes.get(OWNERS_INDEX)
        if idx is None or key not in idx:
            return None
        for body in idx[key]:
            return dict(body)
        return None

    async def monitoring_crd_present(self) -> bool:
        """Whether the ServiceMonitor API exists, via discovery (no RBAC needed), cached for 10 minutes."""
        now = time.monotonic()
        if self._monitoring is not None and now - self._monitoring[0] < MONITORING_TTL:
            return self._monitoring[1]
        try:
            await self.client.request("GET", "/apis/monitoring.coreos.com/v1")
            present = True
        except Exception:
            present = False
        self._monitoring = (now, present)
        return present

    async def run(self, key: Key, body: Mapping[str, Any], trigger: str) -> Outcome:
        """One serialised pass for `key`; errors propagate (kopf handlers retry them)."""
        async with self.locks[key]:
            leader.guard()  # a replica that may have lost the Lease never starts a pass
            started = time.perf_counter()
            ns, name = key
            try:
                written = self.written.get(key)
                fresher = written is not None and written[0] > resource_version(body)
                out = await reconcile(
                    self.client,
                    body,
                    self.observe(key),
                    monitoring_crd_present=await self.monitoring_crd_present(),
                    on_write=lambda kind: metrics.CHILD_WRITES.labels(kind).inc(),
                    previous_status=written[1] if written is not None and fresher else None,
                )
                if out.status_version:
                    self.written[key] = (out.status_version, out.status)
                self._recheck(key, out.recheck_in)
            except Exception as e:
                metrics.RECONCILES.labels(ns, name, trigger, "error").inc()
                metrics.RECONCILE_ERRORS.labels(ns, name, type(e).__name__).inc()
                raise
            finally:
                metrics.RECONCILE_SECONDS.labels(ns, name).observe(time.perf_counter() - started)
            result = "user-error" if out.error else ("changed" if out.writes else "unchanged")
            metrics.RECONCILES.labels(ns, name, trigger, result).inc()
            if out.error:
                metrics.RECONCILE_ERRORS.labels(ns, name, out.error.reason).inc()
            self.phases[key] = out.status.get("phase") or "Pending"
            if out.writes:
                log.info("%s/%s (%s): %d writes %s pruned %s", ns, name, trigger, out.writes, out.applied, out.pruned)
            return out

    def _recheck(self, key: Key, delay: float | None) -> None:
        """One timed pass for when the observation may decide differently (a Lease lapsing), replacing the last."""
        old = self.rechecks.pop(key, None)
        if old is not None:
            old.cancel()
        if delay is not None:
            self.rechecks[key] = asyncio.get_running_loop().call_later(delay, self.schedule, key, "recheck")

    def schedule(self, key: Key, trigger: str = "watch") -> None:
        """Ask for a pass soon; bursts of calls fold into one pass (and at most one more after it)."""
        task = self.pending.get(key)
        if task is not None and not task.done():
            self.dirty.add(key)
            return
        self.pending[key] = asyncio.create_task(self._debounced(key, trigger))

    async def _debounced(self, key: Key, trigger: str) -> None:
        while True:
            await asyncio.sleep(self.debounce)
            self.dirty.discard(key)
            body = self.owner(key)
            if body is not None and not body.get("metadata", {}).get("deletionTimestamp"):
                try:
                    await self.run(key, body, trigger)
                except Exception as e:
                    log.warning("pass for %s/%s after a child change failed (the timer retries): %s", *key, e)
            if key not in self.dirty:
                self.pending.pop(key, None)
                return

    def forget(self, key: Key) -> None:
        self._recheck(key, None)
        self.phases.pop(key, None)
        self.written.pop(key, None)
        self.locks.pop(key, None)

    def phase_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for phase in self.phases.values():
            counts[phase] += 1
        return dict(counts)
