"""The operator's backup decisions (backup_plan.plan), table by table: schedule, on-demand requests, which member
takes a backup, results, lost requests, archiving health, the failure-domain warning and the restore record."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from typing import Any

import pytest

from req1_operator.backup_plan import (
    REQUEST_TIMEOUT,
    BackupObservation,
    MemberView,
    choose_member,
    next_run,
    plan,
    stamp,
)

T0 = dt.datetime(2026, 12, 3, 2, 59, 30, tzinfo=dt.UTC).timestamp()

PRIMARY = MemberView("db-0", role="primary", ready=True, report={"role": "primary"})
REPLICA = MemberView("db-1", role="replica", ready=True, streaming=True, lag_bytes=10)
LAGGING = MemberView("db-2", role="replica", ready=True, streaming=True, lag_bytes=9999)
STALLED = MemberView("db-3", role="replica", ready=False, streaming=False)


def obs(**kw: Any) -> BackupObservation:
    base = BackupObservation(
        enabled=True, schedule="0 3 * * *", time_zone="UTC", on_demand=None,
        destination="s3://req1/backups/ns/db", endpoint="http://s3:8333", credentials_secret="db-seaweedfs-s3",
        shared_failure_domain=False, restoring=False, members=[PRIMARY, REPLICA], primary="db-0",
        previous={}, now=T0,
    )
    return replace(base, **kw)


def test_disabled_means_no_status_and_no_request() -> None:
    out = plan(obs(enabled=False))
    assert out.backup is None and out.request is None and not out.conditions and not out.events


def test_first_pass_schedules_the_next_run_in_the_time_zone() -> None:
    out = plan(obs())
    assert out.request is None
    assert out.backup is not None and out.backup["nextScheduledAt"] == "2026-12-03T03:00:00Z"
    assert out.recheck_in == pytest.approx(30, abs=1)
    berlin = plan(obs(time_zone="Europe/Berlin"))
    assert berlin.backup is not None and berlin.backup["nextScheduledAt"] == "2026-12-04T02:00:00Z"  # 03:00 CET


def test_due_schedule_asks_the_replica_and_moves_the_schedule_on() -> None:
    first = plan(obs())
    later = plan(obs(previous={"backup": first.backup}, now=T0 + 31))
    assert later.request == ("db-1", "scheduled-20261203T0300")
    assert later.backup is not None
    assert later.backup["pending"]["id"] == "scheduled-20261203T0300" and later.backup["pending"]["kind"] == "scheduled"
    assert later.backup["nextScheduledAt"] == "2026-12-04T03:00:00Z"
    assert [e[1] for e in later.events] == ["BackupStarted"]
    # the next pass, with the annotation in place, writes nothing again
    again = plan(obs(previous={"backup": later.backup}, now=T0 + 40,
                     members=[PRIMARY, replace(REPLICA, request_id="scheduled-20261203T0300")]))
    assert again.request is None and not again.events


@pytest.mark.parametrize(("members", "chosen"), [
    ([PRIMARY, REPLICA, LAGGING], "db-1"),  # least lag
    ([PRIMARY, LAGGING], "db-2"),
    ([PRIMARY, STALLED], "db-0"),  # no healthy replica: the primary
    ([replace(PRIMARY, ready=False), STALLED], None),  # nobody: wait
])
def test_member_choice(members: list[MemberView], chosen: str | None) -> None:
    got = choose_member(members, "db-0")
    assert (got.name if got else None) == chosen


def test_nobody_healthy_keeps_the_backup_due() -> None:
    first = plan(obs())
    out = plan(obs(previous={"backup": first.backup}, now=T0 + 60, members=[replace(PRIMARY, ready=False)]))
    assert out.request is None and out.backup is not None and "pending" not in out.backup
    assert out.backup["nextScheduledAt"] == "2026-12-03T03:00:00Z" and out.recheck_in == 10.0


def test_on_demand_once_per_value() -> None:
    out = plan(obs(on_demand="before-upgrade"))
    assert out.request == ("db-1", "on-demand-before-upgrade")
    assert out.backup is not None and out.backup["lastOnDemand"] == "before-upgrade"
    done = replace(REPLICA, request_id="on-demand-before-upgrade", report={"backup": {
        "requestId": "on-demand-before-upgrade", "phase": "completed", "backupId": "20261203T025930",
        "fromReplica": True, "sizeBytes": 4151096, "durationSeconds": 7.14, "endTime": "2026-12-03T02:59:40Z"}})
    after = plan(obs(on_demand="before-upgrade", previous={"backup": out.backup}, members=[PRIMARY, done]))
    assert after.request is None and after.backup is not None and "pending" not in after.backup
    assert after.backup["lastBackup"]["backupId"] == "20261203T025930"
    assert after.backup["lastBackup"]["durationSeconds"] == 7.1
    assert [e[1] for e in after.events] == ["BackupCompleted"]
    same = plan(obs(on_demand="before-upgrade", previous={"backup": after.backup}, members=[PRIMARY, done]))
    assert same.request is None and not same.events


def test_failed_and_lost_requests_are_recorded() -> None:
    pending = {"id": "r1", "pod": "db-1", "kind": "on-demand", "requestedAt": stamp(T0)}
    failed = replace(REPLICA, report={"backup": {"requestId": "r1", "phase": "failed", "error": "S3 refused"}})
    out = plan(obs(previous={"backup": {"pending": pending, "lastOnDemand": "x"}}, on_demand="x",
                   members=[PRIMARY, failed]))
    assert out.backup is not None and out.backup["lastFailure"]["error"] == "S3 refused"
    assert "pending" not in out.backup and [e[1] for e in out.events] == ["BackupFailed"]
    gone = plan(obs(previous={"backup": {"pending": pending, "lastOnDemand": "x"}}, on_demand="x",
                    members=[PRIMARY]))
    assert gone.backup is not None and "went away" in gone.backup["lastFailure"]["error"]
    running = replace(REPLICA, report={"backup": {"requestId": "r1", "phase": "running"}})
    waiting = plan(obs(previous={"backup": {"pending": pending, "lastOnDemand": "x"}}, on_demand="x",
                       members=[PRIMARY, running], now=T0 + 60))
    assert waiting.backup is not None and waiting.backup["pending"]["id"] == "r1" and not waiting.events
    stuck = plan(obs(previous={"backup": {"pending": pending, "lastOnDemand": "x"}}, on_demand="x",
                     members=[PRIMARY, REPLICA], now=T0 + REQUEST_TIMEOUT + 1))
    assert stuck.backup is not None and "no result" in stuck.backup["lastFailure"]["error"]


def _archiving(report: dict[str, Any], previous: dict[str, Any] | None = None) -> Any:
    primary = replace(PRIMARY, report={"role": "primary", "archiving": report})
    return plan(obs(members=[primary, REPLICA], previous=previous or {}))


def test_archiving_condition_and_events_on_change() -> None:
    waiting = plan(obs())
    assert next(c for c in waiting.conditions if c["type"] == "ContinuousArchiving")["status"] == "Unknown"
    ok = _archiving({"ok": True, "lastArchivedWal": "000000010000000000000005", "lastArchivedAt": "t"})
    cond = next(c for c in ok.conditions if c["type"] == "ContinuousArchiving")
    assert cond["status"] == "True" and ok.backup["lastArchivedWal"] == "000000010000000000000005"
    assert not [e for e in ok.events if "Archiving" in e[1]]
    bad = _archiving({"ok": False, "lastFailedWal": "000000010000000000000006", "lastError": "endpoint down",
                      "pendingSegments": 3}, previous={"backup": ok.backup, "conditions": ok.conditions})
    cond = next(c for c in bad.conditions if c["type"] == "ContinuousArchiving")
    assert cond["status"] == "False" and "endpoint down" in cond["message"] and "3 segments" in cond["message"]
    assert [e[1] for e in bad.events] == ["ArchivingFailing"]
    still = _archiving({"ok": False, "lastError": "endpoint down"}, previous={"backup": bad.backup,
                                                                                "conditions": bad.conditions})
    assert not still.events, "one Event per transition, not per pass"
    assert next(c for c in still.conditions if c["type"] == "ContinuousArchiving")["lastTransitionTime"] == \
        cond["lastTransitionTime"]
    back = _archiving({"ok": True}, previous={"backup": still.backup, "conditions": still.conditions})
    assert [e[1] for e in back.events] == ["ArchivingResumed"]


def test_shared_failure_domain_warns_once() -> None:
    first = plan(obs(shared_failure_domain=True))
    cond = next(c for c in first.conditions if c["type"] == "BackupDestination")
    assert cond["status"] == "False" and cond["reason"] == "SharedFailureDomain"
    assert [e[1] for e in first.events] == ["SharedFailureDomain"]
    again = plan(obs(shared_failure_domain=True, previous={"backup": first.backup, "conditions": first.conditions}))
    assert not again.events


def test_restore_report_becomes_status_and_one_event() -> None:
    report = {"phase": "recovering", "source": "s3://b/backups/ns/old", "backupId": "20261203T061506"}
    member = replace(PRIMARY, report={"role": "primary", "restore": report})
    running = plan(obs(enabled=False, restoring=True, members=[member]))
    assert running.restore is not None and running.restore["phase"] == "recovering" and not running.events
    done = replace(PRIMARY, report={"role": "primary", "restore": {**report, "phase": "completed", "timeline": 3,
                                                                    "lsn": "0/600BD70", "durationSeconds": 8.44}})
    out = plan(obs(enabled=False, restoring=True, members=[done], previous={"restore": running.restore}))
    assert out.restore is not None and out.restore["timeline"] == 3 and out.restore["durationSeconds"] == 8.4
    assert [e[1] for e in out.events] == ["RestoreCompleted"]
    kept = plan(obs(enabled=False, restoring=True, members=[PRIMARY], previous={"restore": out.restore}))
    assert kept.restore == out.restore and not kept.events


def test_next_run_is_strictly_after() -> None:
    at_three = dt.datetime(2026, 12, 3, 3, 0, tzinfo=dt.UTC).timestamp()
    assert next_run("0 3 * * *", "UTC", at_three) == at_three + 86400
    assert next_run("@hourly", "UTC", at_three) == at_three + 3600


def test_upgrade_waits_for_its_own_backup() -> None:
    from req1_operator.backup_plan import pre_upgrade_wait

    assert pre_upgrade_wait(False, "0.2.0", {}) is None
    name = pre_upgrade_wait(True, "0.2.0", {})
    assert name == "pre-upgrade-0.2.0"
    asked = plan(obs(pre_upgrade=name, on_demand="also-wanted"))
    assert asked.request == ("db-1", "pre-upgrade-0.2.0"), "the upgrade's backup comes first"
    assert asked.backup is not None and asked.backup["pending"]["kind"] == "pre-upgrade"
    done = replace(REPLICA, request_id=name, report={"backup": {
        "requestId": name, "phase": "completed", "backupId": "20261203T030000", "name": name}})
    after = plan(obs(pre_upgrade=name, previous={"backup": asked.backup}, members=[PRIMARY, done]))
    assert after.backup is not None and after.backup["lastPreUpgrade"] == name
    assert after.recheck_in == 0.5, "the held migrations start on the very next pass"
    assert pre_upgrade_wait(True, "0.2.0", after.backup) is None
    assert pre_upgrade_wait(True, "0.3.0", after.backup) == "pre-upgrade-0.3.0"


def test_failed_upgrade_backup_is_asked_again_under_a_new_name() -> None:
    name = "pre-upgrade-0.2.0"
    pending = {"id": name, "pod": "db-1", "kind": "pre-upgrade", "requestedAt": stamp(T0)}
    failed = replace(REPLICA, report={"backup": {"requestId": name, "phase": "failed", "error": "disk full"}})
    out = plan(obs(pre_upgrade=name, previous={"backup": {"pending": pending}}, members=[PRIMARY, failed],
                   now=T0 + 10))
    assert out.backup is not None and out.backup["lastFailure"]["request"] == name
    assert out.request == ("db-1", f"{name}-{int(T0 + 10)}")
    assert "lastPreUpgrade" not in out.backup


# ---------------------------------------------------------------------------------------------- recoverable points


def test_recoverable_points_from_the_catalog_the_archive_and_the_last_backup() -> None:
    last = {"backupId": "20261203T030000", "beginTime": "2026-12-03T03:00:00.5+00:00",
            "endTime": "2026-12-03T03:00:09.9+00:00"}  # fmt: skip
    archived = {"role": "primary", "archiving": {"ok": True, "lastArchivedWal": "000000010000000000000009",
                                                 "lastArchivedAt": "2026-12-03T04:10:00Z"}}  # fmt: skip
    catalog = {"count": 3, "oldestBackupId": "20261201T030000", "oldestBeginTime": "2026-12-01T03:00:01.2+00:00"}
    replica = replace(REPLICA, report={"backup": {"backupId": last["backupId"], "catalog": catalog}})
    prev = {"backup": {"lastBackup": last}}
    out = plan(obs(members=[replace(PRIMARY, report=archived), replica], previous=prev))
    assert out.backup is not None
    assert out.backup["firstRecoverablePoint"] == "2026-12-01T03:00:01Z"  # the oldest retained backup's begin
    assert out.backup["lastRecoverablePoint"] == "2026-12-03T04:10:00Z"  # the last archived segment
    assert out.backup["retainedBackups"] == 3

    # Nothing archived since the backup ended: the backup's end is the last point; with no catalog yet, the one
    # known backup is the first; a later pass without the report keeps what was learned.
    quiet = plan(obs(previous=prev))
    assert quiet.backup is not None and quiet.backup["lastRecoverablePoint"] == "2026-12-03T03:00:09Z"
    assert quiet.backup["firstRecoverablePoint"] == "2026-12-03T03:00:00Z" and "retainedBackups" not in quiet.backup
    kept = plan(obs(previous={"backup": out.backup}))
    assert kept.backup is not None and kept.backup["firstRecoverablePoint"] == "2026-12-01T03:00:01Z"
    assert kept.backup["retainedBackups"] == 3
    # A catalog reported for another (older) backup than the last one is not trusted.
    stale = replace(REPLICA, report={"backup": {"backupId": "20261130T030000", "catalog": catalog}})
    untrusted = plan(obs(members=[PRIMARY, stale], previous=prev)).backup
    assert untrusted is not None and untrusted["firstRecoverablePoint"] == "2026-12-03T03:00:00Z"
    fresh = plan(obs()).backup
    assert fresh is not None and "firstRecoverablePoint" not in fresh  # no backup yet


# ---------------------------------------------------------------------------------------------- restore drills


def drill_job(name: str, started: str, state: str | None, ended: str = "2026-12-03T02:00:00Z") -> dict[str, Any]:
    conds = [{"type": state, "status": "True", "lastTransitionTime": ended}] if state else []
    return {"kind": "Job", "metadata": {"name": name, "labels": {"app.kubernetes.io/component": "restore-drill"}},
            "status": {"startTime": started, "conditions": conds}}  # fmt: skip


def drill_pod(job: str, result: dict[str, Any] | None, where: str = "annotation") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": f"{job}-x", "labels": {"app.kubernetes.io/component": "restore-drill"},
                            "ownerReferences": [{"kind": "Job", "name": job}]}  # fmt: skip
    status: dict[str, Any] = {}
    if result is not None and where == "annotation":
        meta["annotations"] = {"req1.io/drill-result": json.dumps(result)}
    elif result is not None:
        status = {"containerStatuses": [{"state": {"terminated": {"exitCode": 1, "message": json.dumps(result)}}}]}
    return {"metadata": meta, "status": status}


PASSED = {"result": "Passed", "reason": "restored b2; amcheck: 12 B-tree indexes intact", "backupId": "b2",
          "startedAt": "2026-12-03T05:00:01Z", "finishedAt": "2026-12-03T05:01:00Z", "durationSeconds": 59.04}
FAILED = {"result": "Failed", "reason": "WAL replay of b2 stopped before req1-drill-b2: segment X not restored",
          "backupId": "b2", "startedAt": "2026-12-04T05:00:01Z", "finishedAt": "2026-12-04T05:00:20Z",
          "durationSeconds": 19}  # fmt: skip


def test_drill_results_become_last_drill_a_condition_and_one_event() -> None:
    from req1_operator import drill_plan

    none = drill_plan.plan(True, "0 5 * * *", [], {}, T0)
    assert none.last_drill is None and not none.events
    assert [(c["type"], c["status"], c["reason"]) for c in none.conditions] == [("RestoreDrill", "Unknown",
                                                                                "NotRunYet")]  # fmt: skip

    jobs = [drill_job("db-restore-drill-1", "2026-12-03T05:00:00Z", "Complete")]
    runs = drill_plan.observe_runs(jobs, [drill_pod("db-restore-drill-1", PASSED)])
    passed = drill_plan.plan(True, "0 5 * * *", runs, {}, T0)
    assert passed.last_drill == {**{k: PASSED[k] for k in ("result", "reason", "backupId", "startedAt", "finishedAt")},
                                 "durationSeconds": 59.0, "job": "db-restore-drill-1"}  # fmt: skip
    assert passed.events == [("Normal", "DrillPassed", f"restore drill db-restore-drill-1: {PASSED['reason']}")]
    assert [(c["status"], c["reason"]) for c in passed.conditions] == [("True", "Passed")]
    # The same Job seen again: no second Event; the record stays after the Job and its pod are gone.
    prev = {"backup": {"lastDrill": passed.last_drill}, "conditions": passed.conditions}
    assert not drill_plan.plan(True, "0 5 * * *", runs, prev, T0 + 60).events
    gone = drill_plan.plan(True, "0 5 * * *", [], prev, T0 + 86400)
    assert gone.last_drill == passed.last_drill and not gone.events

    # The next drill fails (its result in the termination message): a Warning, the condition False with the reason.
    jobs.append(drill_job("db-restore-drill-2", "2026-12-04T05:00:00Z", "Failed"))
    runs = drill_plan.observe_runs(jobs, [drill_pod("db-restore-drill-1", PASSED),
                                          drill_pod("db-restore-drill-2", FAILED, where="message")])  # fmt: skip
    failed = drill_plan.plan(True, "0 5 * * *", runs, prev, T0 + 86400)
    assert failed.last_drill is not None and failed.last_drill["result"] == "Failed"
    assert failed.last_drill["job"] == "db-restore-drill-2" and failed.last_drill["reason"] == FAILED["reason"]
    assert [e[:2] for e in failed.events] == [("Warning", "DrillFailed")]
    assert str(FAILED["reason"]) in failed.events[0][2]
    assert [(c["status"], c["reason"], c["message"]) for c in failed.conditions] == [("False", "Failed",
                                                                                     FAILED["reason"])]  # fmt: skip


def test_drill_jobs_without_a_result() -> None:
    from req1_operator import drill_plan

    # Still running, or complete before its pod's annotation was seen: nothing recorded yet.
    running = drill_plan.observe_runs([drill_job("d-1", "2026-12-03T05:00:00Z", None)], [drill_pod("d-1", None)])
    out = drill_plan.plan(True, "0 5 * * *", running, {}, T0)
    assert out.last_drill is None and out.conditions[0]["message"] == "a drill is running"
    unseen = drill_plan.observe_runs([drill_job("d-1", "2026-12-03T05:00:00Z", "Complete")], [])
    assert drill_plan.plan(True, "0 5 * * *", unseen, {}, T0).last_drill is None
    # Failed without a word (image pull, OOM, a crash): after a grace for the pod's annotation to arrive (the Job and
    # pod watches are separate streams), a failed drill that says where to look.
    ended = stamp(T0 - 10)
    crashed = drill_plan.observe_runs([drill_job("d-1", "2026-12-03T02:50:00Z", "Failed", ended)],
                                      [drill_pod("d-1", None)])  # fmt: skip
    early = drill_plan.plan(True, "0 5 * * *", crashed, {}, T0)
    assert early.last_drill is None and not early.events and early.recheck_in == drill_plan.RESULT_GRACE
    out = drill_plan.plan(True, "0 5 * * *", crashed, {}, T0 + 60)
    assert out.last_drill is not None and out.last_drill["result"] == "Failed"
    assert "kubectl logs job/d-1" in str(out.last_drill["reason"]) and out.events[0][:2] == ("Warning", "DrillFailed")
    # Its result shows up after all: it replaces the record, with its own Event; then nothing more happens.
    prev = {"backup": {"lastDrill": out.last_drill}}
    arrived = drill_plan.observe_runs([drill_job("d-1", "2026-12-03T02:50:00Z", "Failed", ended)],
                                      [drill_pod("d-1", FAILED)])  # fmt: skip
    late = drill_plan.plan(True, "0 5 * * *", arrived, prev, T0 + 90)
    assert late.last_drill is not None and late.last_drill["reason"] == FAILED["reason"] and len(late.events) == 1
    assert not drill_plan.plan(True, "0 5 * * *", arrived, {"backup": {"lastDrill": late.last_drill}}, T0 + 99).events
    # Other Jobs and pods (the migrate Job) are not drills; drills off: no condition, the record is kept.
    other = drill_job("m-1", "2026-12-03T05:00:00Z", "Failed")
    other["metadata"]["labels"] = {"app.kubernetes.io/component": "migrate"}
    assert drill_plan.observe_runs([other], []) == []
    off = drill_plan.plan(False, "0 5 * * *", [], {"backup": {"lastDrill": {"result": "Passed", "job": "d-0"}}}, T0)
    assert off.conditions == [] and off.last_drill == {"result": "Passed", "job": "d-0"}
