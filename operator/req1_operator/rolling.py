"""Rolling a PostgreSQL change replica-first: a pure function of what the operator observes.

The StatefulSet uses `updateStrategy: OnDelete`, so its controller never restarts a pod by itself; a pod takes the
new template (image, configuration checksum) only when the operator deletes it. This module says which pod is
next: outdated replicas one at a time, then one switchover to an updated replica, then the old primary, which by
then runs as a replica. A roll never proceeds past a pod of the new revision that is not healthy (a change that
breaks PostgreSQL stops at the first replica), and never during a failover. Scaling changes `replicas` only, not
the template, so it makes no revision and restarts nobody.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from req1_operator import failover

IDLE, WAIT, DELETE, SWITCHOVER = "Idle", "Wait", "Delete", "Switchover"


@dataclass(frozen=True)
class Pod:
    """One pod of the StatefulSet as the roll sees it."""

    name: str
    ordinal: int
    revision: str  # its `controller-revision-hash` label
    uid: str = ""
    healthy: bool = False  # a healthy primary or a ready, streaming replica (failover.healthy_*)
    role: str = "unknown"  # what its manager reports
    timeline: int = 0
    lsn: int = 0
    terminating: bool = False
    legacy: bool = False  # a pod of the two-StatefulSet layout the new StatefulSet adopted


@dataclass(frozen=True)
class RollObservation:
    pods: Sequence[Pod]
    update_revision: str | None  # the StatefulSet's status.updateRevision; None when not known yet
    settled: bool  # status.observedGeneration has caught up with metadata.generation
    size: int  # spec.replicas of the StatefulSet
    target: str | None  # status.targetPrimary
    primary_healthy: bool  # the failover decision keeps the target (no failover, no switchover under way)
    requested: str | None = None  # spec.postgres.primary: preferred when it is fit for the switchover


@dataclass(frozen=True)
class Step:
    action: str
    pod: str | None = None
    uid: str = ""  # the pod's uid, a precondition of the delete (never a recreated pod of the same name)
    reason: str = ""


def plan(obs: RollObservation) -> Step:
    """The next step of the roll, and why."""
    upd = obs.update_revision
    if upd is None or not obs.settled:
        return Step(WAIT, reason="the StatefulSet controller has not seen the latest template yet")
    legacy = [p for p in obs.pods if p.legacy and not p.terminating]
    if legacy:
        p = legacy[0]
        return Step(DELETE, p.name, p.uid, f"{p.name} is a pod of the two-StatefulSet layout")
    outdated = [p for p in obs.pods if p.revision != upd]
    if not outdated:
        return Step(IDLE, reason=f"all members run revision {upd}")
    if any(p.terminating for p in obs.pods) or len(obs.pods) < obs.size:
        return Step(WAIT, reason="a member is being replaced")
    broken = [p.name for p in obs.pods if p.revision == upd and not p.healthy]
    if broken:
        return Step(WAIT, reason=f"{', '.join(broken)} on the new revision is not ready yet")
    if obs.target is None:
        return Step(WAIT, reason="no primary chosen yet")
    alone = len(obs.pods) == 1
    if not obs.primary_healthy and not alone:
        return Step(WAIT, reason=f"primary {obs.target} is not healthy: no roll during a failover")
    replicas = [p for p in outdated if p.name != obs.target]
    if replicas:
        return _next_replica(replicas)
    fit = [p for p in obs.pods if p.name != obs.target and p.healthy and p.role == "replica"]
    if fit:
        best = sorted(fit, key=lambda p: (-p.timeline, -p.lsn, p.name != obs.requested, p.ordinal))[0]
        return Step(
            SWITCHOVER,
            best.name,
            best.uid,
            f"every replica runs revision {upd}: switching over to {best.name} before {obs.target} restarts",
        )
    primary = next((p for p in obs.pods if p.name == obs.target), None)
    if alone and primary is not None:
        return Step(
            DELETE,
            primary.name,
            primary.uid,
            f"{primary.name} is the only member: restarting it pauses writes until it is back",
        )
    return Step(WAIT, reason=f"no healthy replica to switch over to from {obs.target}")


def _next_replica(replicas: Sequence[Pod]) -> Step:
    """Healthy replicas first, highest ordinal first (as a StatefulSet would); an unhealthy one only when its
    manager is not in the middle of a bootstrap, clone or rewind ("starting"), which a restart would only repeat."""
    ready = sorted((p for p in replicas if p.healthy), key=lambda p: -p.ordinal)
    stuck = sorted((p for p in replicas if not p.healthy and p.role != "starting"), key=lambda p: -p.ordinal)
    for p in (*ready, *stuck):
        state = "streaming" if p.healthy else f"not ready ({p.role})"
        return Step(DELETE, p.name, p.uid, f"replica {p.name} ({state}) restarts on the new revision")
    names = ", ".join(p.name for p in replicas)
    return Step(WAIT, reason=f"waiting for {names} to finish starting before it restarts")


def requested_primary(requested: str | None, pods: Sequence[Pod], update_revision: str | None) -> str | None:
    """spec.postgres.primary as the failover decision should see it while a roll runs: never a pod still on the
    old revision (a pinned primary would otherwise be switched back to before its own restart). Once the pinned
    pod runs the new revision the pin applies again."""
    if requested is None or update_revision is None:
        return requested
    pinned = next((p for p in pods if p.name == requested), None)
    if pinned is not None and pinned.revision != update_revision:
        return None
    return requested


def decide(seen: failover.Observation, roll: RollObservation) -> tuple[failover.Decision, Step]:
    """The failover decision and the roll's next step together: the decision comes first (a failover or a
    requested switchover always wins); only while it keeps a healthy primary may the roll delete a pod or turn the
    decision into its own switchover."""
    seen = replace(seen, requested=requested_primary(seen.requested, roll.pods, roll.update_revision))
    decision = failover.decide(seen)
    step = plan(replace(roll, primary_healthy=decision.action == failover.KEEP))
    if step.action == SWITCHOVER and decision.action == failover.KEEP:
        decision = failover.decide(replace(seen, requested=step.pod))
        if decision.action != failover.SWITCHOVER:
            return decision, Step(WAIT, reason=f"{step.pod} is not fit for the switchover yet")
        decision = replace(decision, reason=f"rolling update: {step.reason}")
    return decision, step
