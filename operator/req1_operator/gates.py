"""Gates of a reconcile pass: what waits for what during an upgrade (pure decisions over desired and observed).

The API Deployment waits for the migrate Job of its image; with backups on, that Job and the PostgreSQL roll wait
for a base backup taken for the new version (`backup_plan.pre_upgrade_wait`). An in-place restore stops the API
(0 replicas) and holds the migrations and the PostgreSQL roll until it has ended (`restore_plan`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from req1_operator import backup_plan, restore_plan
from req1_operator.kube.observe import LABEL_COMPONENT, Observed
from req1_operator.render import names
from req1_operator.spec import Req1InstanceSpec
from req1_operator.status import UserError


def _image(obj: Mapping[str, Any] | None) -> str | None:
    if not obj:
        return None
    tpl = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    containers = tpl.get("containers") or []
    return str(containers[0].get("image")) if containers else None


def _job_state(job: Mapping[str, Any] | None) -> str:
    """'absent', 'running', 'succeeded' or 'failed'."""
    if job is None:
        return "absent"
    st = job.get("status") or {}
    for c in st.get("conditions") or []:
        if c.get("status") == "True" and c.get("type") in ("Complete", "SuccessCriteriaMet"):
            return "succeeded"
        if c.get("status") == "True" and c.get("type") == "Failed":
            return "failed"
    return "succeeded" if int(st.get("succeeded") or 0) >= 1 else "running"


@dataclass
class Gate:
    """The API Deployment held back until the migrate Job for its image has succeeded."""

    hold: set[tuple[str, str]] = field(default_factory=set)  # (kind, name) not to apply this pass
    upgrading: str | None = None
    waiting: str | None = None
    error: UserError | None = None


def migration_gate(desired: list[dict[str, Any]], observed: Observed) -> Gate:
    """Hold the API Deployment while the migrate Job for the desired image has not succeeded."""
    gate = Gate()
    jobs = [
        o
        for o in desired
        if o["kind"] == "Job" and (o["metadata"].get("labels") or {}).get(LABEL_COMPONENT) == "migrate"
    ]
    deploys = [
        o
        for o in desired
        if o["kind"] == "Deployment" and (o["metadata"].get("labels") or {}).get(LABEL_COMPONENT) == "api"
    ]
    if not jobs or not deploys:
        return gate
    job, deploy = jobs[0], deploys[0]
    live_deploy = observed.get("Deployment", deploy["metadata"]["name"])
    state = _job_state(observed.get("Job", job["metadata"]["name"]))
    if state == "succeeded":
        return gate
    new_image = _image(deploy)
    if live_deploy is not None and _image(live_deploy) == new_image:
        return gate  # already rolled (e.g. the Job was cleaned up afterwards)
    gate.hold.add(("Deployment", deploy["metadata"]["name"]))
    jname = job["metadata"]["name"]
    if state == "failed":
        gate.error = UserError(
            "MigrationFailed", f"migrate Job {jname} failed; fix the cause and bump spec.version or spec.image"
        )
    elif live_deploy is not None:
        gate.upgrading = f"running migrate Job {jname} before rolling the API to {new_image}"
    else:
        gate.waiting = f"running migrate Job {jname} before starting the API"
    return gate


def hold_for_backup(
    instance: str, spec: Req1InstanceSpec, gate: Gate, desired: list[dict[str, Any]], observed: Observed,
    previous: Mapping[str, Any],
) -> str | None:
    """An upgrade with backups on: the migrate Job waits for a base backup taken for this version, and so does the
    PostgreSQL StatefulSet (a new image would restart the member taking it)."""
    job = next((o for o in desired if o["kind"] == "Job"
                and (o["metadata"].get("labels") or {}).get(LABEL_COMPONENT) == "migrate"), None)
    if job is None or not gate.upgrading or observed.get("Job", job["metadata"]["name"]) is not None:
        return None
    name = backup_plan.pre_upgrade_wait(spec.backup.enabled, spec.version, previous.get("backup") or {})
    if name is not None:
        gate.hold.add(("Job", job["metadata"]["name"]))
        gate.hold.add(("StatefulSet", names.postgres(instance)))
        gate.upgrading = f"taking base backup {name} before the migrations of {spec.version}"
    return name


def _component(obj: Mapping[str, Any]) -> str | None:
    return ((obj.get("metadata") or {}).get("labels") or {}).get(LABEL_COMPONENT)


def api_held(gate: Gate, desired: list[dict[str, Any]]) -> bool:
    """Whether the migration gate keeps the API Deployment as it is this pass (an upgrade waits for migrations)."""
    return any(o["kind"] == "Deployment" and _component(o) == "api" and ("Deployment", o["metadata"]["name"])
               in gate.hold for o in desired)


def hold_for_restore(
    instance: str, gate: Gate, desired: list[dict[str, Any]], previous: Mapping[str, Any],
) -> str | None:
    """From the API's stop until the in-place restore has ended: the API Deployment at 0 replicas (an HPA does not
    scale a Deployment at 0), and neither the migrate Job nor a PostgreSQL roll touches the members meanwhile.
    While it holds, why the API is stopped."""
    if not restore_plan.api_stopped(previous):
        return None
    for i, obj in enumerate(desired):
        if obj["kind"] == "Deployment" and _component(obj) == "api":
            stopped = copy.deepcopy(obj)
            stopped["spec"]["replicas"] = 0
            desired[i] = stopped
        elif obj["kind"] == "Job" and _component(obj) == "migrate":
            gate.hold.add(("Job", obj["metadata"]["name"]))
    gate.hold.add(("StatefulSet", names.postgres(instance)))
    record = restore_plan.record_of(previous) or {}
    return f"stopped for in-place restore {record.get('request')} ({record.get('phase')})"
