"""Acceptance: an operator killed mid-reconcile converges without duplicates (or rotated secrets) after a
restart, and two instances in two namespaces stay isolated."""

from __future__ import annotations

from typing import Any

from operator_harness import Kubectl, wait_for, wait_phase

SELECTOR = "app.kubernetes.io/managed-by=req1-operator"
KINDS = "secrets,configmaps,services,statefulsets,deployments,jobs,pdb,networkpolicies"


def _objects(admin: Kubectl, ns: str, name: str) -> dict[tuple[str, str], dict[str, Any]]:
    items = admin.list(KINDS, ns, f"{SELECTOR},app.kubernetes.io/instance={name}")
    return {(i["kind"], i["metadata"]["name"]): i for i in items}


def _ours(obj: dict[str, Any]) -> list[Any]:
    """What the operator last wrote to an object: its managedFields entry (time and fields)."""
    return [m for m in obj["metadata"].get("managedFields") or [] if m["manager"] == "req1-operator"]


def test_restart_mid_reconcile_converges_without_duplicates(
    admin: Kubectl, kube_namespace: str, start_operator: Any
) -> None:
    ns = kube_namespace
    op = start_operator(ns)
    admin.apply({"apiVersion": "req1.io/v1alpha1", "kind": "Req1Instance", "metadata": {"name": "rs"}}, ns)
    secrets = wait_for(
        "the generated Secrets",
        lambda: (s := {k: v for k, v in _objects(admin, ns, "rs").items() if k[0] == "Secret"}) and len(s) >= 5 and s,
    )
    op.kill()  # right after the first objects of the first pass appeared

    start_operator(ns)
    wait_phase(admin, "rs", ns, "Ready")
    objs = _objects(admin, ns, "rs")
    for key, before in secrets.items():
        after = admin.get("secret", key[1], ns)
        assert after is not None and after["data"] == before["data"], f"{key} was regenerated"
    assert len([k for k in objs if k[0] == "Job" and "migrate" in k[1]]) == 1
    owners = {o["metadata"]["ownerReferences"][0]["uid"] for o in objs.values()}
    assert len(owners) == 1


def test_two_namespaces_stay_isolated(
    admin: Kubectl, kube_namespace: str, kube_namespace_2: str, start_operator: Any
) -> None:
    a, b = kube_namespace, kube_namespace_2
    start_operator(a, b)
    for ns in (a, b):
        admin.apply({"apiVersion": "req1.io/v1alpha1", "kind": "Req1Instance", "metadata": {"name": "twin"}}, ns)
    wait_phase(admin, "twin", a, "Ready")
    wait_phase(admin, "twin", b, "Ready")
    uid_a = admin.get("req1", "twin", a)["metadata"]["uid"]  # type: ignore[index]
    uid_b = admin.get("req1", "twin", b)["metadata"]["uid"]  # type: ignore[index]
    objs_a, objs_b = _objects(admin, a, "twin"), _objects(admin, b, "twin")
    assert {o["metadata"]["ownerReferences"][0]["uid"] for o in objs_a.values()} == {uid_a}
    assert {o["metadata"]["ownerReferences"][0]["uid"] for o in objs_b.values()} == {uid_b}

    # A change and a drift in A touch nothing in B.
    admin.patch("req1", "twin", a, {"spec": {"api": {"replicas": 3}}})
    admin.run("delete", "configmap", "twin-api", "-n", a)
    wait_for("A reconciled", lambda: admin.get("configmap", "twin-api", a) is not None)
    wait_phase(admin, "twin", a, "Ready")
    after_b = _objects(admin, b, "twin")
    assert set(after_b) == set(objs_b)
    assert {k: _ours(v) for k, v in after_b.items()} == {k: _ours(v) for k, v in objs_b.items()}
    assert {k: v["metadata"]["uid"] for k, v in after_b.items()} == {k: v["metadata"]["uid"] for k, v in objs_b.items()}
    assert (admin.get("deployment", "twin-api", b) or {})["spec"]["replicas"] == 2
