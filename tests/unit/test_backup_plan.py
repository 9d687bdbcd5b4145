"""The operator's backup decisions (backup_plan.plan), table by table: schedule, on-demand requests, which member
takes a backup, results, lost requests, archiving health, the failure-domain warning and the restore record."""

from __future__ import annotations

import datetime as dt
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
