"""The operator's in-place restore (restore_plan.plan), phase by phase: the refusals that run nothing, the walk
backing-up → api-stopped → restoring → completed/failed, a pass resumed from the written status at every phase (an
operator killed and started again), a handled request never run again, and the failure paths. With the backup plan
(the pre-restore backup is asked through it) and the API gate, both pure."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from req1_operator import backup_plan, gates, restore_plan
from req1_operator.backup_plan import BackupObservation, MemberView, stamp
from req1_operator.kube.observe import from_bodies
from req1_operator.restore_plan import RestoreObservation, Wanted, plan, pre_restore_wait

T0 = 1_796_000_000.0  # 2026-11-30
NAME = "prod"
WANTED = Wanted("r1", target_time=stamp(T0 - 600), confirm=NAME)
PRIMARY = MemberView("prod-postgres-0", role="primary", ready=True, report={"role": "primary", "timeline": 1})
REPLICA = MemberView("prod-postgres-1", role="replica", ready=True, streaming=True,
                     report={"role": "replica", "timeline": 1, "streaming": True})


def obs(**kw: Any) -> RestoreObservation:
    base = RestoreObservation(instance=NAME, wanted=WANTED, backups_enabled=True, previous={}, backup={},
                              members=[PRIMARY, REPLICA], primary=PRIMARY.name, api_pods=2, now=T0)
    return replace(base, **kw)


def written(out: restore_plan.RestorePlan, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """The status the operator writes after this pass (what the next pass, or a restarted operator, reads)."""
    status = copy.deepcopy(previous or {})
    if out.in_place is not None:
        status.setdefault("restore", {})["inPlace"] = out.in_place
    status["conditions"] = out.conditions
    return status


def taken(name: str, backup_id: str = "20261130T101010") -> dict[str, Any]:
    """status.backup once the backup plan has recorded the pre-restore backup."""
    return {"lastBackup": {"backupId": backup_id, "name": name}, "lastPreRestore": name}


def member(base: MemberView, **report: Any) -> MemberView:
    return replace(base, report={**base.report, **report})


def condition_of(out: restore_plan.RestorePlan) -> dict[str, Any]:
    return next(c for c in out.conditions if c["type"] == "InPlaceRestore")


# ------------------------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(("kw", "reason"), [
    ({"wanted": replace(WANTED, confirm="prod-copy")}, "NotConfirmed"),
    ({"wanted": replace(WANTED, confirm="")}, "NotConfirmed"),
    ({"backups_enabled": False}, "BackupsDisabled"),
])
def test_a_refused_request_sets_a_condition_and_one_warning_and_runs_nothing(kw: dict[str, Any], reason: str) -> None:
    o = obs(**kw)
    assert pre_restore_wait(o.wanted, NAME, o.backups_enabled, {}, T0) is None  # no backup asked
    out = plan(o)
    assert out.in_place is None and out.recheck_in is None
    cond = condition_of(out)
    assert (cond["status"], cond["reason"]) == ("False", reason) and "nothing done" in cond["message"]
    assert [(t, r) for t, r, _ in out.events] == [("Warning", reason)]
    again = plan(replace(o, previous=written(out), now=T0 + 30))  # the next pass: no second Event
    assert again.in_place is None and not again.events and condition_of(again) == cond
    assert not restore_plan.api_stopped(written(again))


def test_confirming_later_runs_the_same_request() -> None:
    refused = plan(obs(wanted=replace(WANTED, confirm="nope")))
    out = plan(obs(previous=written(refused), now=T0 + 60))
    assert out.in_place is not None and out.in_place["phase"] == "backing-up" and out.in_place["request"] == "r1"


# ------------------------------------------------------------------------------------------------ the walk


def test_a_new_request_starts_with_the_pre_restore_backup_through_the_backup_plan() -> None:
    assert pre_restore_wait(WANTED, NAME, True, {}, T0) == "pre-restore-r1"
    out = plan(obs())
    rec = out.in_place
    assert rec is not None
    assert (rec["phase"], rec["preRestoreBackup"], rec["targetTime"], rec["backupId"]) == (
        "backing-up", "pre-restore-r1", WANTED.target_time, "")
    assert rec["startedAt"] == stamp(T0) and rec["attempts"] == 1 and rec["error"] == ""
    assert [e[1] for e in out.events] == ["InPlaceRestoreStarted"]
    assert condition_of(out)["reason"] == "BackingUp" and out.recheck_in == restore_plan.FOLLOW_UP
    assert not restore_plan.api_stopped(written(out))  # the API serves while the backup runs
    # the backup plan asks a streaming replica for it, by that name, and records it when it completes
    bk = backup_plan.plan(BackupObservation(
        enabled=True, schedule="0 3 * * *", time_zone="UTC", on_demand=None, destination="s3://b/p/ns/prod",
        endpoint="", credentials_secret="", shared_failure_domain=False, restoring=False, members=[PRIMARY, REPLICA],
        primary=PRIMARY.name, previous={}, now=T0, pre_restore=pre_restore_wait(WANTED, NAME, True, {}, T0)))
    assert bk.request == (REPLICA.name, "pre-restore-r1") and bk.backup is not None
    assert bk.backup["pending"]["kind"] == "pre-restore"
    done = member(REPLICA, backup={"requestId": "pre-restore-r1", "phase": "completed", "backupId": "20261130T1"})
    after = backup_plan.plan(BackupObservation(
        enabled=True, schedule="0 3 * * *", time_zone="UTC", on_demand=None, destination="s3://b/p/ns/prod",
        endpoint="", credentials_secret="", shared_failure_domain=False, restoring=False, members=[PRIMARY, done],
        primary=PRIMARY.name, previous={"backup": bk.backup}, now=T0 + 20, pre_restore="pre-restore-r1"))
    assert after.backup is not None and after.backup["lastPreRestore"] == "pre-restore-r1"
    assert after.backup["lastBackup"]["backupId"] == "20261130T1" and after.request is None


def test_the_whole_walk_to_completed() -> None:
    started = plan(obs())
    status = written(started)
    backed = plan(obs(previous=status, backup=taken("pre-restore-r1"), now=T0 + 30))
    rec = backed.in_place
    assert rec is not None and rec["phase"] == "api-stopped" and rec["preRestoreBackupId"] == "20261130T101010"
    assert condition_of(backed)["reason"] == "StoppingApi" and backed.recheck_in == restore_plan.FOLLOW_UP
    status = written(backed, status)
    assert restore_plan.api_stopped(status)

    still = plan(obs(previous=status, backup=taken("pre-restore-r1"), api_pods=1, now=T0 + 35))
    assert still.in_place == rec and not still.events  # an API pod still drains
    stopped = plan(obs(previous=status, backup=taken("pre-restore-r1"), api_pods=0, now=T0 + 70))
    assert stopped.in_place is not None and stopped.in_place["phase"] == "restoring"
    assert [e[1] for e in stopped.events] == ["InPlaceRestoreRestoring"]
    status = written(stopped, status)
    # the managers restore: the primary on a new timeline, the replica re-clones and reports it
    restoring = member(PRIMARY, inPlaceRestore={"request": "r1", "phase": "restoring"})
    busy = plan(obs(previous=status, members=[restoring, REPLICA], api_pods=0, now=T0 + 80))
    assert busy.in_place == stopped.in_place and not busy.events and condition_of(busy)["reason"] == "Restoring"
    primary_done = member(PRIMARY, timeline=4, inPlaceRestore={
        "request": "r1", "phase": "completed", "backupId": "20261130T0900", "targetTime": WANTED.target_time,
        "timeline": 4, "lsn": "0/5000A0", "durationSeconds": 41.25})
    waiting = plan(obs(previous=status, members=[primary_done, REPLICA], api_pods=0, now=T0 + 130))
    assert waiting.in_place is not None and waiting.in_place["phase"] == "restoring"  # the replica is on timeline 1
    assert waiting.in_place["primaryCompletedAt"] == stamp(T0 + 130) and not waiting.events
    assert waiting.recheck_in == pytest.approx(restore_plan.REPLICA_WAIT)
    status = written(waiting, status)
    replica_done = member(REPLICA, timeline=4, inPlaceRestore={"request": "r1", "phase": "completed"})
    done = plan(obs(previous=status, members=[primary_done, replica_done], api_pods=0, now=T0 + 150))
    rec = done.in_place
    assert rec is not None
    assert (rec["phase"], rec["backupId"], rec["timeline"], rec["lsn"], rec["restoreSeconds"]) == (
        "completed", "20261130T0900", 4, "0/5000A0", 41.2)
    assert rec["completedAt"] == stamp(T0 + 150) and rec["durationSeconds"] == 150.0 and not rec["error"]
    assert [e[:2] for e in done.events] == [("Normal", "InPlaceRestoreCompleted")]
    message = done.events[0][2]
    for part in ("20261130T0900", WANTED.target_time, "timeline 4", "LSN 0/5000A0", "41.2 s", "150.0 s",
                 "pre-restore-r1", "20261130T101010"):
        assert part in message, (part, message)
    cond = condition_of(done)
    assert (cond["status"], cond["reason"]) == ("True", "Completed")
    status = written(done, status)
    assert not restore_plan.api_stopped(status)  # the gate opens: the API is scaled back
    assert done.recheck_in == restore_plan.FOLLOW_UP


def test_a_replica_streaming_again_on_the_new_timeline_counts_as_back() -> None:
    status = {"restore": {"inPlace": {**plan(obs()).in_place, "phase": "restoring"}}}  # type: ignore[dict-item]
    primary_done = member(PRIMARY, inPlaceRestore={"request": "r1", "phase": "completed", "timeline": 3})
    streaming = member(REPLICA, timeline=3)
    out = plan(obs(previous=status, members=[primary_done, streaming], api_pods=0, now=T0 + 10))
    assert out.in_place is not None and out.in_place["phase"] == "completed"


def test_a_replica_that_does_not_come_back_holds_the_api_only_so_long() -> None:
    rec = {**plan(obs()).in_place, "phase": "restoring", "primaryCompletedAt": stamp(T0)}  # type: ignore[dict-item]
    primary_done = member(PRIMARY, inPlaceRestore={"request": "r1", "phase": "completed", "timeline": 3})
    gone = replace(REPLICA, role="unknown", streaming=False, report={})
    out = plan(obs(previous={"restore": {"inPlace": rec}}, members=[primary_done, gone], api_pods=0,
                   now=T0 + restore_plan.REPLICA_WAIT + 1))
    assert out.in_place is not None and out.in_place["phase"] == "completed"
    assert "not back yet" in out.events[0][2] and REPLICA.name in out.events[0][2]


# ------------------------------------------------------------------------------------------------ resuming


def _walk() -> list[tuple[RestoreObservation, dict[str, Any]]]:
    """(observation, status written) after each step of a whole restore."""
    primary_done = member(PRIMARY, inPlaceRestore={"request": "r1", "phase": "completed", "timeline": 2, "lsn": "0/9"})
    replica_done = member(REPLICA, inPlaceRestore={"request": "r1", "phase": "completed"})
    steps = [
        obs(),
        obs(backup=taken("pre-restore-r1"), now=T0 + 30),
        obs(backup=taken("pre-restore-r1"), api_pods=0, now=T0 + 60),
        obs(backup=taken("pre-restore-r1"), api_pods=0, members=[primary_done, REPLICA], now=T0 + 90),
        obs(backup=taken("pre-restore-r1"), api_pods=0, members=[primary_done, replica_done], now=T0 + 120),
    ]
    out: list[tuple[RestoreObservation, dict[str, Any]]] = []
    status: dict[str, Any] = {}
    for step in steps:
        step = replace(step, previous=status)
        status = written(plan(step), status)
        out.append((step, status))
    return out


@pytest.mark.parametrize("step", range(5))
def test_an_operator_started_again_at_any_phase_resumes_without_repeating_anything(step: int) -> None:
    """The observation unchanged, the status as written before the kill: the same record, no Event again."""
    o, status = _walk()[step]
    phase = status["restore"]["inPlace"]["phase"]
    again = plan(replace(o, previous=status, now=o.now + 5))
    assert again.in_place == status["restore"]["inPlace"], phase
    assert not again.events, (phase, again.events)
    assert again.conditions == status["conditions"]


def test_the_walk_passes_every_phase_once() -> None:
    phases = [s["restore"]["inPlace"]["phase"] for _, s in _walk()]
    assert phases == ["backing-up", "api-stopped", "restoring", "restoring", "completed"]


def test_a_request_already_completed_or_failed_is_never_run_again() -> None:
    _, status = _walk()[-1]
    for ended in (status, {"restore": {"inPlace": {**status["restore"]["inPlace"], "phase": "failed"}}}):
        assert pre_restore_wait(WANTED, NAME, True, ended, T0 + 999) is None
        out = plan(obs(previous=ended, api_pods=2, now=T0 + 999))
        assert out.in_place == ended["restore"]["inPlace"] and not out.events
        assert not restore_plan.api_stopped(written(out, ended))


def test_a_new_request_during_restoring_waits_for_it_to_end() -> None:
    _, status = _walk()[2]
    assert status["restore"]["inPlace"]["phase"] == "restoring"
    out = plan(obs(wanted=replace(WANTED, request="r2"), previous=status, api_pods=0, now=T0 + 70))
    assert out.in_place is not None and out.in_place["request"] == "r1" and not out.events
    assert pre_restore_wait(replace(WANTED, request="r2"), NAME, True, status, T0 + 70) is None


def test_a_new_request_before_the_data_is_touched_replaces_the_old_one() -> None:
    _, status = _walk()[0]
    out = plan(obs(wanted=replace(WANTED, request="r2"), previous=status, now=T0 + 10))
    assert out.in_place is not None and out.in_place["request"] == "r2" and out.in_place["phase"] == "backing-up"
    assert "replaces request r1" in out.events[0][2]


# ------------------------------------------------------------------------------------------------ failures


def test_the_primary_failing_fails_the_restore_and_the_api_comes_back() -> None:
    _, status = _walk()[2]
    failed = member(PRIMARY, inPlaceRestore={"request": "r1", "phase": "failed", "error": "WAL segment missing"})
    out = plan(obs(previous=status, members=[failed, REPLICA], api_pods=0, now=T0 + 100))
    rec = out.in_place
    assert rec is not None and rec["phase"] == "failed" and "WAL segment missing" in rec["error"]
    assert rec["completedAt"] == stamp(T0 + 100)
    assert [e[:2] for e in out.events] == [("Warning", "InPlaceRestoreFailed")]
    cond = condition_of(out)
    assert (cond["status"], cond["reason"]) == ("False", "Failed") and "WAL segment missing" in cond["message"]
    assert not restore_plan.api_stopped(written(out, status))
    # a new request value retries the same target: one more attempt
    retry = plan(obs(wanted=replace(WANTED, request="r2"), previous=written(out, status), now=T0 + 200))
    assert retry.in_place is not None and retry.in_place["attempts"] == 2 and retry.in_place["phase"] == "backing-up"
    other = plan(obs(wanted=Wanted("r3", backup_id="b1", confirm=NAME), previous=written(out, status), now=T0 + 200))
    assert other.in_place is not None and other.in_place["attempts"] == 1


def test_a_stale_report_of_an_earlier_request_is_not_this_ones_result() -> None:
    _, status = _walk()[2]
    stale = member(PRIMARY, inPlaceRestore={"request": "r0", "phase": "failed", "error": "old"})
    out = plan(obs(previous=status, members=[stale, REPLICA], api_pods=0, now=T0 + 100))
    assert out.in_place is not None and out.in_place["phase"] == "restoring" and not out.events


def test_a_failed_pre_restore_backup_fails_the_restore_before_the_api_stops() -> None:
    _, status = _walk()[0]
    backup = {"lastFailure": {"request": "pre-restore-r1", "error": "S3 unreachable"}}
    out = plan(obs(previous=status, backup=backup, now=T0 + 30))
    rec = out.in_place
    assert rec is not None and rec["phase"] == "failed" and "S3 unreachable" in rec["error"]
    assert "API kept serving" in rec["error"] and not restore_plan.api_stopped(written(out, status))


def test_a_target_in_the_future_fails_at_once_without_a_backup() -> None:
    future = replace(WANTED, target_time=stamp(T0 + 3600))
    assert pre_restore_wait(future, NAME, True, {}, T0) is None
    out = plan(obs(wanted=future))
    assert out.in_place is not None and out.in_place["phase"] == "failed" and "future" in out.in_place["error"]


def test_removing_the_field_before_the_data_is_touched_cancels() -> None:
    _, status = _walk()[1]
    out = plan(obs(wanted=None, previous=status, backup=taken("pre-restore-r1"), now=T0 + 40))
    assert out.in_place is not None and out.in_place["phase"] == "failed" and "cancelled" in out.in_place["error"]
    _, restoring = _walk()[2]
    kept = plan(obs(wanted=None, previous=restoring, api_pods=0, now=T0 + 70))
    assert kept.in_place is not None and kept.in_place["phase"] == "restoring"  # once the managers act, it ends


def test_an_upgrade_in_flight_keeps_the_api_until_its_migrations_ran() -> None:
    _, status = _walk()[0]
    out = plan(obs(previous=status, backup=taken("pre-restore-r1"), upgrading=True, now=T0 + 30))
    assert out.in_place is not None and out.in_place["phase"] == "backing-up"
    assert condition_of(out)["reason"] == "WaitingForUpgrade"
    later = plan(obs(previous=written(out, status), backup=taken("pre-restore-r1"), now=T0 + 90))
    assert later.in_place is not None and later.in_place["phase"] == "api-stopped"


# ------------------------------------------------------------------------------------------------ the API gate


def _deploy(replicas: int | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"template": {"spec": {"containers": [{"name": "api", "image": "req1:1"}]}}}
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "prod-api", "labels": {"app.kubernetes.io/component": "api"}}, "spec": spec}


@pytest.mark.parametrize("step", range(5))
def test_the_api_is_at_zero_exactly_from_api_stopped_to_the_end(step: int) -> None:
    _, status = _walk()[step]
    phase = status["restore"]["inPlace"]["phase"]
    for replicas in (3, None):  # without an HPA, and with one (the Deployment's replicas not rendered)
        desired = [_deploy(replicas), {"apiVersion": "batch/v1", "kind": "Job", "metadata": {
            "name": "prod-migrate-1", "labels": {"app.kubernetes.io/component": "migrate"}}}]
        gate = gates.migration_gate(desired, from_bodies([_deploy(3)]))
        why = gates.hold_for_restore(NAME, gate, desired, status)
        if phase in ("api-stopped", "restoring"):
            assert why is not None and "r1" in why and desired[0]["spec"]["replicas"] == 0
            assert {("Job", "prod-migrate-1"), ("StatefulSet", "prod-postgres")} <= gate.hold
        else:
            assert why is None and desired[0]["spec"].get("replicas") == replicas and not gate.hold


def test_backups_wait_while_the_data_is_replaced() -> None:
    _, status = _walk()[2]
    bk = backup_plan.plan(BackupObservation(
        enabled=True, schedule="* * * * *", time_zone="UTC", on_demand="now", destination="s3://b/p/ns/prod",
        endpoint="", credentials_secret="", shared_failure_domain=False, restoring=False, members=[PRIMARY, REPLICA],
        primary=PRIMARY.name, previous={"backup": {"nextScheduledAt": stamp(T0 - 60)}}, now=T0,
        paused=restore_plan.api_stopped(status)))
    assert bk.request is None and bk.backup is not None and bk.backup.get("lastOnDemand") is None


# ------------------------------------------------------------------------------------------------ status and views


def test_the_bootstrap_record_and_the_in_place_record_live_side_by_side() -> None:
    """status.restore of an instance created from a backup: the backup plan rewrites the bootstrap's record from
    the member's report every pass; the in-place record must survive that, and a record never goes away."""
    boot = backup_plan.plan(BackupObservation(
        enabled=False, schedule="0 3 * * *", time_zone="UTC", on_demand=None, destination="", endpoint="",
        credentials_secret="", shared_failure_domain=False, restoring=True, primary=PRIMARY.name, now=T0,
        members=[member(PRIMARY, restore={"phase": "completed", "source": "s3://b/p/ns/orig", "backupId": "x"})],
        previous={"restore": {"phase": "completed", "inPlace": {"request": "r1", "phase": "restoring"}}}))
    assert boot.restore is not None and "inPlace" not in boot.restore  # the bootstrap's own record only
    in_place = {"request": "r1", "phase": "completed"}
    both = restore_plan.restore_status(boot.restore, in_place)
    assert both is not None and both["inPlace"] == in_place and both["source"] == "s3://b/p/ns/orig"
    assert restore_plan.restore_status(None, in_place) == {"inPlace": in_place}
    assert restore_plan.restore_status(None, None) is None


def test_the_api_shows_as_stopped_on_purpose_while_the_restore_holds_it() -> None:
    from req1_operator.status import StatusInput, compute_status

    live = _deploy(0)
    live["metadata"]["generation"] = 2
    live["status"] = {"observedGeneration": 2, "replicas": 0, "readyReplicas": 0, "updatedReplicas": 0}
    desired = [_deploy(0)]
    base = StatusInput(generation=1, desired=desired, observed=from_bodies([live]), previous={"phase": "Ready"},
                       api_deployment="prod-api")
    assert compute_status(base)["phase"] == "Ready"  # 0 of 0 is ready, as far as the Deployment goes
    status = compute_status(replace(base, restoring="stopped for in-place restore r1 (restoring)"))
    assert status["phase"] == "Provisioning" and status["components"]["api"]["ready"] is False
    progressing = next(c for c in status["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("True", "RestoringInPlace")
    assert "in-place restore r1" in progressing["message"]


def test_kubectl_req1_status_shows_the_in_place_restore() -> None:
    from req1_operator.kubectl_plugin import render_status

    _, status = _walk()[-1]
    text = render_status({"metadata": {"name": NAME, "namespace": "ns"}, "status": status})
    line = next(x for x in text.splitlines() if x.startswith("in-place restore"))
    assert "r1: completed" in line and "pre-restore-r1" in line and WANTED.target_time in line
    assert "timeline 2" in text and "lsn 0/9" in text and "restored from" not in text


def test_the_api_is_not_ready_before_it_is_scaled_back() -> None:
    """The pass that opens the gate sees the Deployment from before its apply (0 of 0 ready): that is a scale still
    to happen, not a Ready instance (a live run saw Ready, then connection refused from the API Service)."""
    from req1_operator.status import StatusInput, compute_status

    live = _deploy(0)
    live["metadata"]["generation"] = 2
    live["status"] = {"observedGeneration": 2, "replicas": 0, "readyReplicas": 0, "updatedReplicas": 0}
    status = compute_status(StatusInput(generation=1, desired=[_deploy(1)], observed=from_bodies([live]),
                                        previous={"phase": "Provisioning"}, api_deployment="prod-api"))
    assert status["phase"] == "Provisioning", status
    assert status["components"]["api"] == {"ready": False,
                                           "message": "Deployment prod-api: scaling from 0 to 1 replicas"}
    with_hpa = compute_status(StatusInput(generation=1, desired=[_deploy(None)], observed=from_bodies([live]),
                                          previous={"phase": "Provisioning"}, api_deployment="prod-api"))
    assert with_hpa["components"]["api"]["ready"] is True  # the count is the HPA's, not ours
