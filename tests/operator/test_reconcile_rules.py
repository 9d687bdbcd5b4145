"""Pure parts of a reconcile pass: the migration gate and the status merge patch."""

from __future__ import annotations

from typing import Any

from req1_operator.gates import migration_gate
from req1_operator.kube.observe import from_bodies
from req1_operator.reconcile import status_patch


def _deploy(image: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x-api", "labels": {"app.kubernetes.io/component": "api"}},
        "spec": {"template": {"spec": {"containers": [{"name": "api", "image": image}]}}},
    }


def _job(name: str, conditions: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/component": "migrate"}},
        "status": {"conditions": conditions or []},
    }


def test_rollout_held_while_the_new_migration_runs() -> None:
    desired = [_job("x-migrate-2"), _deploy("req1:2")]
    gate = migration_gate(desired, from_bodies([_deploy("req1:1"), _job("x-migrate-2")]))
    assert gate.hold == {("Deployment", "x-api")}
    assert gate.upgrading and "x-migrate-2" in gate.upgrading


def test_rollout_released_when_the_job_succeeded() -> None:
    desired = [_job("x-migrate-2"), _deploy("req1:2")]
    done = _job("x-migrate-2", [{"type": "Complete", "status": "True"}])
    assert migration_gate(desired, from_bodies([_deploy("req1:1"), done])).hold == set()


def test_failed_migration_is_a_user_error_and_keeps_the_old_version() -> None:
    desired = [_job("x-migrate-2"), _deploy("req1:2")]
    failed = _job("x-migrate-2", [{"type": "Failed", "status": "True"}])
    gate = migration_gate(desired, from_bodies([_deploy("req1:1"), failed]))
    assert gate.hold and gate.error is not None and gate.error.reason == "MigrationFailed"


def test_first_install_waits_for_migration_without_upgrading_phase() -> None:
    gate = migration_gate([_job("x-migrate-1"), _deploy("req1:1")], from_bodies([]))
    assert gate.hold and gate.upgrading is None and gate.waiting


def test_status_patch_only_when_something_changed_and_removes_gone_components() -> None:
    old = {"phase": "Ready", "components": {"api": {"ready": True}, "ingress": {"ready": True}}, "kopf": {"x": 1}}
    same = {"phase": "Ready", "components": {"api": {"ready": True}, "ingress": {"ready": True}}}
    assert status_patch(old, same) is None
    patch = status_patch(old, {"phase": "Ready", "components": {"api": {"ready": True}}})
    assert patch == {"components": {"ingress": None, "api": {"ready": True}}}


def test_status_patch_nulls_fields_a_new_object_lacks() -> None:
    """A new lastFailover must not inherit writesResumedAt/rtoSeconds of the previous one through the merge."""
    old = {"lastFailover": {"to": "a", "writesResumedAt": "t1", "rtoSeconds": 3.2},
           "postgres": {"failingSince": "t0", "timeline": 2}}  # fmt: skip
    new = {"lastFailover": {"to": "b", "decidedAt": "t2"}, "postgres": {"timeline": 2}}
    assert status_patch(old, new) == {
        "lastFailover": {"writesResumedAt": None, "rtoSeconds": None, "to": "b", "decidedAt": "t2"},
        "postgres": {"failingSince": None, "timeline": 2},
    }
