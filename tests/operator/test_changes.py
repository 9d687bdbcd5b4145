"""Acceptance: spec changes are reconciled — API replicas (also via /scale), the image bump that runs the
migrate Job before rolling the API, PostgreSQL read replicas, the ingress host."""

from __future__ import annotations

from typing import Any

from operator_harness import Kubectl, events_for, wait_for, wait_phase

NAME = "chg"


def _deploy(admin: Kubectl, ns: str) -> dict[str, Any]:
    d = admin.get("deployment", f"{NAME}-api", ns)
    assert d is not None
    return d


def test_spec_changes_are_reconciled(admin: Kubectl, kube_namespace: str, start_operator: Any) -> None:
    ns = kube_namespace
    start_operator(ns)
    admin.apply({"apiVersion": "req1.io/v1alpha1", "kind": "Req1Instance", "metadata": {"name": NAME}, "spec": {}}, ns)
    wait_phase(admin, NAME, ns, "Ready")

    # API replicas, through the spec and through the /scale subresource.
    admin.patch("req1", NAME, ns, {"spec": {"api": {"replicas": 3}}})
    wait_for("3 API replicas", lambda: _deploy(admin, ns)["spec"]["replicas"] == 3)
    admin.run("scale", f"req1/{NAME}", "-n", ns, "--replicas=4")
    wait_for("4 API replicas", lambda: _deploy(admin, ns)["spec"]["replicas"] == 4)
    # Status is computed from what is observed: it follows once the Deployment reports 4 ready pods.
    wait_for("status API 4/4", lambda: _status(admin, ns).get("apiReplicas") == "4/4")
    wait_phase(admin, NAME, ns, "Ready")

    # PostgreSQL read replicas.
    admin.patch("req1", NAME, ns, {"spec": {"postgres": {"replicas": 2}}})
    wait_for(
        "2 PostgreSQL replicas (3 members)",
        lambda: ((admin.get("statefulset", f"{NAME}-postgres", ns) or {}).get("spec") or {}).get("replicas") == 3,
    )
    wait_phase(admin, NAME, ns, "Ready")

    # Ingress on, then its host changed.
    admin.patch("req1", NAME, ns, {"spec": {"ingress": {"enabled": True, "host": "a.example.com"}}})
    wait_for("ingress for a.example.com", lambda: _hosts(admin, ns) == ["a.example.com"])
    admin.patch("req1", NAME, ns, {"spec": {"ingress": {"host": "b.example.com"}}})
    wait_for("ingress for b.example.com", lambda: _hosts(admin, ns) == ["b.example.com"])
    wait_for("status URL of the new host", lambda: _status(admin, ns).get("url") == "http://b.example.com")
    wait_phase(admin, NAME, ns, "Ready")


def _status(admin: Kubectl, ns: str) -> dict[str, Any]:
    return dict((admin.get("req1", NAME, ns) or {}).get("status") or {})


def _hosts(admin: Kubectl, ns: str) -> list[str]:
    ing = admin.get("ingress", NAME, ns)
    return [r["host"] for r in ing["spec"]["rules"]] if ing else []


def test_image_bump_runs_migrate_job_before_rollout(admin: Kubectl, kube_namespace: str, start_operator: Any) -> None:
    ns = kube_namespace
    start_operator(ns)
    admin.apply(
        {
            "apiVersion": "req1.io/v1alpha1",
            "kind": "Req1Instance",
            "metadata": {"name": NAME},
            "spec": {"version": "0.1.0"},
        },
        ns,
    )
    wait_phase(admin, NAME, ns, "Ready")
    old_image = _deploy(admin, ns)["spec"]["template"]["spec"]["containers"][0]["image"]

    admin.patch("req1", NAME, ns, {"spec": {"version": "0.2.0"}})
    status = wait_phase(admin, NAME, ns, "Ready")
    assert status["version"] == "0.2.0"
    new_image = _deploy(admin, ns)["spec"]["template"]["spec"]["containers"][0]["image"]
    assert new_image != old_image and new_image.endswith(":0.2.0")

    jobs = [
        j
        for j in admin.list("jobs", ns, "app.kubernetes.io/component=migrate")
        if j["spec"]["template"]["spec"]["containers"][0]["image"] == new_image
    ]
    assert len(jobs) == 1
    done = jobs[0]["status"]["completionTime"]
    rs = [
        r
        for r in admin.list("replicasets", ns, "app.kubernetes.io/component=api")
        if r["spec"]["template"]["spec"]["containers"][0]["image"] == new_image
    ]
    assert len(rs) == 1
    # The new API pods' ReplicaSet was created only after the migration finished (RFC 3339 strings compare).
    assert rs[0]["metadata"]["creationTimestamp"] >= done

    # Event timestamps have one-second resolution, so only presence is checked, not order.
    reasons = [e["reason"] for e in events_for(admin, NAME, ns)]
    assert "PhaseUpgrading" in reasons
    assert reasons.count("PhaseReady") >= 2
