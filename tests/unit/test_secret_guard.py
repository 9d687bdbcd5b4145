"""Table tests of the rule that keeps generated Secrets from drifting from the data they protect."""

from __future__ import annotations

from typing import Any

import pytest

from req1_operator import secret_guard
from req1_operator.kube.observe import from_bodies

PG = ["req1-postgres-app", "req1-postgres-superuser"]


@pytest.mark.parametrize(
    ("rendered", "initialized", "create", "withhold", "ok"),
    [
        ([], False, (), (), True),  # everything present, fresh instance
        ([], True, (), (), True),  # everything present, data exists
        (PG, False, tuple(PG), (), True),  # first pass: create them
        (PG, True, (), tuple(PG), False),  # lost after the data exists: never regenerate
        (list(reversed(PG)), True, (), tuple(PG), False),  # order does not matter
    ],
)
def test_decide(rendered: list[str], initialized: bool, create: tuple[str, ...], withhold: tuple[str, ...],
                ok: bool) -> None:
    d = secret_guard.decide(rendered, initialized, "req1")
    assert (d.create, d.withhold, d.ok) == (create, withhold, ok)
    assert d.reason == (secret_guard.REASON_OK if ok else secret_guard.REASON_MISSING)
    if not ok:
        assert all(n in d.message for n in PG)
        assert "backup" in d.message and "kubectl label secret" in d.message


def _pvc(component: str) -> dict[str, Any]:
    return {"kind": "PersistentVolumeClaim", "metadata": {"name": f"data-x-{component}-0",
                                                          "labels": {"app.kubernetes.io/component": component}}}


@pytest.mark.parametrize(
    ("bodies", "previous", "expected"),
    [
        ([], {}, False),
        ([_pvc("redis")], {}, False),  # only a PostgreSQL claim holds the data the passwords protect
        ([_pvc("postgres")], {}, True),
        ([], {"primary": "req1-postgres-0"}, True),  # claim gone from the cache, but a primary existed
        ([], {"targetPrimary": "req1-postgres-1"}, True),
        ([], {"postgres": {"timeline": 2}}, True),
        ([], {"phase": "Provisioning", "postgres": {}}, False),
    ],
)
def test_initialized(bodies: list[dict[str, Any]], previous: dict[str, Any], expected: bool) -> None:
    assert secret_guard.initialized(from_bodies(bodies), previous) is expected


def test_a_claim_retained_from_an_earlier_instance_does_not_count() -> None:
    old, new = _pvc("postgres"), _pvc("postgres")
    old["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z"
    new["metadata"]["creationTimestamp"] = "2026-03-01T00:00:00Z"
    created = "2026-02-01T00:00:00Z"
    assert secret_guard.initialized(from_bodies([old]), {}, created) is False
    assert secret_guard.initialized(from_bodies([new]), {}, created) is True
    assert secret_guard.initialized(from_bodies([old]), {"primary": "x-postgres-0"}, created) is True


def test_condition_keeps_transition_time_and_event_only_on_change() -> None:
    missing = secret_guard.decide(PG, True, "req1")
    first = secret_guard.condition(missing, {}, 3, "T1")
    assert (first["status"], first["reason"], first["lastTransitionTime"]) == ("False", "SecretMissing", "T1")
    prev = {"conditions": [first]}
    assert secret_guard.condition(missing, prev, 3, "T2")["lastTransitionTime"] == "T1"
    assert secret_guard.needs_event(missing, {}) is True
    assert secret_guard.needs_event(missing, prev) is False  # same set still missing: no repeated Event
    other = secret_guard.decide(PG[:1], True, "req1")
    assert secret_guard.needs_event(other, prev) is True
    back = secret_guard.decide([], True, "req1")
    cleared = secret_guard.condition(back, prev, 3, "T3")
    assert (cleared["status"], cleared["lastTransitionTime"]) == ("True", "T3")
    assert secret_guard.needs_event(back, prev) is False
