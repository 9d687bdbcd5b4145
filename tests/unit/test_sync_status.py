"""synchronousMode preferred/required: what the primary reports (instance/syncrep.py), the SynchronousReplication
condition and the Events for a fallback and a return (sync_status.py), table-driven."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from req1_operator import sync_status
from req1_operator.failover import Member, Report
from req1_operator.instance.report import InstanceStatus
from req1_operator.instance.syncrep import sync_state
from req1_operator.kube.events import NORMAL, WARNING

ANY1 = "ANY 1 (*)"


@pytest.mark.parametrize(
    ("mode", "applied", "standbys", "state"),
    [
        ("off", "", 2, "off"),
        ("preferred", ANY1, 1, "sync"),
        ("preferred", "", 0, "async"),  # fell back: commits do not wait
        ("preferred", ANY1, 0, "waiting"),  # the standby just left, the reload is one step away
        ("preferred", "", 1, "async"),  # a standby is back, the reload is one step away
        ("required", ANY1, 1, "sync"),
        ("required", ANY1, 0, "waiting"),
    ],
)
def test_primary_reports_what_its_commits_do(mode: str, applied: str, standbys: int, state: str) -> None:
    assert sync_state(mode, applied, standbys) == state


def test_report_carries_the_state_and_writes_its_changes_at_once() -> None:
    a = InstanceStatus(role="primary", synchronous="sync")
    b = InstanceStatus(role="primary", synchronous="async")
    assert a.significant() != b.significant()
    doc = json.loads(b.to_json(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))
    assert doc["synchronous"] == "async"
    assert "synchronous" not in json.loads(InstanceStatus(role="replica").to_json(dt.datetime.now(dt.UTC)))


def primary(state: str) -> Member:
    return Member("db-0", 0, Report(role="primary", ready=True, synchronous=state), pod_ready=True)


def replica(name: str, streaming: bool) -> Member:
    return Member(name, int(name[-1]), Report(role="replica", ready=streaming, streaming=streaming))


@pytest.mark.parametrize(
    ("mode", "members", "status", "reason"),
    [
        ("preferred", [primary("sync"), replica("db-1", True)], "True", "StandbyStreaming"),
        ("preferred", [primary("async"), replica("db-1", False)], "False", "NoHealthyStandby"),
        ("required", [primary("waiting"), replica("db-1", False)], "False", "NoHealthyStandby"),
        ("required", [primary("sync"), replica("db-1", True), replica("db-2", False)], "True", "StandbyStreaming"),
        ("preferred", [replica("db-1", True)], "Unknown", "NoPrimaryReport"),
        ("preferred", [primary(""), replica("db-1", True)], "Unknown", "NoPrimaryReport"),  # an older manager
    ],
)
def test_condition(mode: str, members: list[Member], status: str, reason: str) -> None:
    p = next((m for m in members if m.report.role == "primary"), None)
    cond = sync_status.evaluate(mode, p, [m for m in members if m is not p])
    assert cond is not None and (cond.status, cond.reason) == (status, reason)


def test_no_condition_when_off() -> None:
    assert sync_status.evaluate("off", primary("off"), []) is None


def previous(status: str | None) -> dict[str, Any]:
    if status is None:
        return {}
    return {"conditions": [{"type": "SynchronousReplication", "status": status, "lastTransitionTime": "T0"}]}


ON = sync_status.SyncCondition("True", "StandbyStreaming", "commits wait for one of 1 streaming standby(s)")
FALLBACK = sync_status.evaluate("preferred", primary("async"), [])
WAITING = sync_status.evaluate("required", primary("waiting"), [])


@pytest.mark.parametrize(
    ("before", "now", "event"),
    [
        ("True", FALLBACK, (WARNING, "SynchronousReplicationOff")),
        ("False", ON, (NORMAL, "SynchronousReplicationOn")),
        ("True", WAITING, (WARNING, "SynchronousStandbyLost")),
        ("True", ON, None),
        ("False", FALLBACK, None),
        (None, FALLBACK, None),  # a new instance: the standbys are still cloning, no fallback happened
        ("Unknown", FALLBACK, None),
        ("True", None, None),  # mode turned off
    ],
)
def test_events_mark_each_fallback_and_return(
    before: str | None, now: sync_status.SyncCondition | None, event: tuple[str, str] | None
) -> None:
    got = sync_status.event(previous(before), now)
    assert (got[:2] if got else None) == event


def test_transition_time_kept_while_the_status_stays() -> None:
    assert FALLBACK is not None
    assert sync_status.condition(previous("False"), FALLBACK, "T1")["lastTransitionTime"] == "T0"
    assert sync_status.condition(previous("True"), FALLBACK, "T1")["lastTransitionTime"] == "T1"
