"""synchronousMode preferred on KWOK: the test plays the managers (the primary's report of what its commits do)
and checks the operator's SynchronousReplication condition, its Events and the REPLICATION column. The manager's
side runs for real in tests/dataplane/test_instance_manager.py; the rules are in tests/unit/test_sync_status.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from operator_harness import Kubectl, events_for, wait_for
from test_postgres_ha_rules import NAME, instance, lease, report, status

pytestmark = pytest.mark.kube


def reasons(admin: Kubectl, ns: str) -> list[str]:
    return [e["reason"] for e in events_for(admin, NAME, ns)]


def sync_condition(admin: Kubectl, ns: str) -> dict[str, Any] | None:
    return next((c for c in status(admin, ns).get("conditions") or [] if c["type"] == "SynchronousReplication"), None)


def test_preferred_falls_back_with_a_condition_and_an_event_and_comes_back(admin: Kubectl, kube_namespace: str,
                                                                           start_operator: Any) -> None:
    ns = kube_namespace
    p0, p1 = f"{NAME}-postgres-0", f"{NAME}-postgres-1"
    start_operator(ns)
    admin.apply(instance({"postgres": {"replicas": 1, "synchronousMode": "preferred"}}), ns)
    wait_for("2 pods", lambda: admin.get("pod", p0, ns) and admin.get("pod", p1, ns))
    lease(admin, ns, p0, 0)
    report(admin, ns, p0, "primary", synchronous="sync")
    report(admin, ns, p1, "replica", streaming=True)
    cond = wait_for("synchronous", lambda: (c := sync_condition(admin, ns)) and c["status"] == "True" and c)
    assert cond["reason"] == "StandbyStreaming"

    lease(admin, ns, p0, 0)
    report(admin, ns, p1, "replica", ready=False)  # the standby stopped streaming
    report(admin, ns, p0, "primary", synchronous="async")
    cond = wait_for("the fallback", lambda: (c := sync_condition(admin, ns)) and c["status"] == "False" and c)
    assert cond["reason"] == "NoHealthyStandby" and "asynchronous" in cond["message"]
    assert status(admin, ns)["postgres"]["replication"] == "0/1 streaming, async (sync preferred: no streaming standby)"
    wait_for("a fallback Event", lambda: "SynchronousReplicationOff" in reasons(admin, ns))

    lease(admin, ns, p0, 0)
    report(admin, ns, p1, "replica", streaming=True)
    report(admin, ns, p0, "primary", synchronous="sync")
    wait_for("synchronous again", lambda: (c := sync_condition(admin, ns)) and c["status"] == "True")
    wait_for("a return Event", lambda: "SynchronousReplicationOn" in reasons(admin, ns))
    assert status(admin, ns)["postgres"]["replication"] == "1/1 streaming, sync preferred"
