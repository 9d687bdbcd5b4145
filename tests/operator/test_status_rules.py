"""compute_status rules without a cluster: phases, conditions naming components, stable timestamps."""

from __future__ import annotations

import datetime
from typing import Any

from req1_operator.kube.observe import from_bodies
from req1_operator.status import StatusInput, UserError, compute_status

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
T1 = T0 + datetime.timedelta(minutes=5)


def workload(kind: str, name: str, comp: str, replicas: int = 1, ready: int | None = None) -> dict[str, Any]:
    ready = replicas if ready is None else ready
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "generation": 1, "labels": {"app.kubernetes.io/component": comp}},
        "spec": {"replicas": replicas},
        "status": {"observedGeneration": 1, "readyReplicas": ready, "updatedReplicas": replicas, "replicas": replicas},
    }


def pod(name: str, comp: str, ready: bool, role: str | None = None) -> dict[str, Any]:
    labels = {"app.kubernetes.io/component": comp}
    if role:
        labels["req1.io/role"] = role
    return {
        "metadata": {"name": name, "labels": labels},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


DESIRED = [workload("Deployment", "x-api", "api", 2), workload("StatefulSet", "x-postgres", "postgres")]


def test_all_ready_gives_ready_phase_columns_and_primary() -> None:
    obs = from_bodies(DESIRED, [pod("x-postgres-0", "postgres", True, "primary"), pod("x-api-a", "api", True)])
    st = compute_status(StatusInput(3, DESIRED, obs, api_deployment="x-api", url="http://x", now=T0))
    assert st["phase"] == "Ready"
    assert st["readyComponents"] == "2/2"
    assert st["apiReplicas"] == "2/2"
    assert st["primary"] == "x-postgres-0"
    assert st["observedGeneration"] == 3
    conds = {c["type"]: c for c in st["conditions"]}
    assert conds["Ready"]["status"] == "True"
    assert conds["Degraded"]["status"] == "False"
    assert conds["PostgresReady"]["status"] == "True"


def test_not_ready_pod_after_ready_is_degraded_naming_component() -> None:
    obs = from_bodies(DESIRED, [pod("x-postgres-0", "postgres", False, "primary")])
    prev = compute_status(StatusInput(1, DESIRED, from_bodies(DESIRED), now=T0))
    st = compute_status(StatusInput(1, DESIRED, obs, previous=prev, now=T1))
    assert st["phase"] == "Degraded"
    conds = {c["type"]: c for c in st["conditions"]}
    assert conds["Degraded"]["status"] == "True"
    assert "postgres" in conds["Degraded"]["message"]
    assert "x-postgres-0" in conds["PostgresReady"]["message"]
    assert conds["Degraded"]["lastTransitionTime"] == "2026-01-01T00:05:00Z"
    assert st["components"]["postgres"]["ready"] is False


def test_missing_children_while_new_is_provisioning_and_pending_when_nothing() -> None:
    assert compute_status(StatusInput(1, DESIRED, from_bodies([]), now=T0))["phase"] == "Pending"
    st = compute_status(StatusInput(1, DESIRED, from_bodies(DESIRED[1:]), now=T0))
    assert st["phase"] == "Provisioning"
    assert st["readyComponents"] == "1/2"


def test_unchanged_inputs_give_identical_status() -> None:
    obs = from_bodies(DESIRED)
    a = compute_status(StatusInput(1, DESIRED, obs, now=T0))
    b = compute_status(StatusInput(1, DESIRED, obs, previous=a, now=T1))
    assert a == b


def test_user_error_is_failed_with_reason() -> None:
    err = UserError("ApplyRejected", "Ingress x: host invalid")
    st = compute_status(StatusInput(1, DESIRED, from_bodies(DESIRED), error=err, now=T0))
    assert st["phase"] == "Failed"
    conds = {c["type"]: c for c in st["conditions"]}
    assert conds["Reconciled"]["reason"] == "ApplyRejected"
    assert conds["Ready"]["status"] == "False"


def test_upgrading_phase() -> None:
    st = compute_status(StatusInput(2, DESIRED, from_bodies(DESIRED), upgrading="running migrate Job", now=T0))
    assert st["phase"] == "Upgrading"
    conds = {c["type"]: c for c in st["conditions"]}
    assert conds["Progressing"]["status"] == "True"
    assert conds["Progressing"]["reason"] == "Upgrading"


def test_pods_still_being_created_are_progress_not_degradation() -> None:
    scaling = [workload("Deployment", "x-api", "api", 3, ready=2), DESIRED[1]]
    scaling[0]["status"]["replicas"] = 2
    prev = compute_status(StatusInput(1, DESIRED, from_bodies(DESIRED), now=T0))
    st = compute_status(StatusInput(2, scaling, from_bodies(scaling), previous=prev, now=T1))
    assert st["phase"] == "Provisioning"
    assert {c["type"]: c for c in st["conditions"]}["Progressing"]["status"] == "True"
