"""Rolling a PostgreSQL change replica-first, table-driven: observed pods and revisions in, the next step out."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from req1_operator import failover, rolling
from req1_operator.ha_observe import roll_pods, statefulset_revision
from req1_operator.kube.observe import from_bodies
from req1_operator.rolling import DELETE, IDLE, SWITCHOVER, WAIT, Pod, RollObservation, plan

OLD, NEW = "db-5c9f", "db-7d1a"


def pod(name: str, revision: str = OLD, **kw: Any) -> Pod:
    ordinal = int(name.rsplit("-", 1)[1])
    role = "primary" if ordinal == 0 else "replica"
    base = Pod(name, ordinal, revision, uid=f"uid-{name}", healthy=True, role=role, timeline=1, lsn=800 + ordinal)
    return replace(base, **kw)


def roll(pods: list[Pod], target: str | None = "db-0", **kw: Any) -> RollObservation:
    base = RollObservation(pods, update_revision=NEW, settled=True, size=len(pods), target=target,
                           primary_healthy=True)  # fmt: skip
    return replace(base, **kw)


P0, R1, R2 = pod("db-0"), pod("db-1"), pod("db-2")


@pytest.mark.parametrize(
    ("case", "observation", "action", "pod_name"),
    [
        ("nothing changed", roll([P0, R1, R2], update_revision=OLD), IDLE, None),
        ("everyone updated", roll([pod("db-0", NEW), pod("db-1", NEW)]), IDLE, None),
        ("controller behind the template", roll([P0, R1, R2], settled=False), WAIT, None),
        ("revision not known yet", roll([P0, R1, R2], update_revision=None), WAIT, None),
        ("replicas first, highest ordinal first", roll([P0, R1, R2]), DELETE, "db-2"),
        ("then the next replica", roll([P0, R1, pod("db-2", NEW)]), DELETE, "db-1"),
        ("the primary is never first, wherever it is", roll([P0, R1, R2], target="db-2"), DELETE, "db-1"),
        ("wait while a pod is replaced", roll([P0, R1, replace(R2, terminating=True)]), WAIT, None),
        ("wait while a pod is missing", roll([P0, R1], size=3), WAIT, None),
        ("an updated replica not ready stops the roll",
         roll([P0, R1, pod("db-2", NEW, healthy=False, role="starting")]), WAIT, None),
        ("a broken new revision stops at the first replica",
         roll([P0, R1, pod("db-2", NEW, healthy=False, role="failed")]), WAIT, None),
        ("no roll during a failover", roll([P0, R1, R2], primary_healthy=False), WAIT, None),
        ("healthy replicas before broken ones",
         roll([P0, replace(R1, healthy=False, role="failed"), R2]), DELETE, "db-2"),
        ("a broken old replica is restarted onto the new revision",
         roll([P0, replace(R1, healthy=False, role="failed"), pod("db-2", NEW)]), DELETE, "db-1"),
        ("a replica still cloning or rewinding is not interrupted",
         roll([P0, replace(R1, healthy=False, role="starting"), pod("db-2", NEW)]), WAIT, None),
        ("all replicas updated: one switchover, to the most advanced",
         roll([P0, pod("db-1", NEW, lsn=900), pod("db-2", NEW, lsn=850)]), SWITCHOVER, "db-1"),
        ("switchover prefers the requested pod on a tie",
         roll([P0, pod("db-1", NEW), pod("db-2", NEW, lsn=801)], requested="db-2"), SWITCHOVER, "db-2"),
        ("after the switchover the old primary restarts as a replica",
         roll([pod("db-0", role="replica"), pod("db-1", NEW, role="primary"), pod("db-2", NEW)], target="db-1"),
         DELETE, "db-0"),
        ("a single member: the primary itself restarts", roll([P0]), DELETE, "db-0"),
        ("a single broken member is restarted too", roll([replace(P0, healthy=False)], primary_healthy=False),
         DELETE, "db-0"),
        ("adopted pod of the legacy layout goes first", roll([replace(P0, legacy=True), R1]), DELETE, "db-0"),
        ("no target yet", roll([P0, R1], target=None), WAIT, None),
    ],
)
def test_plan(case: str, observation: RollObservation, action: str, pod_name: str | None) -> None:
    step = plan(observation)
    assert (step.action, step.pod) == (action, pod_name), f"{case}: {step.reason}"
    if step.action == DELETE:
        assert step.uid == f"uid-{pod_name}"  # the delete's precondition: never a recreated pod of that name


def test_requested_primary_is_suspended_while_it_runs_the_old_revision() -> None:
    pods = [P0, pod("db-1", NEW)]
    assert rolling.requested_primary("db-0", pods, NEW) is None  # pinned but outdated: no switching back yet
    assert rolling.requested_primary("db-1", pods, NEW) == "db-1"
    assert rolling.requested_primary("db-0", pods, OLD) == "db-0"
    assert rolling.requested_primary(None, pods, NEW) is None


SYSID = "7714906048801273602"


def member(name: str, role: str, lsn: int) -> failover.Member:
    rep = failover.Report(role=role, timeline=1, lsn=lsn, ready=True, streaming=role == "replica",
                          system_identifier=SYSID)  # fmt: skip
    return failover.Member(name, int(name[-1]), rep, pod_ready=True)


def seen(members: list[failover.Member], target: str = "db-0", requested: str | None = None) -> failover.Observation:
    lease = failover.LeaseView(target, 1_000_005.0)
    return failover.Observation(members, target, requested, lease, now=1_000_000.0, first_pod="db-0")


def test_decide_turns_the_last_step_into_one_switchover() -> None:
    members = [member("db-0", "primary", 900), member("db-1", "replica", 900), member("db-2", "replica", 850)]
    pods = [P0, pod("db-1", NEW, lsn=900), pod("db-2", NEW, lsn=850)]
    decision, step = rolling.decide(seen(members), roll(pods))
    assert (decision.action, decision.target) == (failover.SWITCHOVER, "db-1")
    assert decision.reason.startswith("rolling update:")
    assert step.action == SWITCHOVER


def test_decide_lets_a_failover_win_over_the_roll() -> None:
    members = [member("db-0", "primary", 900), member("db-1", "replica", 900), member("db-2", "replica", 850)]
    lapsed = replace(seen(members), lease=failover.LeaseView("db-0", 1_000_000.0 - 5), failing_since=1_000_000.0 - 6)
    decision, step = rolling.decide(lapsed, roll([P0, R1, R2]))
    assert decision.action == failover.FAILOVER
    assert step.action == WAIT  # no pod deleted while the primary is being replaced


def test_decide_does_not_switch_back_to_a_pinned_primary_before_its_restart() -> None:
    # spec.postgres.primary pins db-0; the roll switched over to db-1; db-0 now streams on the old revision.
    members = [member("db-0", "replica", 900), member("db-1", "primary", 950), member("db-2", "replica", 950)]
    pods = [pod("db-0", role="replica"), pod("db-1", NEW, role="primary"), pod("db-2", NEW)]
    decision, step = rolling.decide(seen(members, target="db-1", requested="db-0"), roll(pods, target="db-1"))
    assert (decision.action, decision.target) == (failover.KEEP, "db-1")
    assert (step.action, step.pod) == (DELETE, "db-0")
    # Once db-0 runs the new revision the pin applies again: the requested switchover back.
    pods = [pod("db-0", NEW, role="replica"), pod("db-1", NEW, role="primary"), pod("db-2", NEW)]
    decision, step = rolling.decide(seen(members, target="db-1", requested="db-0"), roll(pods, target="db-1"))
    assert (decision.action, decision.target, step.action) == (failover.SWITCHOVER, "db-0", IDLE)


def _sts(generation: int = 2, observed_generation: int = 2, legacy: bool = False) -> dict[str, Any]:
    sel = {"app.kubernetes.io/component": "postgres", **({"req1.io/set": "primary"} if legacy else {})}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "demo-postgres", "uid": "sts-uid", "generation": generation},
            "spec": {"replicas": 2, "selector": {"matchLabels": sel}},
            "status": {"observedGeneration": observed_generation, "updateRevision": "demo-postgres-7d1a"}}  # fmt: skip


def _pod(ordinal: int, revision: str, *, legacy: bool = False, owner: str = "sts-uid") -> dict[str, Any]:
    labels = {"app.kubernetes.io/component": "postgres", "controller-revision-hash": revision}
    if legacy:
        labels["req1.io/set"] = "primary"
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"demo-postgres-{ordinal}", "uid": f"u{ordinal}", "labels": labels,
                         "ownerReferences": [{"kind": "StatefulSet", "uid": owner, "controller": True}]}}  # fmt: skip


def test_revisions_are_read_from_the_statefulset_and_the_pods() -> None:
    observed = from_bodies([_sts()], [_pod(0, "demo-postgres-5c9f"), _pod(1, "demo-postgres-7d1a")])
    assert statefulset_revision(observed, "demo") == ("demo-postgres-7d1a", True, 2)
    pods = roll_pods(observed, "demo", [])
    assert [(p.name, p.revision, p.uid, p.healthy) for p in pods] == [
        ("demo-postgres-0", "demo-postgres-5c9f", "u0", False),
        ("demo-postgres-1", "demo-postgres-7d1a", "u1", False),
    ]
    assert statefulset_revision(from_bodies([_sts(3, 2)]), "demo")[1] is False  # controller behind the spec
    assert statefulset_revision(from_bodies([_sts(legacy=True)]), "demo")[0] is None  # before the migration


def test_legacy_pods_count_only_once_the_new_statefulset_controls_them() -> None:
    adopted = from_bodies([_sts()], [_pod(0, "old", legacy=True)])
    assert [p.legacy for p in roll_pods(adopted, "demo", [])] == [True]
    still_old = from_bodies([_sts()], [_pod(0, "old", legacy=True, owner="legacy-uid")])
    assert roll_pods(still_old, "demo", []) == []
