"""Acceptance: examples reach Ready with every child, `kubectl get req1` columns, idempotent passes, the HPA
owns replicas, and deletion keeps or removes PVCs per policy. The operator runs with the chart's RBAC."""

from __future__ import annotations

import copy
from typing import Any

from operator_harness import Kubectl, condition, events_for, load_example, wait_for, wait_phase

from req1_operator.render import RenderInput, render_all
from req1_operator.spec import parse_spec

KINDS = (
    "secrets,configmaps,services,statefulsets,deployments,jobs,hpa,pdb,ingresses,networkpolicies,sa,roles,rolebindings"
)


def expected_children(obj: dict[str, Any], namespace: str) -> set[tuple[str, str]]:
    inp = RenderInput(obj["metadata"]["name"], namespace, "uid", parse_spec(obj.get("spec")))
    return {(o["kind"], o["metadata"]["name"]) for o in render_all(inp)}


def live_children(kubectl: Kubectl, name: str, namespace: str) -> set[tuple[str, str]]:
    items = kubectl.list(
        KINDS, namespace, f"app.kubernetes.io/instance={name},app.kubernetes.io/managed-by=req1-operator"
    )
    return {(i["kind"], i["metadata"]["name"]) for i in items}


def test_minimal_example_reaches_ready_with_every_child(
    admin: Kubectl, kube_namespace: str, start_operator: Any
) -> None:
    ns = kube_namespace
    op = start_operator(ns)
    obj = load_example("req1instance-minimal.yaml")
    name = obj["metadata"]["name"]
    admin.apply(obj, ns)

    want = expected_children(obj, ns)
    wait_for("every rendered child", lambda: want <= live_children(admin, name, ns))
    status = wait_phase(admin, name, ns, "Ready")

    assert status["readyComponents"] == "4/4"
    assert status["apiReplicas"] == "2/2"
    # No instance manager runs on KWOK: the operator has named the bootstrap primary, none has confirmed it yet.
    assert status["targetPrimary"] == f"{name}-postgres-0"
    assert status.get("primary") is None
    assert status["url"] == f"http://{name}-api.{ns}.svc"
    assert condition(status, "Ready")["status"] == "True"
    assert condition(status, "PostgresReady")["status"] == "True"
    for kind, child in want:
        live = admin.get(kind, child, ns)
        assert live is not None
        refs = live["metadata"].get("ownerReferences") or []
        assert [r["kind"] for r in refs] == ["Req1Instance"], (kind, child)

    table = admin.run("get", "req1", "-n", ns).stdout.splitlines()
    header = table[0].split()
    assert header[:7] == ["NAME", "PHASE", "READY", "API", "PRIMARY", "TIMELINE", "REPLICATION"], header
    assert header[-2:] == ["URL", "AGE"], header
    assert table[1].split()[:4] == [name, "Ready", "4/4", "2/2"]

    reasons = [e["reason"] for e in events_for(admin, name, ns)]
    assert "PhaseReady" in reasons

    # Idempotency: with nothing changed, timer passes (every 5 s here) send no write at all.
    passes = op.sum_metric("req1_operator_reconcile_total", trigger="timer")
    changed = op.sum_metric("req1_operator_reconcile_total", result="changed")
    writes = op.writes()
    wait_for(
        "two more timer passes", lambda: op.sum_metric("req1_operator_reconcile_total", trigger="timer") >= passes + 2
    )
    assert op.writes() == writes
    assert op.sum_metric("req1_operator_reconcile_total", result="changed") == changed


def test_production_example_reaches_ready_and_leaves_replicas_to_the_hpa(
    admin: Kubectl, kube_namespace: str, start_operator: Any
) -> None:
    ns = kube_namespace
    op = start_operator(ns)
    obj = load_example("req1instance-production.yaml")
    name = obj["metadata"]["name"]
    admin.apply(obj, ns)
    status = wait_phase(admin, name, ns, "Ready", timeout=180)
    assert status["readyComponents"] == "5/5"
    assert status["url"] == "https://req1.example.com"
    assert admin.get("hpa", f"{name}-api", ns) is not None
    ingress = admin.get("ingress", name, ns)
    assert ingress is not None and ingress["spec"]["tls"][0]["hosts"] == ["req1.example.com"]
    replicas = admin.get("statefulset", f"{name}-postgres", ns)
    assert replicas is not None and replicas["spec"]["replicas"] == 3

    deploy = admin.get("deployment", f"{name}-api", ns)
    assert deploy is not None
    ours = [m for m in deploy["metadata"]["managedFields"] if m["manager"] == "req1-operator"]
    assert ours and all("f:replicas" not in str(m.get("fieldsV1", {}).get("f:spec", {})) for m in ours)

    # Someone else (the HPA) sets replicas: the operator does not take them back.
    admin.run("scale", "deployment", f"{name}-api", "-n", ns, "--replicas=6")
    passes = op.sum_metric("req1_operator_reconcile_total", trigger="timer")
    wait_for("a timer pass", lambda: op.sum_metric("req1_operator_reconcile_total", trigger="timer") > passes)
    deploy = admin.get("deployment", f"{name}-api", ns)
    assert deploy is not None and deploy["spec"]["replicas"] in (6, 3)  # ours never; the HPA may clamp to min 3
    managers = {m["manager"] for m in deploy["metadata"]["managedFields"] if "f:replicas" in str(m.get("fieldsV1"))}
    assert "req1-operator" not in managers


def test_deletion_keeps_pvcs_by_default_and_removes_them_with_delete_policy(
    admin: Kubectl, kube_namespace: str, start_operator: Any
) -> None:
    ns = kube_namespace
    start_operator(ns)
    keep = load_example("req1instance-minimal.yaml")
    keep["metadata"]["name"] = "keep"
    drop = copy.deepcopy(keep)
    drop["metadata"]["name"] = "drop"
    drop["spec"] = {"deletionPolicy": "Delete"}
    admin.apply(keep, ns)
    admin.apply(drop, ns)
    wait_phase(admin, "keep", ns, "Ready")
    wait_phase(admin, "drop", ns, "Ready")

    def pvcs(inst: str) -> list[str]:
        return [p["metadata"]["name"] for p in admin.list("pvc", ns, f"app.kubernetes.io/instance={inst}")]

    wait_for("PVCs of both", lambda: pvcs("keep") and pvcs("drop"))
    kept = sorted(pvcs("keep"))
    admin.run("delete", "req1", "keep", "drop", "-n", ns, "--wait=true", "--timeout=120s")

    wait_for(
        "children garbage-collected",
        lambda: not live_children(admin, "keep", ns) and not live_children(admin, "drop", ns),
    )
    wait_for("PVCs of 'drop' deleted", lambda: not pvcs("drop"))
    assert sorted(pvcs("keep")) == kept
