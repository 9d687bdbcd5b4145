"""Restore drills, the operator's decisions: what the last drill found, from the Jobs and pods it observes (pure).

Kubernetes runs the drills (the CronJob `<name>-restore-drill`, render/backup.py); each drill reports its result as
the annotation `req1.io/drill-result` on its own pod (instance/drill.py), or, where annotations cannot be written, in
its container's termination message. The newest finished drill Job becomes `status.backup.lastDrill`, the
`RestoreDrill` condition and one Event (Warning when it failed). The record outlives the Job and its pod.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from req1_operator.backup_plan import condition
from req1_operator.render.names import LABEL_COMPONENT
from req1_operator.times import parse_time
from req1_operator.times import stamp_seconds as stamp

DRILL_COMPONENT = "restore-drill"  # render/backup.py DRILL
RESULT_ANNOTATION = "req1.io/drill-result"  # written by instance/drill.py
CONDITION = "RestoreDrill"
#: How long a failed drill Job's result may take to show on its pod before the Job counts as failed without one.
RESULT_GRACE = 60.0
NO_RESULT = "failed without reporting a result"


@dataclass(frozen=True)
class DrillRun:
    """One drill Job as observed: whether it finished, and the result its pod reported."""

    job: str
    started: float
    finished: bool
    failed: bool
    result: Mapping[str, Any] | None = None
    finished_at: float = 0.0


@dataclass
class DrillPlan:
    last_drill: dict[str, Any] | None = None
    conditions: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[str, str, str]] = field(default_factory=list)
    recheck_in: float | None = None  # a finished Job whose result is not seen yet


def _labels(body: Mapping[str, Any]) -> Mapping[str, str]:
    return (body.get("metadata") or {}).get("labels") or {}


def _pod_result(pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The pod's annotation, else its container's termination message; None when neither holds a result."""
    raw = ((pod.get("metadata") or {}).get("annotations") or {}).get(RESULT_ANNOTATION)
    candidates = [raw] if raw else []
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        candidates.append(((cs.get("state") or {}).get("terminated") or {}).get("message"))
    for text in candidates:
        try:
            doc = json.loads(text) if text else None
        except ValueError:
            continue
        if isinstance(doc, dict) and doc.get("result") in ("Passed", "Failed"):
            return doc
    return None


def observe_runs(jobs: Sequence[Mapping[str, Any]], pods: Sequence[Mapping[str, Any]]) -> list[DrillRun]:
    """The drill Jobs (label component=restore-drill) with their pods' results, oldest first."""
    results: dict[str, Mapping[str, Any]] = {}
    for pod in pods:
        if _labels(pod).get(LABEL_COMPONENT) != DRILL_COMPONENT:
            continue
        owner = next((r.get("name") for r in (pod.get("metadata") or {}).get("ownerReferences") or []
                      if r.get("kind") == "Job"), None) or _labels(pod).get("job-name")  # fmt: skip
        doc = _pod_result(pod)
        if owner and doc is not None:
            results[str(owner)] = doc
    runs = []
    for job in jobs:
        if _labels(job).get(LABEL_COMPONENT) != DRILL_COMPONENT:
            continue
        meta, st = job.get("metadata") or {}, job.get("status") or {}
        conds = {c.get("type"): c for c in st.get("conditions") or [] if c.get("status") == "True"}
        end = conds.get("Failed") or conds.get("Complete") or {}
        name = str(meta.get("name"))
        runs.append(DrillRun(
            job=name,
            started=parse_time(st.get("startTime") or meta.get("creationTimestamp")) or 0.0,
            finished=bool(end),
            failed="Failed" in conds,
            result=results.get(name),
            finished_at=parse_time(end.get("lastTransitionTime") or st.get("completionTime")) or 0.0,
        ))  # fmt: skip
    return sorted(runs, key=lambda r: (r.started, r.job))


def record(run: DrillRun, now: float) -> dict[str, Any] | None:
    """`status.backup.lastDrill` for a finished run; None while its result may still be on its way (the pod watch
    and the Job watch are separate streams: a Job may be seen finished before its pod's annotation)."""
    doc = run.result
    if doc is None:
        if not run.failed or now - run.finished_at < RESULT_GRACE:
            return None
        why = f"the drill Job {run.job} {NO_RESULT}: see `kubectl logs job/{run.job}`"
        started = stamp(run.started) if run.started else ""
        return {"result": "Failed", "job": run.job, "startedAt": started, "reason": why}
    return {
        "result": str(doc.get("result")),
        "reason": str(doc.get("reason") or "")[:4096],
        "backupId": str(doc.get("backupId") or ""),
        "startedAt": str(doc.get("startedAt") or ""),
        "finishedAt": str(doc.get("finishedAt") or ""),
        "durationSeconds": round(float(doc.get("durationSeconds") or 0), 1),
        "job": run.job,
    }


def plan(enabled: bool, schedule: str, runs: Sequence[DrillRun], previous: Mapping[str, Any], now: float) -> DrillPlan:
    """The last drill, its condition and (for a new result) its Event. `previous` is the last whole status."""
    out = DrillPlan()
    last: dict[str, Any] | None = dict((previous.get("backup") or {}).get("lastDrill") or {}) or None
    newest = next((r for r in reversed(runs) if r.finished), None)
    # a result that arrives after its Job was recorded as failed without one replaces that record
    late = newest is not None and newest.result is not None and (last or {}).get("job") == newest.job \
        and NO_RESULT in str((last or {}).get("reason"))
    if newest is not None and ((last or {}).get("job") != newest.job or late):
        fresh = record(newest, now)
        if fresh is None:
            out.recheck_in = RESULT_GRACE
        else:
            last = fresh
            if fresh["result"] == "Passed":
                out.events.append(("Normal", "DrillPassed", f"restore drill {newest.job}: {fresh['reason']}"[:1024]))
            else:
                out.events.append(("Warning", "DrillFailed", f"restore drill {newest.job}: {fresh['reason']}"[:1024]))
    out.last_drill = last
    if not enabled:
        return out
    t = stamp(now)
    if last is None:
        running = any(not r.finished for r in runs)
        message = "a drill is running" if running else f"no drill has run yet (schedule `{schedule}`)"
        out.conditions.append(condition(previous, CONDITION, "Unknown", "NotRunYet", message, t))
    elif last["result"] == "Passed":
        out.conditions.append(condition(previous, CONDITION, "True", "Passed",
                                        f"backup {last.get('backupId')} restored and checked: {last['reason']}", t))
    else:
        out.conditions.append(condition(previous, CONDITION, "False", "Failed", last["reason"], t))
    return out
