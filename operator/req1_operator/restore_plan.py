"""In-place restore, the operator's decisions: a pure function of the spec, the members' reports and the last status.

`spec.backup.restoreInPlace` replaces an existing instance's data with a point of its own backups. The operator walks
`status.restore.inPlace.phase` through `backing-up` (a base backup `pre-restore-<request>` of the current state,
through the backup plan), `api-stopped` (the API Deployment at 0 replicas, `gates.hold_for_restore`, until no API
pod runs), `restoring` (the instance managers act, reading this record) and `completed` or `failed` (the API comes
back either way; a failed restore leaves the data as it was before). Every step is decided again from what is
observed, so an operator killed at any point resumes where it was; a request that ended is never run again.
The I/O (Events, the status write) is `backups.py`; the managers' side is docs/backups.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from req1_operator.backup_plan import PRE_RESTORE, MemberView, condition
from req1_operator.times import parse_time
from req1_operator.times import stamp_seconds as stamp

BACKING_UP, API_STOPPED, RESTORING, COMPLETED, FAILED = "backing-up", "api-stopped", "restoring", "completed", "failed"
ACTIVE = (BACKING_UP, API_STOPPED, RESTORING)
CONDITION = "InPlaceRestore"
REPORT_KEY = "inPlaceRestore"  # the managers' key in `req1.io/instance-status`
#: After the primary's restore, how long the replicas may take to restore or stream again before the API comes back
#: anyway (an instance with a replica on a dead node must not stay without its API).
REPLICA_WAIT = 600.0
#: A pass soon after a phase change, so the API gate follows it.
FOLLOW_UP = 0.5


@dataclass(frozen=True)
class Wanted:
    """`spec.backup.restoreInPlace` (empty strings for what is not set)."""

    request: str
    backup_id: str = ""
    target_time: str = ""
    confirm: str = ""


@dataclass(frozen=True)
class RestoreObservation:
    instance: str  # metadata.name, what `confirm` must say
    wanted: Wanted | None
    backups_enabled: bool
    previous: Mapping[str, Any]  # the last status (restore.inPlace, conditions)
    backup: Mapping[str, Any]  # status.backup as this pass computed it (the pre-restore backup's result)
    members: Sequence[MemberView]
    primary: str | None  # status.targetPrimary
    api_pods: int  # API pods that exist, terminating ones included
    now: float
    upgrading: bool = False  # the migration gate keeps the API Deployment as it is (an upgrade waits for migrations)


@dataclass
class RestorePlan:
    in_place: dict[str, Any] | None = None  # status.restore.inPlace
    conditions: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[str, str, str]] = field(default_factory=list)  # (Normal|Warning, reason, message)
    recheck_in: float | None = None


def record_of(previous: Mapping[str, Any]) -> dict[str, Any] | None:
    found = ((previous.get("restore") or {}).get("inPlace")) or None
    return dict(found) if found else None


def restore_status(bootstrap: Mapping[str, Any] | None, in_place: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """`status.restore`: what the bootstrap restored (backup_plan), the in-place record beside it (never instead)."""
    if in_place is None:
        return dict(bootstrap) if bootstrap is not None else None
    return {**(bootstrap or {}), "inPlace": dict(in_place)}


def api_stopped(previous: Mapping[str, Any]) -> bool:
    """Whether the API is to stay at 0 replicas: from the API's stop until the restore has ended."""
    return (record_of(previous) or {}).get("phase") in (API_STOPPED, RESTORING)


def backup_name(request: str) -> str:
    return f"{PRE_RESTORE}-{request}"


def refusal(wanted: Wanted, instance: str, enabled: bool) -> tuple[str, str] | None:
    """(reason, message) when the request is a user error that runs nothing."""
    if not enabled:
        return ("BackupsDisabled", f"in-place restore {wanted.request} needs spec.backup.enabled: it restores this "
                                   "instance's own backups, and takes one of the current state first; nothing done")
    if wanted.confirm != instance:
        return ("NotConfirmed", f"in-place restore {wanted.request} is not confirmed: "
                                f"spec.backup.restoreInPlace.confirm is {wanted.confirm!r}, it must be the instance's "
                                f"name {instance!r}; nothing done")
    return None


def _new(wanted: Wanted | None, record: Mapping[str, Any] | None) -> bool:
    """A request not handled yet. One under way in `restoring` finishes first; before that, a new one replaces it."""
    if wanted is None:
        return False
    return record is None or (record.get("request") != wanted.request and record.get("phase") != RESTORING)


def _start_error(wanted: Wanted, now: float) -> str | None:
    target = parse_time(wanted.target_time)
    if target is not None and target > now:
        return (f"targetTime {wanted.target_time} is in the future: no WAL reaches it yet; nothing was touched and "
                "the API kept serving")
    return None


def pre_restore_wait(wanted: Wanted | None, instance: str, enabled: bool, previous: Mapping[str, Any],
                     now: float) -> str | None:
    """The base backup the backup plan is to take for an in-place restore this pass, if any."""
    record = record_of(previous)
    if _new(wanted, record) and wanted is not None and refusal(wanted, instance, enabled) is None:
        return None if _start_error(wanted, now) else backup_name(wanted.request)
    if record is not None and record.get("phase") == BACKING_UP and enabled:
        return str(record.get("preRestoreBackup") or backup_name(str(record.get("request"))))
    return None


def _target(record: Mapping[str, Any]) -> str:
    where = f"backup {record['backupId']}" if record.get("backupId") else "the latest backup"
    return f"{where} to {record['targetTime'] or 'the end of the archive'}"


def _start(wanted: Wanted, before: Mapping[str, Any] | None, now: float) -> dict[str, Any]:
    retry = (before is not None and before.get("phase") == FAILED and before.get("backupId") == wanted.backup_id
             and before.get("targetTime") == wanted.target_time)
    return {
        "request": wanted.request, "phase": BACKING_UP, "backupId": wanted.backup_id,
        "targetTime": wanted.target_time, "preRestoreBackup": backup_name(wanted.request), "preRestoreBackupId": "",
        "timeline": 0, "lsn": "", "startedAt": stamp(now), "primaryCompletedAt": "", "completedAt": "",
        "durationSeconds": 0.0, "restoreSeconds": 0.0,
        "attempts": int((before or {}).get("attempts") or 1) + 1 if retry else 1, "error": "",
    }


def _end(record: dict[str, Any], phase: str, now: float) -> None:
    record["phase"] = phase
    record["completedAt"] = stamp(now)
    started = parse_time(record.get("startedAt")) or now
    record["durationSeconds"] = round(max(0.0, now - started), 1)


def _fail(out: RestorePlan, record: dict[str, Any], error: str, now: float) -> None:
    record["error"] = error[:2048]
    _end(record, FAILED, now)
    message = f"in-place restore {record['request']} failed: {error}"
    out.events.append(("Warning", "InPlaceRestoreFailed", message[:1000]))


def _report(m: MemberView | None, request: str) -> Mapping[str, Any]:
    rep = (m.report.get(REPORT_KEY) if m is not None else None) or {}
    return rep if rep.get("request") == request else {}


def _replica_back(m: MemberView, request: str, timeline: int) -> bool:
    """Restored for this request, or streaming again on the restored timeline."""
    if _report(m, request).get("phase") == COMPLETED:
        return True
    return m.role == "replica" and m.streaming and int(m.report.get("timeline") or 0) >= timeline


def _backing_up(out: RestorePlan, obs: RestoreObservation, record: dict[str, Any]) -> None:
    name = record["preRestoreBackup"]
    last = obs.backup.get("lastBackup") or {}
    failure = obs.backup.get("lastFailure") or {}
    if not obs.backups_enabled:
        _fail(out, record, "spec.backup.enabled was turned off before the pre-restore backup; nothing was restored",
              obs.now)
    elif obs.backup.get("lastPreRestore") == name:
        if last.get("name") == name:
            record["preRestoreBackupId"] = str(last.get("backupId") or "")
        if not obs.upgrading:  # else the API could not be stopped: the upgrade's migrations first
            record["phase"] = API_STOPPED
    elif failure.get("request") == name:
        _fail(out, record, f"the pre-restore backup {name} failed ({failure.get('error') or 'no reason given'}); "
                           "nothing was restored and the API kept serving", obs.now)


def _restoring(out: RestorePlan, obs: RestoreObservation, record: dict[str, Any]) -> None:
    request = record["request"]
    primary = next((m for m in obs.members if m.name == obs.primary), None)
    rep = _report(primary, request)
    if rep.get("phase") == FAILED:
        _fail(out, record, f"the restore on {obs.primary} failed ({rep.get('error') or 'no reason given'}); its "
                           "instance manager put the data back as it was before the restore", obs.now)
        return
    if rep.get("phase") != COMPLETED:
        return
    record.update(timeline=int(rep.get("timeline") or 0), lsn=str(rep.get("lsn") or ""),
                  restoreSeconds=round(float(rep.get("durationSeconds") or 0), 1))
    record["primaryCompletedAt"] = record.get("primaryCompletedAt") or stamp(obs.now)
    behind = sorted(m.name for m in obs.members
                    if m.name != obs.primary and not _replica_back(m, request, record["timeline"]))
    waited = obs.now - (parse_time(record["primaryCompletedAt"]) or obs.now)
    if behind and waited < REPLICA_WAIT:
        out.recheck_in = REPLICA_WAIT - waited
        return
    if rep.get("backupId"):
        record["backupId"] = str(rep["backupId"])
    _end(record, COMPLETED, obs.now)
    late = f"; not back yet after {REPLICA_WAIT:.0f} s: {', '.join(behind)}" if behind else ""
    out.events.append(("Normal", "InPlaceRestoreCompleted",
                       f"in-place restore {request}: restored {_target(record)}: timeline {record['timeline']}, "
                       f"LSN {record['lsn']}, {record['restoreSeconds']} s restoring, {record['durationSeconds']} s "
                       f"in all; the state before is backup {record['preRestoreBackup']} "
                       f"({record['preRestoreBackupId'] or 'id unknown'}){late}"))


def _advance(out: RestorePlan, obs: RestoreObservation, record: dict[str, Any]) -> None:
    """As far as the observed state allows in one pass."""
    if record["phase"] == BACKING_UP:
        _backing_up(out, obs, record)
    if record["phase"] == API_STOPPED and obs.api_pods == 0:
        record["phase"] = RESTORING
        out.events.append(("Normal", "InPlaceRestoreRestoring",
                           f"in-place restore {record['request']}: the API is stopped; the instance managers restore "
                           f"{_target(record)}"))
    if record["phase"] == RESTORING:
        _restoring(out, obs, record)


def _condition_of(record: Mapping[str, Any], obs: RestoreObservation) -> tuple[str, str, str]:
    r, phase = record["request"], record["phase"]
    if phase == BACKING_UP and record.get("preRestoreBackupId") and obs.upgrading:
        return "Unknown", "WaitingForUpgrade", (f"in-place restore {r}: base backup {record['preRestoreBackup']} "
                                                "taken; the API stops once the upgrade's migrations have run")
    if phase == BACKING_UP:
        return "Unknown", "BackingUp", f"in-place restore {r}: taking base backup {record['preRestoreBackup']} first"
    if phase == API_STOPPED:
        return "Unknown", "StoppingApi", f"in-place restore {r}: waiting for {obs.api_pods} API pod(s) to stop"
    if phase == RESTORING:
        return "Unknown", "Restoring", f"in-place restore {r}: restoring {_target(record)}; the API is stopped"
    if phase == COMPLETED:
        return "True", "Completed", (f"in-place restore {r} restored {_target(record)} (timeline {record['timeline']}, "
                                     f"LSN {record['lsn']}) at {record['completedAt']}")
    return "False", "Failed", f"in-place restore {r}: {record.get('error') or 'failed'}"


def plan(obs: RestoreObservation) -> RestorePlan:
    out = RestorePlan()
    now = stamp(obs.now)
    before = record_of(obs.previous)
    record = dict(before) if before else None
    wanted = obs.wanted
    refused = refusal(wanted, obs.instance, obs.backups_enabled) if wanted and _new(wanted, record) else None
    if refused is not None:
        reason, message = refused
        out.conditions.append(condition(obs.previous, CONDITION, "False", reason, message, now))
        old: Mapping[str, Any] = next(
            (c for c in obs.previous.get("conditions") or [] if c.get("type") == CONDITION), {})
        if (old.get("reason"), old.get("message")) != (reason, out.conditions[0]["message"]):
            out.events.append(("Warning", reason, message))
    elif wanted is not None and _new(wanted, record):
        replaced = f"; it replaces request {record['request']}, which had not touched the data" \
            if record and record.get("phase") in ACTIVE else ""
        record = _start(wanted, record, obs.now)
        error = _start_error(wanted, obs.now)
        if error:
            _fail(out, record, error, obs.now)
        else:
            out.events.append(("Normal", "InPlaceRestoreStarted",
                               f"in-place restore {wanted.request} of {_target(record)}: taking base backup "
                               f"{record['preRestoreBackup']} of the current state first, then stopping the API"
                               f"{replaced}"))
    elif wanted is None and record and record.get("phase") in (BACKING_UP, API_STOPPED):
        _fail(out, record, "cancelled: spec.backup.restoreInPlace was removed before the data was touched", obs.now)
    if record is not None and record["phase"] in ACTIVE:
        _advance(out, obs, record)
    out.in_place = record
    if refused is None and record is not None:
        status, reason, message = _condition_of(record, obs)
        out.conditions.append(condition(obs.previous, CONDITION, status, reason, message, now))
    if record is not None and (before or {}).get("phase") != record["phase"]:
        out.recheck_in = min(out.recheck_in or FOLLOW_UP, FOLLOW_UP)  # the API gate follows the new phase
    return out
