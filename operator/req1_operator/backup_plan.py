"""Backups, the operator's decisions: a pure function of the spec, the members' reports and the last status.

Each pass it answers: is a base backup due (the schedule in its time zone, or a new `spec.backup.request`), which
member takes it (a streaming replica when one is healthy, else the primary), did the one under way finish, what
do `status.backup` and `status.restore` say, and which conditions and Events follow. The I/O (the request
annotation, Events) is `backups.py`; the instance manager does the work (docs/backups.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from req1_operator.times import parse_time
from req1_operator.times import stamp_seconds as stamp

#: A member asked for a backup that neither reports it nor is around any more after this long: ask again.
REQUEST_TIMEOUT = 6 * 3600.0
#: How long a pass may wait before looking at the schedule again without any event.
MAX_RECHECK = 3600.0

SCHEDULED = "scheduled"
ON_DEMAND = "on-demand"
PRE_UPGRADE = "pre-upgrade"
PRE_RESTORE = "pre-restore"


@dataclass(frozen=True)
class MemberView:
    """One PostgreSQL member: its role and health, its manager's report, the request annotation it carries."""

    name: str
    role: str = "unknown"
    ready: bool = False
    streaming: bool = False
    lag_bytes: int = 0
    report: Mapping[str, Any] = field(default_factory=dict)  # the `req1.io/instance-status` JSON
    request_id: str | None = None  # the `req1.io/backup-request` annotation's id


@dataclass(frozen=True)
class BackupObservation:
    enabled: bool
    schedule: str
    time_zone: str
    on_demand: str | None
    destination: str  # full prefix of this instance's backups
    endpoint: str
    credentials_secret: str
    shared_failure_domain: bool
    restoring: bool  # spec.restore: a bootstrap from backups is (or was) part of this instance's life
    members: Sequence[MemberView]
    primary: str | None  # status.targetPrimary
    previous: Mapping[str, Any]  # the last status (backup, restore, conditions)
    now: float
    pre_upgrade: str | None = None  # the backup an upgrade's migrations wait for (`pre_upgrade_wait`)
    pre_restore: str | None = None  # the backup an in-place restore takes first (`restore_plan.pre_restore_wait`)
    paused: bool = False  # an in-place restore is replacing the data: no new backup is asked until it has ended


@dataclass
class BackupPlan:
    backup: dict[str, Any] | None = None  # status.backup
    restore: dict[str, Any] | None = None  # status.restore
    request: tuple[str, str] | None = None  # (pod, request id) to annotate
    conditions: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[str, str, str]] = field(default_factory=list)  # (Normal|Warning, reason, message)
    recheck_in: float | None = None


def next_run(schedule: str, time_zone: str, after: float) -> float:
    """The first moment of `schedule` (read in `time_zone`) strictly after `after`."""
    start = dt.datetime.fromtimestamp(after, ZoneInfo(time_zone))
    nxt: dt.datetime = croniter(schedule, start).get_next(dt.datetime)
    return nxt.timestamp()


def scheduled_id(t: float, time_zone: str) -> str:
    return "scheduled-" + dt.datetime.fromtimestamp(t, ZoneInfo(time_zone)).strftime("%Y%m%dT%H%M")


def pre_upgrade_wait(enabled: bool, version: str, previous_backup: Mapping[str, Any]) -> str | None:
    """The base backup the migrations of an upgrade to `version` wait for; None when backups are off or it is taken."""
    if not enabled:
        return None
    name = f"{PRE_UPGRADE}-{version}"
    return None if previous_backup.get("lastPreUpgrade") == name else name


def choose_member(members: Sequence[MemberView], primary: str | None) -> MemberView | None:
    """A ready, streaming replica with the least lag (the primary keeps its I/O for the app), else the primary."""
    replicas = [m for m in members if m.role == "replica" and m.ready and m.streaming and m.name != primary]
    if replicas:
        return min(replicas, key=lambda m: (m.lag_bytes, m.name))
    return next((m for m in members if m.name == primary and m.role == "primary" and m.ready), None)


def condition(
    previous: Mapping[str, Any], type_: str, status: str, reason: str, message: str, now: str,
) -> dict[str, Any]:
    old = next((c for c in previous.get("conditions") or [] if c.get("type") == type_), None)
    since = old.get("lastTransitionTime") if old is not None and old.get("status") == status else None
    return {"type": type_, "status": status, "reason": reason, "message": message[:1024],
            "lastTransitionTime": since or now}


def _record(report: Mapping[str, Any], pod: str) -> dict[str, Any]:
    return {
        "backupId": str(report.get("backupId") or ""),
        "name": str(report.get("name") or report.get("requestId") or ""),
        "pod": pod,
        "fromReplica": bool(report.get("fromReplica")),
        "beginTime": str(report.get("beginTime") or ""),
        "endTime": str(report.get("endTime") or ""),
        "sizeBytes": int(report.get("sizeBytes") or 0),
        "durationSeconds": round(float(report.get("durationSeconds") or 0), 1),
        "timeline": int(report.get("timeline") or 0),
        "endWal": str(report.get("endWal") or ""),
    }


def _finished(plan: BackupPlan, obs: BackupObservation, pending: Mapping[str, Any], status: dict[str, Any]) -> bool:
    """Settle the backup under way from the members' reports; True when it is over (done, failed or lost)."""
    rid = str(pending.get("id"))
    for m in obs.members:
        rep = m.report.get("backup") or {}
        if rep.get("requestId") != rid:
            continue
        if rep.get("phase") == "completed":
            status["lastBackup"] = _record(rep, m.name)
            if pending.get("kind") == PRE_UPGRADE:
                status["lastPreUpgrade"] = obs.pre_upgrade if obs.pre_upgrade and rid.startswith(obs.pre_upgrade) \
                    else rid
            elif pending.get("kind") == PRE_RESTORE:
                status["lastPreRestore"] = rid
            where = "a replica" if rep.get("fromReplica") else "the primary"
            plan.events.append(("Normal", "BackupCompleted",
                                f"base backup {rid} ({rep.get('backupId')}) on {m.name}, {where}: "
                                f"{int(rep.get('sizeBytes') or 0)} bytes in {rep.get('durationSeconds')} s"))
            return True
        if rep.get("phase") == "failed":
            _failed(plan, status, rid, m.name, str(rep.get("error") or "failed"), obs.now)
            return True
        return False  # running
    asked = str(pending.get("pod"))
    gone = asked not in {m.name for m in obs.members}
    started = parse_time(pending.get("requestedAt")) or obs.now
    if gone or obs.now - started > REQUEST_TIMEOUT:
        why = f"{asked} went away before reporting it" if gone else f"no result after {REQUEST_TIMEOUT / 3600:.0f} h"
        _failed(plan, status, rid, asked, why, obs.now)
        return True
    return False


def _failed(plan: BackupPlan, status: dict[str, Any], rid: str, pod: str, error: str, now: float) -> None:
    status["lastFailure"] = {"request": rid, "pod": pod, "error": error[:2048], "at": stamp(now)}
    plan.events.append(("Warning", "BackupFailed", f"base backup {rid} on {pod} failed: {error[:400]}"))


def _archiving(plan: BackupPlan, obs: BackupObservation, status: dict[str, Any], now: str) -> None:
    primary = next((m for m in obs.members if m.name == obs.primary), None)
    arch = (primary.report.get("archiving") if primary is not None else None) or None
    before = (obs.previous.get("backup") or {}).get("archiving")
    if arch is None:
        status["archiving"] = "waiting"
        plan.conditions.append(condition(obs.previous, "ContinuousArchiving", "Unknown", "Waiting",
                                         "no report of WAL archiving from the primary yet", now))
        return
    ok = bool(arch.get("ok"))
    status["archiving"] = "ok" if ok else "failing"
    if arch.get("lastArchivedWal"):
        status["lastArchivedWal"] = str(arch["lastArchivedWal"])
        status["lastArchivedAt"] = str(arch.get("lastArchivedAt") or "") or None
    if ok:
        message = f"last archived {arch.get('lastArchivedWal') or 'nothing yet'} to {obs.destination}"
        plan.conditions.append(condition(obs.previous, "ContinuousArchiving", "True", "Archiving", message, now))
        if before == "failing":
            plan.events.append(("Normal", "ArchivingResumed", f"WAL archiving works again: {message}"))
        return
    pending = arch.get("pendingSegments")
    message = (f"archiving {arch.get('lastFailedWal')} failed: {arch.get('lastError') or 'unknown error'}; "
               f"{pending if pending is not None else 'some'} segments kept on the primary until it works")
    plan.conditions.append(condition(obs.previous, "ContinuousArchiving", "False", "ArchivingFailing", message, now))
    if before != "failing":
        plan.events.append(("Warning", "ArchivingFailing", message))


def recoverable_points(obs: BackupObservation, prev: Mapping[str, Any], status: dict[str, Any]) -> None:
    """First: the begin of the oldest backup retention kept (the managers list the catalog after each backup);
    last: the newest of the last archived segment's time and the last backup's end."""
    last = status.get("lastBackup") or {}
    first = prev.get("firstRecoverablePoint")
    retained = prev.get("retainedBackups")
    for m in obs.members:
        rep = m.report.get("backup") or {}
        catalog = rep.get("catalog") or {}
        if catalog and last and rep.get("backupId") == last.get("backupId"):
            t = parse_time(catalog.get("oldestBeginTime"))
            first = stamp(t) if t is not None else first
            retained = int(catalog.get("count") or 0) or retained
    if first is None and parse_time(last.get("beginTime")) is not None:
        first = stamp(parse_time(last.get("beginTime")) or 0)  # before any catalog: the one backup known
    latest = [t for t in (parse_time(status.get("lastArchivedAt")), parse_time(last.get("endTime"))) if t]
    status["firstRecoverablePoint"] = first
    status["lastRecoverablePoint"] = stamp(max(latest)) if latest else prev.get("lastRecoverablePoint")
    status["retainedBackups"] = retained


def _restore(plan: BackupPlan, obs: BackupObservation) -> None:
    previous = obs.previous.get("restore") or None
    rep = next((m.report.get("restore") for m in obs.members if m.report.get("restore")), None)
    if not obs.restoring or not rep:
        plan.restore = dict(previous) if previous else None  # what was restored stays on record
        return
    out: dict[str, Any] = {
        "phase": str(rep.get("phase") or "unknown"),
        "source": str(rep.get("source") or ""),
        "backupId": str(rep.get("backupId") or ""),
        "targetTime": str(rep.get("targetTime") or ""),
        "timeline": int(rep.get("timeline") or 0),
        "lsn": str(rep.get("lsn") or ""),
        "durationSeconds": round(float(rep.get("durationSeconds") or 0), 1),
        "completedAt": str(rep.get("completedAt") or ""),
        "error": str(rep.get("error") or "")[:2048],
    }
    plan.restore = out
    if (previous or {}).get("phase") != out["phase"] and out["phase"] in ("completed", "failed"):
        if out["phase"] == "completed":
            plan.events.append(("Normal", "RestoreCompleted",
                                f"restored backup {out['backupId']} from {out['source']}"
                                f"{' to ' + out['targetTime'] if out['targetTime'] else ''}: timeline "
                                f"{out['timeline']}, LSN {out['lsn']}, {out['durationSeconds']} s"))
        else:
            plan.events.append(("Warning", "RestoreFailed", f"restore from {out['source']} failed: {out['error']}"))


def plan(obs: BackupObservation) -> BackupPlan:
    out = BackupPlan()
    _restore(out, obs)
    if not obs.enabled:
        return out
    now = stamp(obs.now)
    prev: Mapping[str, Any] = obs.previous.get("backup") or {}
    status: dict[str, Any] = {
        "destination": obs.destination,
        "endpoint": obs.endpoint,
        "credentialsSecret": obs.credentials_secret,
        "lastBackup": prev.get("lastBackup"),
        "lastFailure": prev.get("lastFailure"),
        "lastOnDemand": prev.get("lastOnDemand"),
        "lastPreUpgrade": prev.get("lastPreUpgrade"),
        "lastPreRestore": prev.get("lastPreRestore"),
    }
    pending: Mapping[str, Any] | None = prev.get("pending") or None
    if pending is not None and _finished(out, obs, pending, status):
        pending = None

    due = parse_time(prev.get("nextScheduledAt"))
    if due is None:
        due = next_run(obs.schedule, obs.time_zone, obs.now)
    ask: tuple[str, str] | None = None  # (kind, id)
    if pending is None and obs.pre_upgrade and status.get("lastPreUpgrade") != obs.pre_upgrade:
        failed_before = (status.get("lastFailure") or {}).get("request", "").startswith(obs.pre_upgrade)
        ask = (PRE_UPGRADE, f"{obs.pre_upgrade}-{int(obs.now)}" if failed_before else obs.pre_upgrade)
    elif pending is None and obs.pre_restore and status.get("lastPreRestore") != obs.pre_restore \
            and (status.get("lastFailure") or {}).get("request") != obs.pre_restore:
        ask = (PRE_RESTORE, obs.pre_restore)  # once: a failure fails the in-place restore (restore_plan)
    elif pending is None and obs.on_demand and obs.on_demand != prev.get("lastOnDemand"):
        ask = (ON_DEMAND, f"on-demand-{obs.on_demand}")
    elif pending is None and obs.now >= due:
        ask = (SCHEDULED, scheduled_id(due, obs.time_zone))
    waiting_for_member = False
    if ask is not None and obs.paused:
        ask, waiting_for_member = None, True  # it stays due
    if ask is not None:
        member = choose_member(obs.members, obs.primary)
        if member is None:
            waiting_for_member = True  # keep it due; a member turning ready brings a pass
        else:
            kind, rid = ask
            pending = {"id": rid, "pod": member.name, "kind": kind, "requestedAt": now}
            if kind == ON_DEMAND:
                status["lastOnDemand"] = obs.on_demand
            else:
                due = next_run(obs.schedule, obs.time_zone, obs.now)
            where = "a streaming replica" if member.role == "replica" else "the primary (no healthy replica)"
            out.events.append(("Normal", "BackupStarted", f"{kind} base backup {rid} on {member.name}, {where}"))
    if pending is not None:
        member_request = next((m.request_id for m in obs.members if m.name == pending["pod"]), None)
        if member_request != pending["id"]:
            out.request = (str(pending["pod"]), str(pending["id"]))
    status["pending"] = dict(pending) if pending is not None else None
    status["nextScheduledAt"] = stamp(due)

    _archiving(out, obs, status, now)
    recoverable_points(obs, prev, status)
    if obs.shared_failure_domain:
        message = ("backups go to this instance's own SeaweedFS: losing the instance's volumes loses its backups "
                   "too; set spec.backup.destination to an S3 service outside the cluster")
        out.conditions.append(condition(obs.previous, "BackupDestination", "False", "SharedFailureDomain", message,
                                        now))
        if not any(c.get("type") == "BackupDestination" for c in obs.previous.get("conditions") or []):
            out.events.append(("Warning", "SharedFailureDomain", message))
    else:
        out.conditions.append(condition(obs.previous, "BackupDestination", "True", "Independent",
                                        f"backups go to {obs.destination}", now))
    out.backup = {k: v for k, v in status.items() if v is not None}
    if obs.pre_upgrade and status.get("lastPreUpgrade") == obs.pre_upgrade:
        out.recheck_in = 0.5  # the migrations were waiting for exactly this backup: let the next pass start them
    elif waiting_for_member:
        out.recheck_in = 10.0
    elif pending is None:
        out.recheck_in = min(MAX_RECHECK, max(1.0, due - obs.now))
    return out
