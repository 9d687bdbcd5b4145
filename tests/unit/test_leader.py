"""Table tests of the operator's leader-election rule (a Lease, controller-runtime's timing)."""

from __future__ import annotations

import pytest

from req1_operator import leader
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
