"""The failover decision, table-driven: observed members, Lease and target in, the next targetPrimary out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from req1_operator.failover import (
    BOOTSTRAP,
    FAILOVER,
    KEEP,
    POSITION_WAIT,
    PROMOTION_TIMEOUT,
    SWITCHOVER,
    WAIT,
    LeaseView,
    Member,
    Observation,
    Report,
    decide,
    lsn_value,
)

NOW = 1_000_000.0
SYSID = "7714906048801273602"


def primary(name: str, ordinal: int, **kw: object) -> Member:
    rep = Report(role="primary", timeline=1, lsn=900, ready=True, system_identifier=SYSID)
    return Member(name, ordinal, replace(rep, **kw), pod_ready=True)  # type: ignore[arg-type]


def replica(name: str, ordinal: int, lsn: int = 800, **kw: object) -> Member:
    rep = Report(role="replica", timeline=1, lsn=lsn, ready=True, streaming=True, system_identifier=SYSID)
    return Member(name, ordinal, replace(rep, **kw), pod_ready=True)  # type: ignore[arg-type]


def dead(m: Member) -> Member:
    """What the operator sees after the pod's processes were killed: its probe fails, its report is stale."""
    return replace(m, pod_ready=False)


def orphaned(m: Member) -> Member:
    """A replica whose primary died: it stops streaming, and its readiness with it."""
    return replace(m, pod_ready=False, report=replace(m.report, streaming=False, ready=False))


LIVE = LeaseView("db-0", NOW + 5)
LAPSED = LeaseView("db-0", NOW - 3)
FREE = LeaseView(None, None)
P0, R1, R2 = primary("db-0", 0), replica("db-1", 1, lsn=800), replica("db-2", 2, lsn=850)


def obs(
    members: list[Member], target: str | None = "db-0", lease: LeaseView | None = LIVE, **kw: object
) -> Observation:
    return Observation(members=members, target=target, lease=lease, now=NOW, first_pod="db-0", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("case", "observation", "action", "target"),
    [
        ("new cluster: ordinal 0 bootstraps", obs([Member("db-0", 0)], target=None, lease=None), BOOTSTRAP, "db-0"),
        ("status lost: adopt the running primary", obs([R1, primary("db-2", 2)], target=None), BOOTSTRAP, "db-2"),
        ("healthy primary stays", obs([P0, R1, R2]), KEEP, "db-0"),
        ("unknown Lease is never lapsed", obs([dead(P0), orphaned(R1)], lease=None), WAIT, "db-0"),
        ("killed primary, Lease still live: wait", obs([dead(P0), orphaned(R1), orphaned(R2)]), WAIT, "db-0"),
        ("killed primary, Lease lapsed: most advanced wins",
         obs([dead(P0), orphaned(R1), orphaned(R2)], lease=LAPSED), FAILOVER, "db-2"),
        ("released Lease counts as lapsed", obs([dead(P0), orphaned(R1)], lease=FREE), FAILOVER, "db-1"),
        ("restarted in place and primary again", obs([P0, orphaned(R1)], lease=LIVE), KEEP, "db-0"),
        ("looks healthy but its Lease lapsed (node gone, stale pod status)",
         obs([P0, orphaned(R1)], lease=LAPSED), FAILOVER, "db-1"),
        ("pod deleted: proven gone, no need to wait", obs([orphaned(R1)], lease=LIVE), FAILOVER, "db-1"),
        ("terminating on a NotReady node: proven gone",
         obs([replace(P0, terminating=True, node_ready=False), orphaned(R1)]), FAILOVER, "db-1"),
        ("terminating on a Ready node: it may still write, wait",
         obs([replace(P0, terminating=True, node_ready=True), orphaned(R1)]), WAIT, "db-0"),
        ("no replica at all", obs([dead(P0)], lease=LAPSED), WAIT, "db-0"),
        ("replica on a NotReady node is no candidate",
         obs([dead(P0), replace(orphaned(R1), node_ready=False)], lease=LAPSED), WAIT, "db-0"),
        ("a clone of another cluster is no candidate",
         obs([dead(P0), replace(R1, report=replace(R1.report, system_identifier="1"))], lease=LAPSED), WAIT, "db-0"),
        ("a starting pod is no candidate", obs([dead(P0), Member("db-1", 1)], lease=LAPSED), WAIT, "db-0"),
        ("higher timeline beats higher LSN",
         obs([dead(P0), orphaned(replica("db-1", 1, lsn=10, timeline=2)), orphaned(replica("db-2", 2, lsn=99))],
             lease=LAPSED), FAILOVER, "db-1"),
        ("equal LSN: the requested pod, then the lowest ordinal",
         obs([dead(P0), orphaned(replica("db-1", 1, lsn=5)), orphaned(replica("db-2", 2, lsn=5))], lease=LAPSED,
             requested="db-2"), FAILOVER, "db-2"),
        ("a candidate still streaming has not reported its final position: wait",
         obs([dead(P0), orphaned(R1), R2], lease=LAPSED), WAIT, "db-0"),
        ("... but not for longer than POSITION_WAIT after the failure was seen",
         obs([dead(P0), orphaned(R1), R2], lease=LAPSED, failing_since=NOW - POSITION_WAIT), FAILOVER, "db-2"),
        ("... nor on proof of death (the Lease released) while one still streams",
         obs([replace(dead(P0), stopped_at=NOW - 2), R1], lease=LeaseView("db-0", NOW + 6, NOW - 4)),
         WAIT, "db-0"),
        ("switchover to a streaming replica", obs([P0, R1], requested="db-1"), SWITCHOVER, "db-1"),
        ("switchover waits for the replica to stream", obs([P0, orphaned(R1)], requested="db-1"), KEEP, "db-0"),
        ("switchover request naming the primary: nothing to do", obs([P0, R1], requested="db-0"), KEEP, "db-0"),
        ("switchover request naming no member", obs([P0, R1], requested="db-7"), KEEP, "db-0"),
        ("named replica promoting: wait for it, even though the Lease is someone else's",
         obs([replace(dead(P0), report=replace(P0.report, role="replica")), R1], target="db-1",
             lease=LeaseView("db-0", NOW + 4), promoting_since=NOW - 3), WAIT, "db-1"),
        ("named replica never promoted: another candidate",
         obs([replace(R1, pod_ready=False), replica("db-2", 2, lsn=700)], target="db-1", lease=FREE,
             promoting_since=NOW - PROMOTION_TIMEOUT - 1, failing_since=NOW - PROMOTION_TIMEOUT - 1),
         FAILOVER, "db-2"),
        ("container dead (back-off) after its last renewal: release the Lease, fail over now",
         obs([replace(dead(P0), stopped_at=NOW - 2), orphaned(R1)], lease=LeaseView("db-0", NOW + 6, NOW - 4)),
         FAILOVER, "db-1"),
        ("renewed after the container's death: a new incarnation runs, wait",
         obs([replace(dead(P0), stopped_at=NOW - 5), orphaned(R1)], lease=LeaseView("db-0", NOW + 8, NOW - 2)),
         WAIT, "db-0"),
        ("fenced primary, its Lease lapsed", obs([replace(dead(P0), report=replace(P0.report, role="fenced")),
                                                 orphaned(R1)], lease=LAPSED), FAILOVER, "db-1"),
    ],
)
def test_decide(case: str, observation: Observation, action: str, target: str) -> None:
    got = decide(observation)
    assert (got.action, got.target) == (action, target), f"{case}: {got.reason}"


def test_lease_released_only_for_a_dead_holder() -> None:
    dying = replace(dead(P0), stopped_at=NOW - 2)
    got = decide(obs([dying, orphaned(R1)], lease=LeaseView("db-0", NOW + 6, NOW - 2.5)))
    assert got.release_lease and got.target == "db-1"
    # renewal in the second of the death (kubelet times have whole seconds) still counts as before it
    assert decide(obs([replace(dead(P0), stopped_at=NOW - 2), orphaned(R1)],
                      lease=LeaseView("db-0", NOW + 8, NOW - 1.5))).release_lease
    assert not decide(obs([dead(P0), orphaned(R1)], lease=LeaseView("db-0", NOW + 6, NOW - 4))).release_lease
    assert not decide(obs([dead(P0), orphaned(R1)], lease=LAPSED)).release_lease  # nothing to release


def test_failing_since_is_kept_and_lease_expiry_is_the_recheck() -> None:
    first = decide(obs([dead(P0), orphaned(R1)]))
    assert first.failing_since == NOW and first.recheck_at is not None and first.recheck_at > LIVE.expires_at  # type: ignore[operator]
    later = decide(obs([dead(P0), orphaned(R1)], failing_since=NOW - 7))
    assert later.failing_since == NOW - 7
    assert decide(obs([P0, R1])).failing_since is None


def test_lsn_value() -> None:
    assert lsn_value("0/5000BB0") == 0x5000BB0
    assert lsn_value("16/B374D848") == (0x16 << 32) + 0xB374D848
    assert lsn_value("") == 0 and lsn_value("x/y") == 0
