"""PostgreSQL HA, the operator's side: observe the members, decide the primary, label the pods, report.

Called once per reconcile pass. Observation comes from the watch caches (ha_observe.py: pods with their managers'
reports, the primary Lease, the StatefulSet's revisions); the only reads are the Node of a terminating primary.
Writes: the `req1.io/role` label of pods whose report changed, the one pod a rolling change restarts next, and
Events. The decisions are pure functions: `failover.decide`, and `rolling.decide` around it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from req1_operator import failover, rolling, sync_status
from req1_operator.ha_observe import instance_report as instance_report  # backups.py reads reports through ha
from req1_operator.ha_observe import (
    lag,
    lease_view,
    member_pods,
    members_of,
    roll_pods,
    statefulset_revision,
)
from req1_operator.kube.apply import Owner
from req1_operator.kube.client import ApiError, KubeClient
from req1_operator.kube.events import NORMAL, WARNING, emit
from req1_operator.kube.observe import Observed
from req1_operator.kube.resources import LEASE, POD
from req1_operator.render import names
from req1_operator.spec import Req1InstanceSpec
from req1_operator.times import parse_time

log = logging.getLogger(__name__)


@dataclass
class HaOutcome:
    status: dict[str, Any] = field(default_factory=dict)  # targetPrimary, primary, postgres, lastFailover
    recheck_in: float | None = None
    writes: int = 0
    conditions: list[dict[str, Any]] = field(default_factory=list)  # SynchronousReplication


def stamp(t: float) -> str:
    """RFC 3339 to the hundredth of a second; stable through parse_time, so an unchanged time is no new write."""
    cs = round(t * 100)
    secs, frac = divmod(cs, 100)
    return dt.datetime.fromtimestamp(secs, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:02d}Z"


async def release_lease(client: KubeClient, observed: Observed) -> bool:
    """Free the primary Lease of a holder proven dead, only if nobody wrote it since we read it."""
    lease = observed.lease
    if lease is None:
        return False
    meta = lease.get("metadata") or {}
    body = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": meta["name"], "namespace": meta["namespace"], "resourceVersion": meta["resourceVersion"]},
        "spec": {**(lease.get("spec") or {}), "holderIdentity": None, "renewTime": None},
    }
    try:
        await client.request("PUT", LEASE.path(str(meta["namespace"]), str(meta["name"])), body=body)
    except ApiError as e:
        if e.conflict or e.not_found:
            log.info("lease %s/%s changed before its release: %s", meta["namespace"], meta["name"], e.reason)
            return False
        raise
    return True


def _member_status(m: failover.Member) -> dict[str, Any]:
    return {
        "name": m.name,
        "role": m.report.role,
        "ready": m.report.ready and m.pod_ready,
        "timeline": m.report.timeline,
        "lsn": _lsn_text(m.report.lsn),
        "lagBytes": 0,
        "streaming": m.report.streaming,
        "message": m.report.message[:512],
    }


def _lsn_text(v: int) -> str:
    return f"{v >> 32:X}/{v & 0xFFFFFFFF:X}"


def desired_role(m: failover.Member, target: str | None) -> str | None:
    """The label a pod should carry: primary only for the target that confirms it, replica as reported."""
    return names.role_label(m.report.role, m.name == target, m.terminating)


async def reconcile_postgres(
    client: KubeClient,
    owner: Owner,
    spec: Req1InstanceSpec,
    observed: Observed,
    previous: Mapping[str, Any],
    now: float,
) -> HaOutcome:
    out = HaOutcome()
    pods = member_pods(observed, owner.name)
    prev_pg: Mapping[str, Any] = previous.get("postgres") or {}
    prev_last: dict[str, Any] = dict(previous.get("lastFailover") or {})
    target = previous.get("targetPrimary")
    members = await members_of(client, pods, target)
    promoting = (
        parse_time(prev_last.get("decidedAt"))
        if prev_last.get("to") == target and not prev_last.get("writesResumedAt")
        else None
    )
    roll = _roll_observation(observed, owner.name, members, target, spec.postgres.primary)
    seen = failover.Observation(
        members=members,
        target=target,
        requested=spec.postgres.primary,
        lease=lease_view(observed),
        failing_since=parse_time(prev_pg.get("failingSince")),
        promoting_since=promoting,
        now=now,
        first_pod=names.postgres_pod(owner.name, 0),
    )
    decision, step = rolling.decide(seen, roll)
    if step.action == rolling.DELETE:
        out.writes += await _roll_delete(client, owner, step)
    if decision.release_lease and not await release_lease(client, observed):
        # Someone wrote the Lease since it was read: decide again on the next event (the watch brings it).
        decision = failover.Decision(failover.WAIT, target, "the primary Lease changed", decision.failing_since,
                                     recheck_at=now + 1.0)
    elif decision.release_lease:
        out.writes += 1
        await emit(client, owner, WARNING, "LeaseReleased",
                   f"released the primary Lease of {target}: its container died after the last renewal")
    new_target = decision.target
    last = prev_last or None
    if decision.changes_target and new_target != target:
        log.info("%s/%s: %s %s -> %s (%s)", owner.namespace, owner.name, decision.action, target, new_target,
                 decision.reason)
        if decision.action != failover.BOOTSTRAP:
            detected = decision.failing_since if decision.action == failover.FAILOVER else now
            last = {
                "from": target,
                "to": new_target,
                "reason": f"{decision.action}: {decision.reason}",
                "decidedAt": stamp(now),
                "detectedAt": stamp(detected if detected is not None else now),
            }
            kind = WARNING if decision.action == failover.FAILOVER else NORMAL
            await emit(client, owner, kind, decision.action, f"{target} -> {new_target}: {decision.reason}")
            out.writes += 1
    elif (
        decision.action == failover.WAIT
        and not prev_pg.get("failingSince")
        and observed.lease is not None
        and promoting is None  # a named replica promoting (switchover) is no failure
    ):
        await emit(client, owner, WARNING, "PrimaryUnhealthy", decision.reason)
        out.writes += 1

    by_name = {m.name: m for m in members}
    primary = by_name.get(new_target or "")
    if (
        last is not None
        and last.get("to") == new_target
        and not last.get("writesResumedAt")
        and primary is not None
        and failover.healthy_primary(primary)
    ):
        resumed = now
        last["writesResumedAt"] = stamp(resumed)
        detected = parse_time(last.get("detectedAt"))
        last["rtoSeconds"] = round(resumed - detected, 2) if detected is not None else None
        await emit(client, owner, NORMAL, "PrimaryReady",
                   f"{new_target} accepts writes, {last['rtoSeconds']} s after the problem was seen")
        out.writes += 1

    out.writes += await _label(client, owner, pods, members, new_target)
    out.writes += await _announce_members(client, owner, prev_pg.get("members") or [], members)
    sync = sync_status.evaluate(spec.postgres.synchronous_mode, primary, [m for m in members if m.name != new_target])
    if (event := sync_status.event(previous, sync)) is not None:
        await emit(client, owner, *event)
        out.writes += 1
    if sync is not None:
        when = dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        out.conditions.append(sync_status.condition(previous, sync, when))
    out.status = {
        "targetPrimary": new_target,
        "primary": new_target if primary is not None and primary.report.role == "primary" else None,
        "postgres": _compact(_postgres_status(spec, members, pods, new_target, decision)),
        "lastFailover": _compact(last) if last else None,
    }
    if decision.recheck_at is not None:
        out.recheck_in = max(0.2, decision.recheck_at - now)
    return out


def _compact(d: Mapping[str, Any]) -> dict[str, Any]:
    """Without null fields: what the API server stores after a merge patch, so the next pass compares equal."""
    return {k: v for k, v in d.items() if v is not None}


def _postgres_status(
    spec: Req1InstanceSpec,
    members: list[failover.Member],
    pods: Mapping[str, Mapping[str, Any]],
    target: str | None,
    decision: failover.Decision,
) -> dict[str, Any]:
    rows = []
    for m in members:
        row = _member_status(m)
        row["lagBytes"] = lag(pods[m.name])
        rows.append(row)
    replicas = [m for m in members if m.name != target]
    streaming = sum(1 for m in replicas if m.report.streaming)
    mode = spec.postgres.synchronous_mode
    primary = next((m for m in members if m.name == target), None)
    sync = "async" if mode == "off" else f"sync {mode}"
    if primary is not None and primary.report.synchronous == "async":
        sync = f"async (sync {mode}: no streaming standby)"
    return {
        "timeline": primary.report.timeline if primary is not None and primary.report.timeline else None,
        "replication": f"{streaming}/{len(replicas)} streaming, {sync}",
        "members": rows,
        "failingSince": stamp(decision.failing_since) if decision.failing_since is not None else None,
    }


async def _label(
    client: KubeClient,
    owner: Owner,
    pods: Mapping[str, Mapping[str, Any]],
    members: list[failover.Member],
    target: str | None,
) -> int:
    """Move `req1.io/role` to match the reports: the Services follow within one watch event."""
    writes = 0
    for m in members:
        want = desired_role(m, target)
        have = ((pods[m.name].get("metadata") or {}).get("labels") or {}).get(names.LABEL_ROLE)
        if want == have or (m.terminating and have is None):
            continue
        patch = {"metadata": {"labels": {names.LABEL_ROLE: want}}}
        try:
            await client.request("PATCH", POD.path(owner.namespace, m.name), body=patch,
                                 content_type="application/merge-patch+json")
            writes += 1
        except ApiError as e:
            if not e.not_found:
                raise
    return writes


async def _announce_members(
    client: KubeClient, owner: Owner, previous: list[Mapping[str, Any]], members: list[failover.Member]
) -> int:
    """Events for what the managers report: fencing and promotion (synchronous replication: sync_status.py)."""
    before = {str(r.get("name")): r for r in previous}
    writes = 0
    for m in members:
        old = before.get(m.name)
        if old is None or (old.get("role") == m.report.role and old.get("message") == m.report.message[:512]):
            continue
        msg = m.report.message
        if m.report.role != old.get("role"):
            if m.report.role == "fenced":
                await emit(client, owner, WARNING, "Fenced", f"{m.name} fenced itself: {msg}")
                writes += 1
            elif m.report.role == "primary":
                await emit(client, owner, NORMAL, "Promoted", f"{m.name} runs as primary on timeline "
                           f"{m.report.timeline}")
                writes += 1
    return writes


def _roll_observation(
    observed: Observed, instance: str, members: list[failover.Member], target: str | None, requested: str | None
) -> rolling.RollObservation:
    revision, settled, size = statefulset_revision(observed, instance)
    return rolling.RollObservation(
        pods=roll_pods(observed, instance, members),
        update_revision=revision,
        settled=settled,
        size=size,
        target=target,
        primary_healthy=False,
        requested=requested,
    )


async def _roll_delete(client: KubeClient, owner: Owner, step: rolling.Step) -> int:
    """Delete the pod the roll names (its uid a precondition); the StatefulSet recreates it on the new revision."""
    body = {"preconditions": {"uid": step.uid}} if step.uid else {}
    try:
        await client.request("DELETE", POD.path(owner.namespace, str(step.pod)), body=body)
    except ApiError as e:
        if e.not_found or e.conflict:
            return 0  # already gone, or another pod of that name: the next pass looks again
        raise
    log.info("%s/%s: rolling update: deleting %s (%s)", owner.namespace, owner.name, step.pod, step.reason)
    await emit(client, owner, NORMAL, "RollingUpdate", f"deleting pod {step.pod}: {step.reason}")
    return 2
