"""The operator's side of PostgreSQL HA on KWOK: the test plays the instance managers (their pod annotations and
the primary Lease) and checks what the operator does with them: target, role labels, failover, switchover,
status and Events. Also the migration from the two-StatefulSet layout. The real managers run in
tests/operator/test_live_failover.py.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from operator_harness import Kubectl, events_for, wait_for, wait_phase

pytestmark = pytest.mark.kube

NAME = "ha"
ROLE = "req1.io/role"


def instance(spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "req1.io/v1alpha1", "kind": "Req1Instance", "metadata": {"name": NAME}, "spec": spec}


def status(admin: Kubectl, ns: str) -> dict[str, Any]:
    return dict((admin.get("req1instance", NAME, ns) or {}).get("status") or {})


def report(admin: Kubectl, ns: str, pod: str, role: str, *, ready: bool = True, streaming: bool = False,
           timeline: int = 1, lsn: str = "0/5000000", message: str = "", synchronous: str | None = None) -> None:
    """What the pod's instance manager would write."""
    body = {"role": role, "timeline": timeline, "lsn": lsn, "replayLsn": lsn, "streaming": streaming,
            "lagBytes": 0, "ready": ready, "systemIdentifier": "7714906048801273602", "message": message or role,
            "updatedAt": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}  # fmt: skip
    if synchronous is not None:
        body["synchronous"] = synchronous
    admin.patch("pod", pod, ns, {"metadata": {"annotations": {"req1.io/instance-status": json.dumps(body)}}})


def lease(admin: Kubectl, ns: str, holder: str | None, renewed_ago: float) -> None:
    t = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=renewed_ago)
    admin.apply({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": f"{NAME}-postgres-primary", "namespace": ns},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": 10,
                 "renewTime": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if holder else None},
    }, ns)  # fmt: skip


def role_of(admin: Kubectl, ns: str, pod: str) -> str | None:
    return ((admin.get("pod", pod, ns) or {}).get("metadata", {}).get("labels") or {}).get(ROLE)


def test_failover_and_switchover_decided_from_reports(admin: Kubectl, kube_namespace: str,
                                                      start_operator: Any) -> None:
    ns = kube_namespace
    p0, p1, p2 = (f"{NAME}-postgres-{i}" for i in range(3))
    start_operator(ns)
    admin.apply(instance({"postgres": {"replicas": 2}}), ns)
    wait_for("the bootstrap target", lambda: status(admin, ns).get("targetPrimary") == p0)
    for kind in ("serviceaccount", "role", "rolebinding"):
        assert admin.get(kind, f"{NAME}-postgres", ns) is not None, kind
    wait_for("3 pods", lambda: all(admin.get("pod", p, ns) for p in (p0, p1, p2)))
    assert role_of(admin, ns, p0) is None  # nobody has confirmed a role yet: no Service selects any pod

    lease(admin, ns, p0, 0)
    report(admin, ns, p0, "primary")
    report(admin, ns, p1, "replica", streaming=True, lsn="0/4000000")
    report(admin, ns, p2, "replica", streaming=True, lsn="0/4800000")
    wait_for("role labels from the reports",
             lambda: (role_of(admin, ns, p0), role_of(admin, ns, p1), role_of(admin, ns, p2))
             == ("primary", "replica", "replica"))  # fmt: skip
    st = wait_for("status.primary", lambda: (s := status(admin, ns)).get("primary") == p0 and s)
    assert st["postgres"]["timeline"] == 1
    assert st["postgres"]["replication"] == "2/2 streaming, async"
    assert [m["name"] for m in st["postgres"]["members"]] == [p0, p1, p2]
    table = admin.run("get", "req1", NAME, "-n", ns).stdout.splitlines()
    assert table[1].split()[4:8] == [p0, "1", "2/2", "streaming,"], table

    # The primary dies: its report goes stale, both replicas stop streaming. While its Lease is live: no move.
    report(admin, ns, p0, "fenced", ready=False)
    report(admin, ns, p1, "replica", ready=False, lsn="0/4000000")
    report(admin, ns, p2, "replica", ready=False, lsn="0/4800000")
    lease(admin, ns, p0, 0)
    wait_for("the failure noticed", lambda: status(admin, ns).get("postgres", {}).get("failingSince"))
    assert status(admin, ns)["targetPrimary"] == p0
    assert role_of(admin, ns, p0) is None  # fenced: out of the -rw Service at once
    # The Lease lapses (no renewal for longer than its duration): the most advanced replica is named.
    lease(admin, ns, p0, 30)
    st = wait_for("a failover to the most advanced replica",
                  lambda: (s := status(admin, ns)).get("targetPrimary") == p2 and s)
    last = st["lastFailover"]
    assert (last["from"], last["to"]) == (p0, p2) and last["reason"].startswith("Failover")
    assert "writesResumedAt" not in last
    lease(admin, ns, p2, 0)  # a manager takes the Lease before it promotes
    report(admin, ns, p2, "primary", timeline=2, lsn="0/4900000")
    st = wait_for("writes resumed", lambda: (s := status(admin, ns)).get("lastFailover", {}).get("rtoSeconds")
                  is not None and s)  # fmt: skip
    assert st["primary"] == p2 and st["postgres"]["timeline"] == 2
    assert st["lastFailover"]["rtoSeconds"] >= 0
    wait_for("p2 labelled primary", lambda: role_of(admin, ns, p2) == "primary")
    reasons = [e["reason"] for e in events_for(admin, NAME, ns)]
    assert {"Failover", "Fenced", "PrimaryReady"} <= set(reasons), reasons

    # The old primary rejoins as a replica; then a switchover back is requested through the spec.
    report(admin, ns, p0, "replica", streaming=True, timeline=2)
    report(admin, ns, p1, "replica", streaming=True, timeline=2)
    wait_for("p0 labelled replica", lambda: role_of(admin, ns, p0) == "replica")
    admin.patch("req1", NAME, ns, {"spec": {"postgres": {"primary": p0}}})
    st = wait_for("a switchover", lambda: (s := status(admin, ns)).get("targetPrimary") == p0 and s)
    assert st["lastFailover"]["reason"].startswith("Switchover")
    assert "Switchover" in [e["reason"] for e in events_for(admin, NAME, ns)]


def test_legacy_layout_is_migrated_keeping_the_primary_claim(admin: Kubectl, kube_namespace: str,
                                                            start_operator: Any) -> None:
    """The two-StatefulSet layout (as an earlier operator rendered it) is replaced; pod -0 gets the old claim."""
    ns = kube_namespace
    admin.apply(instance({}), ns)
    owner = admin.get("req1instance", NAME, ns) or {}
    ref = {"apiVersion": "req1.io/v1alpha1", "kind": "Req1Instance", "name": NAME,
           "uid": owner["metadata"]["uid"], "controller": True}  # fmt: skip
    labels = {"app.kubernetes.io/name": "req1", "app.kubernetes.io/instance": NAME,
              "app.kubernetes.io/component": "postgres", "app.kubernetes.io/managed-by": "req1-operator"}  # fmt: skip
    for role, sts in (("primary", f"{NAME}-postgres"), ("replica", f"{NAME}-postgres-replica")):
        sel = {**{k: v for k, v in labels.items() if k != "app.kubernetes.io/managed-by"}, "req1.io/set": role}
        admin.apply({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": sts, "labels": labels, "ownerReferences": [ref]},
            "spec": {
                "replicas": 1, "serviceName": f"{NAME}-postgres-headless", "selector": {"matchLabels": sel},
                "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Retain"},
                "template": {"metadata": {"labels": {**labels, **sel, ROLE: role}},
                             "spec": {"containers": [{"name": "postgres", "image": "postgres:16"}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "data", "labels": labels},
                                          "spec": {"accessModes": ["ReadWriteOnce"],
                                                   "resources": {"requests": {"storage": "1Gi"}}}}],
            },
        }, ns)  # fmt: skip
    claim = f"data-{NAME}-postgres-0"
    old_pvc = wait_for("the old primary's claim", lambda: admin.get("pvc", claim, ns))
    wait_for("the old primary pod", lambda: admin.get("pod", f"{NAME}-postgres-0", ns))

    start_operator(ns)
    new = wait_for("the new StatefulSet", lambda: (
        (s := admin.get("statefulset", f"{NAME}-postgres", ns))
        and "req1.io/set" not in s["spec"]["selector"]["matchLabels"] and s))
    assert ROLE not in new["spec"]["template"]["metadata"]["labels"]
    wait_for("the legacy replica StatefulSet removed",
             lambda: admin.get("statefulset", f"{NAME}-postgres-replica", ns) is None)
    pod = wait_for("pod -0 of the new StatefulSet", lambda: (
        (p := admin.get("pod", f"{NAME}-postgres-0", ns))
        and "req1.io/set" not in p["metadata"]["labels"] and not p["metadata"].get("deletionTimestamp") and p))
    claims = [v["persistentVolumeClaim"]["claimName"] for v in pod["spec"]["volumes"] if "persistentVolumeClaim" in v]
    assert claims == [claim]
    pvc = admin.get("pvc", claim, ns) or {}
    assert pvc["metadata"]["uid"] == old_pvc["metadata"]["uid"]  # the same volume, not a new one
    assert not pvc["metadata"].get("deletionTimestamp")
    assert status(admin, ns).get("targetPrimary") == f"{NAME}-postgres-0"
    assert "MigratingPostgres" in [e["reason"] for e in events_for(admin, NAME, ns)]
    wait_phase(admin, NAME, ns, "Ready")
