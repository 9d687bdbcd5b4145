"""Table tests of the operator's leader-election rule (a Lease, controller-runtime's timing)."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from req1_operator import leader
from req1_operator.kube.client import ApiError
from req1_operator.leader import CREATE, RENEW, TAKE, WAIT, Seen, decide


def seen(holder: str | None, changed_at: float, duration: float = 15.0) -> Seen:
    return Seen(holder, (holder, "t", 0), changed_at, duration)


@pytest.mark.parametrize(
    ("view", "now", "expected"),
    [
        (None, 0.0, CREATE),  # no Lease yet
        (seen("me", 0.0), 100.0, RENEW),  # ours, even if our own renewals were late: renew (the write is guarded)
        (seen(None, 0.0), 0.0, TAKE),  # released on a graceful stop: take it at once
        (seen("", 0.0), 0.0, TAKE),
        (seen("other", 0.0), 14.9, WAIT),  # the holder's record changed 14.9 s ago by our clock: it may be alive
        (seen("other", 0.0), 15.0, TAKE),  # unchanged for a whole lease duration: expired
        (seen("other", 10.0, duration=30.0), 39.0, WAIT),  # the Lease's own duration counts
        (seen("other", 10.0, duration=30.0), 40.0, TAKE),
    ],
)
def test_decide(view: Seen | None, now: float, expected: str) -> None:
    assert decide(view, "me", now) == expected


@pytest.mark.parametrize(
    ("last", "now", "expected"), [(0.0, 9.9, False), (0.0, 10.0, True), (5.0, 14.0, False), (5.0, 30.0, True)]
)
def test_lost_after_the_renew_deadline(last: float, now: float, expected: bool) -> None:
    assert leader.lost(last, now, leader.RENEW_DEADLINE) is expected


def test_the_leader_stops_before_a_standby_may_take_over() -> None:
    """The invariant behind 'no double reconcile': renew deadline < lease duration, with a retry in between."""
    assert leader.RENEW_DEADLINE + leader.RETRY_PERIOD < leader.LEASE_DURATION


def test_lease_spec_take_renew() -> None:
    taken = leader.lease_spec("me", {"holderIdentity": "old", "leaseTransitions": 2}, 1000.0, 15, TAKE)
    assert taken["holderIdentity"] == "me" and taken["leaseTransitions"] == 3
    assert taken["leaseDurationSeconds"] == 15 and taken["renewTime"].endswith("Z")
    renewed = leader.lease_spec("me", taken, 1002.0, 15, RENEW)
    assert renewed["leaseTransitions"] == 3 and renewed["acquireTime"] == taken["acquireTime"]
    assert renewed["renewTime"] != taken["renewTime"]
    created = leader.lease_spec("me", {}, 1000.0, 15, CREATE)
    assert created["leaseTransitions"] == 0


def test_micro_time() -> None:
    assert leader.micro_time(0.5) == "1970-01-01T00:00:00.500000Z"


class FakeLeases:
    """An API server's optimistic concurrency for one Lease: create fails when it exists, PUT on a stale
    resourceVersion fails with 409."""

    def __init__(self) -> None:
        self.lease: dict[str, Any] | None = None
        self.rv = 0

    async def get(self, res: Any, ns: str, name: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.lease)

    def _store(self, body: dict[str, Any]) -> dict[str, Any]:
        self.rv += 1
        body = copy.deepcopy(body)
        body["metadata"]["resourceVersion"] = str(self.rv)
        self.lease = body
        return body

    async def create(self, res: Any, ns: str, body: dict[str, Any]) -> dict[str, Any]:
        if self.lease is not None:
            raise ApiError(409, "AlreadyExists", "exists", "POST", "/leases")
        return self._store(body)

    async def request(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        assert method == "PUT" and self.lease is not None
        if body["metadata"].get("resourceVersion") != self.lease["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", "stale", "PUT", path)
        return self._store(body)


def test_two_candidates_one_leader_and_a_release_hands_over() -> None:
    api = FakeLeases()
    a = leader.LeaderElector(lambda: api, "ns", "op", "a")  # type: ignore[arg-type,return-value]
    b = leader.LeaderElector(lambda: api, "ns", "op", "b")  # type: ignore[arg-type,return-value]

    async def scenario() -> None:
        assert await a.try_once() is True
        assert await b.try_once() is False  # held and fresh by b's clock: b waits
        assert await a.try_once() is True  # renewal
        assert await b.try_once() is False
        stale = copy.deepcopy(api.lease)
        assert stale is not None
        assert await a.try_once() is True
        with pytest.raises(ApiError):  # a write based on an old read loses
            await api.request("PUT", "/x", body=stale)
        await a.release()
        assert api.lease is not None and not api.lease["spec"].get("holderIdentity")
        assert await b.try_once() is True  # released: taken at once
        assert api.lease["spec"]["holderIdentity"] == "b" and api.lease["spec"]["leaseTransitions"] == 1

    asyncio.run(scenario())
