"""Acceptance (KWOK): two operator processes with leader election. Only the Lease holder reconciles; killed
without grace, the standby takes the Lease once it lapses and reconciles a change made meanwhile; stopped
gracefully, the leader releases the Lease and the standby takes it at once."""

from __future__ import annotations

import time
from typing import Any

from operator_harness import OPERATOR_NAMESPACE, Kubectl, Operator, wait_for, wait_phase

NAME = "le"


def _holder(admin: Kubectl, lease: str) -> str | None:
    obj = admin.get("lease", lease, OPERATOR_NAMESPACE) or {}
    return (obj.get("spec") or {}).get("holderIdentity")


def _passes(op: Operator) -> float:
    return op.sum_metric("req1_operator_reconcile_total")


def _pair(start_operator: Any, ns: str, lease: str) -> dict[str, Operator]:
    ops = {}
    for who in ("a", "b"):
        extra = ("--leader-elect", f"--leader-election-namespace={OPERATOR_NAMESPACE}",
                 f"--leader-election-id={lease}", f"--leader-election-identity={lease}-{who}")
        ops[f"{lease}-{who}"] = start_operator(ns, resync=3600, extra=extra)
    return ops


def _writes_besides_leases(op: Operator) -> float:
    return sum(
        v for k, v in op.metrics().items()
        if k.startswith("req1_operator_kube_requests_total{") and 'resource="leases"' not in k
        and any(f'verb="{w}"' in k for w in ("POST", "PUT", "PATCH", "DELETE"))
    )


def _replicas(admin: Kubectl, ns: str) -> int | None:
    d = admin.get("deployment", f"{NAME}-api", ns)
    return int(d["spec"]["replicas"]) if d else None


def test_only_the_leader_reconciles_and_the_standby_takes_over(
    admin: Kubectl, kube_namespace: str, start_operator: Any
) -> None:
    ns = kube_namespace
    lease = f"op-{ns}"
    ops = _pair(start_operator, ns, lease)
    leader_id = wait_for("a Lease holder", lambda: _holder(admin, lease))
    leader, standby = ops[leader_id], next(op for k, op in ops.items() if k != leader_id)

    admin.apply({"apiVersion": "req1.io/v1alpha1", "kind": "Req1Instance", "metadata": {"name": NAME}}, ns)
    wait_phase(admin, NAME, ns, "Ready")
    assert _passes(leader) > 0
    assert _passes(standby) == 0, "the standby reconciled"
    # A standby only reads the Lease (and may have lost the race to create it): no other write at all.
    assert _writes_besides_leases(standby) == 0, standby.metrics()
    assert _holder(admin, lease) == leader_id

    leader.kill()  # SIGKILL: no release, the Lease must lapse
    killed_at = time.monotonic()
    admin.patch("req1", NAME, ns, {"spec": {"api": {"replicas": 3}}})  # made while nobody leads
    new_id = wait_for("the standby holding the Lease", lambda: (h := _holder(admin, lease)) != leader_id and h)
    took = time.monotonic() - killed_at
    wait_for("the change reconciled by the new leader", lambda: _replicas(admin, ns) == 3)
    assert _passes(standby) > 0
    assert new_id == next(k for k in ops if k != leader_id)
    print(f"handover after SIGKILL: Lease taken {took:.1f} s after the kill (lease duration 15 s)")


def test_a_graceful_stop_releases_the_lease(admin: Kubectl, kube_namespace: str, start_operator: Any) -> None:
    ns = kube_namespace
    lease = f"op-{ns}"
    ops = _pair(start_operator, ns, lease)
    leader_id = wait_for("a Lease holder", lambda: _holder(admin, lease))
    leader, standby = ops[leader_id], next(op for k, op in ops.items() if k != leader_id)
    admin.apply({"apiVersion": "req1.io/v1alpha1", "kind": "Req1Instance", "metadata": {"name": NAME}}, ns)
    wait_phase(admin, NAME, ns, "Ready")

    stopped_at = time.monotonic()
    leader.stop()  # SIGTERM: kopf stops, then the Lease is released
    assert "released Lease" in leader.log(), leader.log()[-2000:]
    wait_for("the standby holding the Lease", lambda: (h := _holder(admin, lease)) and h != leader_id)
    took = time.monotonic() - stopped_at
    admin.patch("req1", NAME, ns, {"spec": {"api": {"replicas": 3}}})
    wait_for("the change reconciled by the new leader", lambda: _replicas(admin, ns) == 3)
    assert _passes(standby) > 0
    print(f"handover after SIGTERM: Lease taken {took:.1f} s after the stop began")
