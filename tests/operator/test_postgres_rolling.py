"""A PostgreSQL configuration change rolls replica-first, on KWOK: the test plays the instance managers (their
reports and the primary Lease) and the StatefulSet controller recreates the pods the operator deletes. Expected:
the replicas restart one at a time, each only after the previous one is back, then one switchover to an updated
replica, then the old primary; scaling afterwards restarts nobody. The pure rules are in tests/unit/test_rolling.py.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from operator_harness import Kubectl, events_for, wait_for
from test_postgres_ha_rules import NAME, instance, lease, report, status

pytestmark = pytest.mark.kube


def uid(admin: Kubectl, ns: str, pod: str) -> str | None:
    body = admin.get("pod", pod, ns) or {}
    meta = body.get("metadata") or {}
    return None if meta.get("deletionTimestamp") else meta.get("uid")


def replaced(admin: Kubectl, ns: str, pod: str, old: str) -> str | None:
    """The new incarnation's uid once the StatefulSet has recreated the pod."""
    new = uid(admin, ns, pod)
    return new if new not in (None, old) else None


@contextmanager
def renewing(admin: Kubectl, ns: str, holder: list[str]) -> Iterator[None]:
    """Renew the primary Lease for ``holder[0]`` every 2 s, as its manager would (a stale one means a failover)."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(2.0):
            lease(admin, ns, holder[0], 0)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def test_config_change_rolls_replicas_first_then_switches_over_once(admin: Kubectl, kube_namespace: str,
                                                                     start_operator: Any) -> None:
    ns = kube_namespace
    p0, p1, p2 = (f"{NAME}-postgres-{i}" for i in range(3))
    start_operator(ns)
    admin.apply(instance({"postgres": {"replicas": 2}}), ns)
    wait_for("3 pods", lambda: all(uid(admin, ns, p) for p in (p0, p1, p2)))
    holder = [p0]
    lease(admin, ns, p0, 0)
    with renewing(admin, ns, holder):
        report(admin, ns, p0, "primary")
        report(admin, ns, p1, "replica", streaming=True, lsn="0/4800000")
        report(admin, ns, p2, "replica", streaming=True, lsn="0/4000000")
        wait_for("status.primary", lambda: status(admin, ns).get("primary") == p0)
        before = {p: uid(admin, ns, p) for p in (p0, p1, p2)}

        admin.patch("req1", NAME, ns, {"spec": {"postgres": {"parameters": {"work_mem": "8MB"}}}})
        new2 = wait_for("the highest replica restarted first", lambda: replaced(admin, ns, p2, str(before[p2])))
        # p2's new incarnation has not reported yet: the roll waits for it before touching anyone else.
        assert (uid(admin, ns, p0), uid(admin, ns, p1)) == (before[p0], before[p1])
        report(admin, ns, p2, "replica", streaming=True, lsn="0/4000000")
        new1 = wait_for("then the other replica", lambda: replaced(admin, ns, p1, str(before[p1])))
        assert uid(admin, ns, p0) == before[p0] and uid(admin, ns, p2) == new2
        assert status(admin, ns)["targetPrimary"] == p0  # no switchover while a replica is still on the old revision
        report(admin, ns, p1, "replica", streaming=True, lsn="0/4800000")

        st = wait_for("one switchover, to the most advanced updated replica",
                      lambda: (s := status(admin, ns)).get("targetPrimary") == p1 and s)  # fmt: skip
        assert st["lastFailover"]["reason"].startswith("Switchover: rolling update")
        assert uid(admin, ns, p0) == before[p0]  # the old primary is restarted only after it has handed over
        holder[0] = p1
        lease(admin, ns, p1, 0)  # what the managers do: p0 stops and releases, p1 takes the Lease and promotes
        report(admin, ns, p1, "primary", timeline=2, lsn="0/4900000")
        report(admin, ns, p2, "replica", streaming=True, timeline=2, lsn="0/4900000")
        with contextlib.suppress(AssertionError):  # the operator may already have deleted p0 to roll it: fine
            report(admin, ns, p0, "replica", streaming=True, timeline=2, lsn="0/4900000")
        new0 = wait_for("the old primary restarted last", lambda: replaced(admin, ns, p0, str(before[p0])))
        assert (uid(admin, ns, p1), uid(admin, ns, p2)) == (new1, new2)
        report(admin, ns, p0, "replica", streaming=True, timeline=2, lsn="0/4900000")

        # An Event per step (their order is the one checked above through the pods' uids).
        steps = sorted((e["reason"], e["message"].split(":")[0]) for e in events_for(admin, NAME, ns)
                       if e["reason"] in ("RollingUpdate", "Switchover"))  # fmt: skip
        assert steps == sorted([("RollingUpdate", f"deleting pod {p}") for p in (p0, p1, p2)]
                               + [("Switchover", f"{p0} -> {p1}")]), steps  # fmt: skip

        # Scaling adds a member and restarts nobody, the primary least of all.
        admin.patch("req1", NAME, ns, {"spec": {"postgres": {"replicas": 3}}})
        wait_for("a fourth member", lambda: uid(admin, ns, f"{NAME}-postgres-3"))
        report(admin, ns, f"{NAME}-postgres-3", "replica", streaming=True, timeline=2, lsn="0/4900000")
        wait_for("4 members in status", lambda: len(status(admin, ns).get("postgres", {}).get("members") or []) == 4)
        assert {p: uid(admin, ns, p) for p in (p0, p1, p2)} == {p0: new0, p1: new1, p2: new2}
        assert status(admin, ns)["targetPrimary"] == p1
        rolled = [e for e in events_for(admin, NAME, ns) if e["reason"] == "RollingUpdate"]
        assert len(rolled) == 3
