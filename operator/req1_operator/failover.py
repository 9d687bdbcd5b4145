"""Which pod should be the PostgreSQL primary: a pure function of what the operator observes.

The operator writes its answer to `status.targetPrimary`; each pod's instance manager acts on it. Two rules keep
it safe, in the style of Patroni's leader key: the most advanced replica wins, and a replica is only named after
the old primary's Lease has lapsed (its manager fences itself before that) or the old pod is proven gone. The
managers enforce the Lease again on their side, so even a wrong decision here cannot make two writable primaries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

#: A promotion the operator asked for that has not happened after this long is given up for another candidate.
PROMOTION_TIMEOUT = 30.0
#: Slack for clock skew between the managers (who write renewTime) and the operator (who reads it).
CLOCK_SLACK = 1.0
#: A candidate that still reports `streaming` has not noticed the failure yet, and the position it reported may be
#: up to 5 s old (a manager writes LSN-only changes at most every 5 s). Its report is rewritten at once, final
#: position included, when its walreceiver stops, so a failover waits for that, at most this long after the failure
#: was first seen (wal_receiver_timeout is 5 s). Ranking on a stale position can promote a replica that lacks WAL
#: another one has: that one then cannot follow (a rewind, seconds of `required` writes waiting) and, in `required`
#: mode, an acknowledged commit could be lost.
POSITION_WAIT = 5.0

KEEP, BOOTSTRAP, FAILOVER, SWITCHOVER, WAIT = "Keep", "Bootstrap", "Failover", "Switchover", "Wait"


@dataclass(frozen=True)
class Report:
    """A pod's `req1.io/instance-status` annotation (docs/postgres-ha.md)."""

    role: str = "unknown"
    timeline: int = 0
    lsn: int = 0
    ready: bool = False
    streaming: bool = False
    system_identifier: str = ""
    message: str = ""
    synchronous: str = ""  # a primary's commits: off|sync|async|waiting


@dataclass(frozen=True)
class Member:
    """One PostgreSQL pod as observed: the Pod object's state plus its manager's report."""

    name: str
    ordinal: int
    report: Report = field(default_factory=Report)
    pod_ready: bool = False
    terminating: bool = False
    node_ready: bool | None = None  # None: not looked at
    #: When its PostgreSQL container last terminated, if the kubelet is holding it off (waiting, e.g. back-off):
    #: every process of the pod that could hold the Lease is then dead.
    stopped_at: float | None = None


@dataclass(frozen=True)
class LeaseView:
    """The primary Lease: who holds it and until when (seconds since the epoch, by the holder's clock)."""

    holder: str | None
    expires_at: float | None
    renewed_at: float | None = None


@dataclass(frozen=True)
class Observation:
    members: Sequence[Member]
    target: str | None  # status.targetPrimary
    requested: str | None = None  # spec.postgres.primary (switchover request)
    lease: LeaseView | None = None  # None: not observed yet (never treated as lapsed)
    failing_since: float | None = None  # when the target was first seen unhealthy
    promoting_since: float | None = None  # when the operator last named a new target that is not primary yet
    now: float = 0.0
    first_pod: str = ""  # `<name>-postgres-0`, the bootstrap primary


@dataclass(frozen=True)
class Decision:
    action: str
    target: str | None
    reason: str
    failing_since: float | None = None
    recheck_at: float | None = None  # when the same observation may decide differently (a Lease lapses)
    release_lease: bool = False  # free the dead holder's Lease first (with its resourceVersion as precondition)

    @property
    def changes_target(self) -> bool:
        return self.action in (BOOTSTRAP, FAILOVER, SWITCHOVER)


def healthy_primary(m: Member) -> bool:
    return m.report.role == "primary" and m.report.ready and m.pod_ready and not m.terminating


def healthy_replica(m: Member) -> bool:
    """Streaming and ready: fit to take over by a planned switchover."""
    return m.report.role == "replica" and m.report.streaming and m.report.ready and m.pod_ready and not m.terminating


def candidate(m: Member, system_identifier: str) -> bool:
    """Fit to be promoted after a failure: a replica of this cluster on a live node.

    Streaming is not required: every replica stops streaming when its primary dies, and its readiness with it.
    """
    if m.terminating or m.node_ready is False or m.report.role != "replica":
        return False
    return not system_identifier or m.report.system_identifier in ("", system_identifier)


def rank(members: Sequence[Member], requested: str | None) -> list[Member]:
    """Most advanced first: timeline, then received WAL position; the requested pod, then the lowest ordinal, break
    ties."""
    return sorted(members, key=lambda m: (-m.report.timeline, -m.report.lsn, m.name != requested, m.ordinal))


def lease_lapsed(lease: LeaseView | None, holder: str, now: float) -> bool:
    """True when `holder` can no longer be accepting writes by the Lease: free, someone else's, or expired."""
    if lease is None:
        return False
    if lease.holder != holder:
        return True
    return lease.expires_at is not None and now > lease.expires_at + CLOCK_SLACK


def holder_dead(lease: LeaseView | None, m: Member | None) -> bool:
    """The Lease was last written by a container that has died since, and none of the pod runs now.

    Kubelet timestamps have whole seconds, so the renewal may fall in the second of the death; a new incarnation
    cannot start, import and take the Lease within that same second (and a back-off holds it off for 10 s more).
    The release is sent with the Lease's resourceVersion, so a renewal in between makes it fail harmlessly.
    """
    if lease is None or m is None or m.stopped_at is None or lease.holder != m.name or lease.renewed_at is None:
        return False
    return lease.renewed_at < m.stopped_at + 1.0


def _gone(m: Member | None) -> bool:
    """The pod is proven not running PostgreSQL: deleted, or terminating on a node that is NotReady."""
    return m is None or (m.terminating and m.node_ready is False)


def decide(obs: Observation) -> Decision:
    """The next `targetPrimary`, and why."""
    by_name = {m.name: m for m in obs.members}
    now = obs.now
    if obs.target is None:
        reporting = [m for m in obs.members if m.report.role == "primary" and not m.terminating]
        if reporting:  # status lost (restored object, new operator): adopt the primary that runs
            return Decision(BOOTSTRAP, reporting[0].name, f"{reporting[0].name} already runs as primary")
        return Decision(BOOTSTRAP, obs.first_pod, f"new cluster: {obs.first_pod} bootstraps the primary")

    current = by_name.get(obs.target)
    lapsed = lease_lapsed(obs.lease, obs.target, now)
    if current is not None and healthy_primary(current) and not lapsed:
        req = by_name.get(obs.requested) if obs.requested else None
        if req is not None and req.name != obs.target and healthy_replica(req):
            return Decision(SWITCHOVER, req.name, f"switchover requested by spec.postgres.primary: {req.name}")
        recheck = obs.lease.expires_at + CLOCK_SLACK + 0.5 if obs.lease and obs.lease.expires_at else None
        return Decision(KEEP, obs.target, f"{obs.target} is primary", recheck_at=recheck)

    failing_since = obs.failing_since if obs.failing_since is not None else now
    why = _why_unhealthy(current, lapsed, obs.target)
    # A replica just named (failover, switchover) promotes once the old Lease is free: give it time.
    if (
        current is not None
        and current.report.role in ("replica", "starting")
        and not current.terminating
        and obs.promoting_since is not None
        and now - obs.promoting_since < PROMOTION_TIMEOUT
    ):
        return Decision(WAIT, obs.target, f"{obs.target} is being promoted", failing_since,
                        recheck_at=obs.promoting_since + PROMOTION_TIMEOUT)
    sysid = next((m.report.system_identifier for m in obs.members if m.name == obs.target), "")
    if not sysid:
        sysid = next((m.report.system_identifier for m in obs.members if m.report.system_identifier), "")
    pool = [m for m in obs.members if m.name != obs.target and candidate(m, sysid)]
    if not pool:
        return Decision(WAIT, obs.target, f"{why}; no replica to promote", failing_since)
    release = not lapsed and holder_dead(obs.lease, current)
    if not (lapsed or release or _gone(current)):
        until = obs.lease.expires_at + CLOCK_SLACK + 0.2 if obs.lease and obs.lease.expires_at else None
        return Decision(WAIT, obs.target, f"{why}; waiting for its Lease to lapse", failing_since, recheck_at=until)
    unsettled = [m.name for m in pool if m.report.streaming]
    if unsettled and now - failing_since < POSITION_WAIT:
        return Decision(WAIT, obs.target, f"{why}; waiting for {', '.join(unsettled)} to report a final position",
                        failing_since, recheck_at=failing_since + POSITION_WAIT)  # fmt: skip
    best = rank(pool, obs.requested)[0]
    if release:
        why += " (its container died after its last Lease renewal)"
    return Decision(FAILOVER, best.name, f"{why}; {best.name} is the most advanced replica", failing_since,
                    release_lease=release)


def _why_unhealthy(m: Member | None, lapsed: bool, name: str) -> str:
    if m is None:
        return f"primary {name} is gone"
    if m.terminating:
        return f"primary {name} is terminating" + (" on a NotReady node" if m.node_ready is False else "")
    if lapsed:
        return f"primary {name} lost its Lease"
    if m.report.role != "primary":
        return f"primary {name} reports {m.report.role}"
    return f"primary {name} is not ready"


def lsn_value(text: str) -> int:
    """`16/B374D848` → the 64-bit WAL position (0 for anything unparseable)."""
    hi, sep, lo = text.partition("/")
    try:
        return (int(hi, 16) << 32) + int(lo, 16) if sep else 0
    except ValueError:
        return 0
