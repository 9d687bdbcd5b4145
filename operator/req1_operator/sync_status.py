"""The `SynchronousReplication` condition and its Events, a pure function of the primary's report.

The primary's manager reports what its commits do under the setting in effect (`synchronous`: sync, async,
waiting; instance/syncrep.py). `preferred` falls back to async when no standby streams and back when one does;
`required` keeps commits waiting instead. The condition says which, and an Event marks each fallback and return.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from req1_operator import failover
from req1_operator.kube.events import NORMAL, WARNING

TYPE = "SynchronousReplication"


@dataclass(frozen=True)
class SyncCondition:
    status: str  # True | False | Unknown
    reason: str
    message: str


def evaluate(mode: str, primary: failover.Member | None, replicas: Sequence[failover.Member]) -> SyncCondition | None:
    """The condition for `spec.postgres.synchronousMode`; None when it is off (nothing to say)."""
    if mode == "off":
        return None
    state = primary.report.synchronous if primary is not None and primary.report.role == "primary" else ""
    streaming = sum(1 for m in replicas if m.report.streaming)
    if state == "sync":
        return SyncCondition("True", "StandbyStreaming",
                             f"commits wait for one of {streaming} streaming standby(s) ({mode})")  # fmt: skip
    if state == "async":
        return SyncCondition("False", "NoHealthyStandby",
                             "no standby streams: commits are asynchronous until one does (preferred)")  # fmt: skip
    if state == "waiting":
        return SyncCondition("False", "NoHealthyStandby",
                             "no standby streams: commits wait until one does (required)")  # fmt: skip
    return SyncCondition("Unknown", "NoPrimaryReport", "no primary reports its synchronous replication yet")


def condition(previous: Mapping[str, Any], cond: SyncCondition, now: str) -> dict[str, Any]:
    """As a status condition; lastTransitionTime kept while the status stays the same."""
    old = next((c for c in previous.get("conditions") or [] if c.get("type") == TYPE), None)
    since = old.get("lastTransitionTime") if old is not None and old.get("status") == cond.status else None
    return {"type": TYPE, "status": cond.status, "reason": cond.reason, "message": cond.message,
            "lastTransitionTime": since or now}  # fmt: skip


def event(previous: Mapping[str, Any], cond: SyncCondition | None) -> tuple[str, str, str] | None:
    """(type, reason, message) of the Event for a change: a fallback from True, or a return from False. The first
    report of a new instance (Unknown to False while its standbys clone) is no fallback."""
    old = next((c for c in previous.get("conditions") or [] if c.get("type") == TYPE), None)
    was = str(old.get("status")) if old is not None else "Unknown"
    if cond is None or cond.status == was or cond.status == "Unknown":
        return None
    if cond.status == "False" and was == "True":
        off = "SynchronousReplicationOff" if "asynchronous" in cond.message else "SynchronousStandbyLost"
        return WARNING, off, cond.message
    if cond.status == "True" and was == "False":
        return NORMAL, "SynchronousReplicationOn", cond.message
    return None
