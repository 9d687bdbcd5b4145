"""Acceptance (KWOK): a generated Secret is never regenerated once the data it protects exists, and a Secret
someone else owns is never adopted or overwritten."""

from __future__ import annotations

import base64
from typing import Any

from operator_harness import Kubectl, condition, events_for, instance_status, wait_for, wait_phase

NAME = "sec"


def _password(admin: Kubectl, ns: str, name: str) -> str | None:
    s = admin.get("secret", name, ns)
    return base64.b64decode(s["data"]["password"]).decode() if s else None


def _intact(admin: Kubectl, ns: str) -> str | None:
    try:
        return str(condition(instance_status(admin, NAME, ns), "SecretsIntact")["status"])
    except AssertionError:
        return None


def test_deleted_secret_is_not_regenerated_and_restoring_it_clears_the_condition(
    admin: Kubectl, kube_namespace: str, start_operator: Any
) -> None:
    ns = kube_namespace
    start_operator(ns, resync=3600)  # only watches act during the test
    admin.apply({"apiVersion": "req1.io/v1alpha1", "kind": "Req1Instance", "metadata": {"name": NAME}}, ns)
    wait_phase(admin, NAME, ns, "Ready")
    wait_for("SecretsIntact=True", lambda: _intact(admin, ns) == "True")
    wait_for("the PostgreSQL claim", lambda: admin.list("pvc", ns, "app.kubernetes.io/component=postgres"))

    secret = f"{NAME}-postgres-superuser"
    saved = admin.get("secret", secret, ns)
    assert saved is not None
    old_password = _password(admin, ns, secret)
    admin.run("delete", "secret", secret, "-n", ns)

    wait_for("SecretsIntact=False", lambda: _intact(admin, ns) == "False")
    status = instance_status(admin, NAME, ns)
    cond = condition(status, "SecretsIntact")
    assert cond["reason"] == "SecretMissing" and secret in cond["message"], cond
    warnings = [e for e in events_for(admin, NAME, ns) if e.get("reason") == "SecretMissing"]
    assert warnings and warnings[0]["type"] == "Warning" and "backup" in warnings[0]["message"], warnings
    # A pass after the deletion has run (it wrote the condition): it did not create a new Secret, and the app
    # stays as it was.
    assert admin.get("secret", secret, ns) is None
    assert status["phase"] == "Ready", status["phase"]

    # Put it back from the saved copy (labels included): the condition clears, the password is the old one.
    meta = saved["metadata"]
    restored = {"apiVersion": "v1", "kind": "Secret", "type": saved.get("type", "Opaque"), "data": saved["data"],
                "metadata": {"name": secret, "labels": meta["labels"]}}
    admin.apply(restored, ns)
    wait_for("SecretsIntact=True again", lambda: _intact(admin, ns) == "True")
    assert _password(admin, ns, secret) == old_password

    # Relabelled (no longer ours): still never overwritten, condition False again.
    admin.run("label", "secret", secret, "-n", ns, "app.kubernetes.io/managed-by-", "--overwrite")
    wait_for("SecretsIntact=False after relabelling", lambda: _intact(admin, ns) == "False")
    assert _password(admin, ns, secret) == old_password


def test_a_secret_someone_else_owns_is_never_adopted(admin: Kubectl, kube_namespace: str, start_operator: Any) -> None:
    ns = kube_namespace
    secret = f"{NAME}-redis"
    admin.run("create", "secret", "generic", secret, "-n", ns, "--from-literal=password=users-own")
    start_operator(ns, resync=3600)
    admin.apply({"apiVersion": "req1.io/v1alpha1", "kind": "Req1Instance", "metadata": {"name": NAME}}, ns)
    wait_phase(admin, NAME, ns, "Ready")
    live = admin.get("secret", secret, ns)
    assert live is not None
    assert _password(admin, ns, secret) == "users-own"
    assert not (live["metadata"].get("labels") or {}).get("app.kubernetes.io/managed-by")
    assert not live["metadata"].get("ownerReferences")
    # The operator's own Secrets were created as usual.
    assert admin.get("secret", f"{NAME}-postgres-superuser", ns) is not None
