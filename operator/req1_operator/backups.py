"""Backups, the operator's I/O: read the members' reports, ask one for a base backup, announce what happened.

The decisions are `backup_plan.plan`, `restore_plan.plan` (in-place restores) and `drill_plan.plan` (pure). The one
write besides Events is the `req1.io/backup-request` annotation on the member chosen to take a backup; the pod watch
brings the result back in its manager's report. Drills need no write: Kubernetes runs their CronJob, and their pods
report on themselves. An in-place restore needs none either: the managers read `status.restore.inPlace`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from req1_operator import backup_plan, drill_plan, ha, restore_plan
from req1_operator.kube.apply import Owner
from req1_operator.kube.client import KubeClient
from req1_operator.kube.events import emit
from req1_operator.kube.observe import Observed
from req1_operator.kube.resources import POD
from req1_operator.render import backup
from req1_operator.render.names import LABEL_COMPONENT
from req1_operator.render.types import RenderInput
from req1_operator.spec import InPlaceRestoreSpec

REQUEST_ANNOTATION = "req1.io/backup-request"  # read by instance/backup.py


@dataclass
class BackupOutcome:
    status: dict[str, Any] = field(default_factory=dict)  # backup, restore
    conditions: list[dict[str, Any]] = field(default_factory=list)
    recheck_in: float | None = None
    writes: int = 0


def _annotations(pod: Mapping[str, Any]) -> Mapping[str, str]:
    return (pod.get("metadata") or {}).get("annotations") or {}


def member_view(name: str, pod: Mapping[str, Any]) -> backup_plan.MemberView:
    report = ha.instance_report(pod)
    request_raw = _annotations(pod).get(REQUEST_ANNOTATION)
    try:
        request = json.loads(request_raw).get("id") if request_raw else None
    except (ValueError, AttributeError):
        request = None
    return backup_plan.MemberView(
        name=name,
        role=str(report.get("role") or "unknown"),
        ready=bool(report.get("ready")),
        streaming=bool(report.get("streaming")),
        lag_bytes=int(report.get("lagBytes") or 0),
        report=report,
        request_id=str(request) if request else None,
    )


def wanted(spec: InPlaceRestoreSpec | None) -> restore_plan.Wanted | None:
    if spec is None:
        return None
    return restore_plan.Wanted(spec.request, spec.backup_id or "", spec.target_time or "", spec.confirm)


def api_pods(observed: Observed) -> int:
    """API pods that may still serve: running or starting, terminating ones included (they drain for up to 35 s)."""
    return sum(1 for p in [*observed.pods, *observed.terminating_pods]
               if ((p.get("metadata") or {}).get("labels") or {}).get(LABEL_COMPONENT) == "api"
               and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed"))


async def reconcile_backups(
    client: KubeClient, owner: Owner, inp: RenderInput, observed: Observed, previous: Mapping[str, Any],
    primary: str | None, now: float, pre_upgrade: str | None = None, upgrading: bool = False,
) -> BackupOutcome:
    """`upgrading`: the migration gate keeps the API Deployment this pass (an in-place restore cannot stop it)."""
    out = BackupOutcome()
    target = backup.target(inp)
    pods = ha.member_pods(observed, owner.name)
    members = [member_view(name, pod) for name, pod in sorted(pods.items())]
    asked = wanted(inp.spec.backup.restore_in_place)
    decision = backup_plan.plan(backup_plan.BackupObservation(
        enabled=target is not None,
        schedule=inp.spec.backup.schedule,
        time_zone=inp.spec.backup.time_zone,
        on_demand=inp.spec.backup.request,
        destination=target.instance_url(owner.namespace, owner.name) if target else "",
        endpoint=target.endpoint if target else "",
        credentials_secret=target.secret_name if target else "",
        shared_failure_domain=bool(target and target.in_cluster),
        restoring=inp.spec.restore is not None,
        members=members,
        primary=primary,
        previous=previous,
        now=now,
        pre_upgrade=pre_upgrade,
        pre_restore=restore_plan.pre_restore_wait(asked, owner.name, target is not None, previous, now),
        paused=restore_plan.api_stopped(previous),
    ))
    in_place = restore_plan.plan(restore_plan.RestoreObservation(
        instance=owner.name, wanted=asked, backups_enabled=target is not None, previous=previous,
        backup=decision.backup or {}, members=members, primary=primary, api_pods=api_pods(observed), now=now,
        upgrading=upgrading,
    ))
    decision.restore = restore_plan.restore_status(decision.restore, in_place.in_place)
    if decision.request is not None:
        pod_name, rid = decision.request
        patch = {"metadata": {"annotations": {REQUEST_ANNOTATION: json.dumps({"id": rid})}}}
        await client.request("PATCH", POD.path(owner.namespace, pod_name), body=patch,
                             content_type="application/merge-patch+json")
        out.writes += 1
    for type_, reason, message in [*decision.events, *in_place.events]:
        await emit(client, owner, type_, reason, message)
        out.writes += 1
    drills = drill_plan.plan(
        enabled=target is not None and inp.spec.backup.drill.enabled,
        schedule=inp.spec.backup.drill.schedule,
        runs=drill_plan.observe_runs(observed.of_kind("Job"), observed.pods),
        previous=previous,
        now=now,
    )
    if decision.backup is not None and drills.last_drill is not None:
        decision.backup["lastDrill"] = drills.last_drill
    for type_, reason, message in drills.events:
        await emit(client, owner, type_, reason, message)
        out.writes += 1
    out.status = {"backup": decision.backup, "restore": decision.restore}
    out.conditions = [*decision.conditions, *drills.conditions, *in_place.conditions]
    out.recheck_in = min((t for t in (decision.recheck_in, drills.recheck_in, in_place.recheck_in) if t is not None),
                         default=None)
    return out
