"""Acceptance: a deleted or hand-edited child is restored (by watching children), a NotReady pod turns the
instance Degraded with a condition naming the component, and it returns to Ready when the pod recovers."""

from __future__ import annotations

from typing import Any

from operator_harness import Kubectl, condition, events_for, wait_for, wait_phase

NAME = "drift"


def test_deleted_and_edited_children_are_restored(admin: Kubectl, kube_namespace: str, start_operator: Any) -> None:
    ns = kube_namespace
    start_operator(ns, resync=3600)  # no timer pass during the test: only the child watches can restore
    admin.apply({"apiVersion": "req1.io/v1alpha1", "kind": "Req1Instance", "metadata": {"name": NAME}}, ns)
    wait_phase(admin, NAME, ns, "Ready")

    svc = admin.get("service", f"{NAME}-api", ns)
    assert svc is not None
    admin.run("delete", "service", f"{NAME}-api", "-n", ns)
    restored = wait_for(
        "the Service re-created",
        lambda: (s := admin.get("service", f"{NAME}-api", ns)) and s["metadata"]["uid"] != svc["metadata"]["uid"] and s,
    )
    assert restored["spec"]["ports"] == svc["spec"]["ports"]

    cm = admin.get("configmap", f"{NAME}-api", ns)
    assert cm is not None
    key = sorted(cm["data"])[0]
    admin.patch("configmap", f"{NAME}-api", ns, {"data": {key: "hand-edited"}})
    wait_for(
        "the ConfigMap put back",
        lambda: ((admin.get("configmap", f"{NAME}-api", ns) or {}).get("data") or {}).get(key) == cm["data"][key],
    )

    sts = admin.get("statefulset", f"{NAME}-redis", ns)
    assert sts is not None
    admin.run("delete", "statefulset", f"{NAME}-redis", "-n", ns, "--cascade=orphan")
    wait_for(
        "the StatefulSet re-created",
        lambda: (
            (s := admin.get("statefulset", f"{NAME}-redis", ns)) is not None
            and s["metadata"]["uid"] != sts["metadata"]["uid"]
        ),
    )
    wait_phase(admin, NAME, ns, "Ready")


def _set_pod_ready(admin: Kubectl, ns: str, pod: str, ready: bool) -> None:
    value = "True" if ready else "False"
    admin.run(
        "patch",
        "pod",
        pod,
        "-n",
        ns,
        "--subresource=status",
        "--type=strategic",
        "-p",
        f'{{"status":{{"conditions":[{{"type":"Ready","status":"{value}"}},{{"type":"ContainersReady","status":"{value}"}}]}}}}',
    )


def test_not_ready_pod_degrades_then_recovers(admin: Kubectl, kube_namespace: str, start_operator: Any) -> None:
    ns = kube_namespace
    start_operator(ns, resync=3600)
    admin.apply({"apiVersion": "req1.io/v1alpha1", "kind": "Req1Instance", "metadata": {"name": NAME}}, ns)
    wait_phase(admin, NAME, ns, "Ready")

    _set_pod_ready(admin, ns, f"{NAME}-redis-0", False)
    status = wait_phase(admin, NAME, ns, "Degraded")
    degraded = condition(status, "Degraded")
    assert degraded["status"] == "True"
    assert "redis" in degraded["message"]
    assert condition(status, "RedisReady")["status"] == "False"
    assert condition(status, "PostgresReady")["status"] == "True"
    assert status["components"]["redis"]["ready"] is False

    _set_pod_ready(admin, ns, f"{NAME}-redis-0", True)
    status = wait_phase(admin, NAME, ns, "Ready")
    assert condition(status, "Degraded")["status"] == "False"
    reasons = [e["reason"] for e in events_for(admin, NAME, ns)]
    assert "PhaseDegraded" in reasons
    assert [e["type"] for e in events_for(admin, NAME, ns) if e["reason"] == "PhaseDegraded"] == ["Warning"]
