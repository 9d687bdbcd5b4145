"""Test management (extended contract §5) on the real PostgreSQL and Redis: test cases and executions route by
route with every validation message, requirement_ids checked against the module's live objects, executions
cascading with their case, roles, audit entries, and coverage and dashboard figures computed here by hand."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
import pytest
from conftest import ADMIN_PASSWORD  # at import time: a later "conftest" may be another directory's
from domain_api import Api

TYPES = "manual, automated, exploratory"
PRIORITIES = "critical, high, medium, low"
CASE_STATUSES = "draft, ready, deprecated"
EXECUTION_STATUSES = "passed, failed, blocked, skipped, not_run"


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


async def test_test_cases_route_by_route(api: Api) -> None:
    m = (await api.module())["id"]
    req = await api.obj(m, heading="R1")
    base = f"/modules/{m}/test-cases"
    assert await api.get(base) == []
    first = await api.post(base, {"name": "Brakes engage"})
    assert {k: v for k, v in first.items() if k not in ("id", "created_at", "updated_at")} == {
        "module_id": m, "name": "Brakes engage", "description": None, "preconditions": None, "expected_result": None,
        "test_type": "manual", "priority": "medium", "status": "draft", "requirement_ids": []}
    full = {"name": "Full", "description": "d", "preconditions": "p", "expected_result": "e",
            "test_type": "automated", "priority": "critical", "status": "ready",
            "requirement_ids": [req["id"].upper(), req["id"]]}
    second = await api.post(base, full)
    assert second["requirement_ids"] == [req["id"]]  # canonical, once
    assert (second["test_type"], second["priority"], second["status"]) == ("automated", "critical", "ready")
    assert [c["id"] for c in await api.get(base)] == [second["id"], first["id"]]  # newest first, plain array
    item = f"{base}/{second['id']}"
    assert await api.get(item) == second

    patched = await api.patch(item, {"description": None, "preconditions": None, "name": None, "priority": "low",
                                     "test_type": None, "requirement_ids": []})
    assert patched["description"] is None and patched["preconditions"] is None and patched["expected_result"] == "e"
    assert (patched["name"], patched["priority"], patched["test_type"], patched["requirement_ids"]) == (
        "Full", "low", "automated", [])
    assert patched["updated_at"] > second["updated_at"] and patched["created_at"] == second["created_at"]
    again = await api.patch(item, {"status": "deprecated", "requirement_ids": [req["id"]]})
    assert (again["status"], again["requirement_ids"]) == ("deprecated", [req["id"]])

    await api.delete(item)
    await api.error("GET", item, status=404, message=f"test case {second['id']} not found")
    await api.error("DELETE", item, status=404, message=f"test case {second['id']} not found")
    await api.error("PATCH", item, {"name": "x"}, status=404, message=f"test case {second['id']} not found")
    assert [c["id"] for c in await api.get(base)] == [first["id"]]


async def test_test_case_validation(api: Api) -> None:
    m = (await api.module())["id"]
    other = (await api.module())["id"]
    base = f"/modules/{m}/test-cases"
    case = await api.post(base, {"name": "c"})
    item = f"{base}/{case['id']}"
    foreign = await api.obj(other, heading="elsewhere")
    gone = await api.obj(m, heading="gone")
    await api.delete(f"/modules/{m}/objects/{gone['id']}")
    missing = str(uuid.uuid4())
    for method, path in (("POST", base), ("PATCH", item)):  # long form on create and update alike
        extra = {"name": "n"} if method == "POST" else {}
        cases = [
            ({"test_type": "unit"}, f"invalid test_type 'unit', must be one of: {TYPES}"),
            ({"priority": "urgent"}, f"invalid priority 'urgent', must be one of: {PRIORITIES}"),
            ({"status": "done"}, f"invalid status 'done', must be one of: {CASE_STATUSES}"),
            ({"name": "  "}, "name must not be empty"),
            ({"name": 5}, "field 'name' must be a string"),
            ({"requirement_ids": [missing]}, f"requirement {missing} not found"),
            ({"requirement_ids": [foreign["id"]]}, f"requirement {foreign['id']} not found"),
            ({"requirement_ids": [gone["id"]]}, f"requirement {gone['id']} not found"),
            ({"requirement_ids": ["nope"]}, "field 'requirement_ids' must be an array of UUIDs"),
            ({"requirement_ids": "x"}, "field 'requirement_ids' must be an array"),
            ({"description": 1}, "field 'description' must be a string"),
        ]
        for body, message in cases:
            await api.error(method, path, {**extra, **body}, status=400, message=message)
    await api.error("POST", base, {}, status=400, message="missing required field 'name'")
    await api.error("POST", base, [], status=400, message="request body must be a JSON object")
    assert await api.get(item) == case  # nothing changed
    unknown = str(uuid.uuid4())
    await api.error("GET", f"/modules/{unknown}/test-cases", status=404, message=f"module {unknown} not found")
    await api.error("POST", f"/modules/{unknown}/test-cases", {"name": "x"}, status=404,
                    message=f"module {unknown} not found")
    await api.error("GET", f"/modules/{other}/test-cases/{case['id']}", status=404,  # another module's child
                    message=f"test case {case['id']} not found")
    await api.error("DELETE", f"/modules/{other}/test-cases/{case['id']}", status=404,
                    message=f"test case {case['id']} not found")
    await api.error("GET", f"{base}/abc", status=400, message="invalid UUID 'abc' for parameter 'id'")
    # the core's 501 stub is gone with the feature shipped: test cases live under their module
    await api.error("GET", "/test-cases", status=404, message="no route for GET /api/v1/test-cases")
    await api.error("GET", f"/test-cases/{case['id']}", status=404,
                    message=f"no route for GET /api/v1/test-cases/{case['id']}")


async def test_executions_route_by_route(api: Api, pg_dsn: str) -> None:
    m = (await api.module())["id"]
    case = await api.post(f"/modules/{m}/test-cases", {"name": "c"})
    other_case = await api.post(f"/modules/{m}/test-cases", {"name": "other"})
    base = f"/test-cases/{case['id']}/executions"
    assert await api.get(base) == []
    bare = await api.post(base, {})
    assert {k: v for k, v in bare.items() if k not in ("id", "created_at")} == {
        "test_case_id": case["id"], "status": "not_run", "executor": None, "executed_at": None, "duration_ms": None,
        "evidence": None, "environment": None}
    full = await api.post(base, {"status": "passed", "executor": "ci", "executed_at": "2026-03-01T10:00:00.500Z",
                                 "duration_ms": 1200, "evidence": "log", "environment": "HIL"})
    assert full["executed_at"] == "2026-03-01T10:00:00.500000+00:00"
    assert (full["status"], full["executor"], full["duration_ms"], full["evidence"], full["environment"]) == (
        "passed", "ci", 1200, "log", "HIL")
    shifted = await api.post(base, {"executed_at": "2026-03-01T12:00:00+02:00", "duration_ms": 0})
    assert shifted["executed_at"] == "2026-03-01T10:00:00+00:00" and shifted["duration_ms"] == 0
    assert [e["id"] for e in await api.get(base)] == [shifted["id"], full["id"], bare["id"]]
    item = f"{base}/{full['id']}"
    assert await api.get(item) == full
    patched = await api.patch(item, {"status": "failed", "evidence": None, "executor": None, "status_x": 1})
    assert (patched["status"], patched["evidence"], patched["executor"], patched["environment"]) == (
        "failed", None, None, "HIL")
    assert (await api.patch(item, {"status": None}))["status"] == "failed"  # null ignored on status

    for method, path in (("POST", base), ("PATCH", item)):
        for body, message in [
            ({"status": "ok"}, f"invalid execution status 'ok', must be one of: {EXECUTION_STATUSES}"),
            ({"duration_ms": -1}, "duration_ms must not be negative"),
            ({"duration_ms": 1.5}, "field 'duration_ms' must be an integer"),
            ({"duration_ms": 2**63}, f"duration_ms must be at most {2**63 - 1}"),
            ({"executed_at": "2026-03-01T10:00:00"}, "executed_at must be an ISO 8601 time with a UTC offset"),
            ({"executed_at": "yesterday"}, "executed_at must be an ISO 8601 time with a UTC offset"),
            ({"executed_at": "0001-01-01T00:00:00+14:00"}, "executed_at must be an ISO 8601 time with a UTC offset"),
            ({"executed_at": 5}, "field 'executed_at' must be a string"),
            ({"executor": 5}, "field 'executor' must be a string"),
        ]:
            await api.error(method, path, body, status=400, message=message)
    assert await api.get(item) == {**patched, "status": "failed"}

    # nested: the execution must belong to the case; unknown cases are 404 with the contract's word
    await api.error("GET", f"/test-cases/{other_case['id']}/executions/{full['id']}", status=404,
                    message=f"test execution {full['id']} not found")
    await api.error("PATCH", f"/test-cases/{other_case['id']}/executions/{full['id']}", {"status": "passed"},
                    status=404, message=f"test execution {full['id']} not found")
    unknown = str(uuid.uuid4())
    for method, path in (("GET", f"/test-cases/{unknown}/executions"), ("POST", f"/test-cases/{unknown}/executions"),
                         ("GET", f"/test-cases/{unknown}/executions/{full['id']}")):
        await api.error(method, path, {} if method == "POST" else None, status=404,
                        message=f"test case {unknown} not found")
    await api.delete(f"{base}/{bare['id']}")
    await api.error("GET", f"{base}/{bare['id']}", status=404, message=f"test execution {bare['id']} not found")

    # deleting the case takes its executions
    await api.delete(f"/modules/{m}/test-cases/{case['id']}")
    await api.error("GET", item, status=404, message=f"test case {case['id']} not found")
    conn = await asyncpg.connect(pg_dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM test_execution WHERE test_case_id = $1",
                                   uuid.UUID(case["id"])) == 0
        logged = await conn.fetch("SELECT entity_type, action FROM audit_log WHERE entity_id = $1 ORDER BY id",
                                  uuid.UUID(full["id"]))
        assert [tuple(r) for r in logged] == [("test_execution", "create"), ("test_execution", "update"),
                                              ("test_execution", "delete")]
        assert [r["action"] for r in await conn.fetch("SELECT action FROM audit_log WHERE entity_id = $1 ORDER BY id",
                                                      uuid.UUID(case["id"]))] == ["create", "delete"]
    finally:
        await conn.close()


async def test_roles(api: Api, make_user: Any) -> None:
    m = (await api.module())["id"]
    case = await api.post(f"/modules/{m}/test-cases", {"name": "c"})
    execution = await api.post(f"/test-cases/{case['id']}/executions", {"status": "passed"})
    _, editor = await make_user("editor")
    for role in ("viewer", "reviewer"):
        _, token = await make_user(role)
        assert [c["id"] for c in await api.get(f"/modules/{m}/test-cases", token=token)] == [case["id"]]
        assert (await api.get(f"/test-cases/{case['id']}/executions/{execution['id']}", token=token))["id"] \
            == execution["id"]
        assert (await api.get(f"/modules/{m}/test-dashboard", token=token))["total_test_cases"] == 1
        writes = [("POST", f"/modules/{m}/test-cases", {"name": "x"}),
                  ("PATCH", f"/modules/{m}/test-cases/{case['id']}", {"name": "x"}),
                  ("DELETE", f"/modules/{m}/test-cases/{case['id']}", None),
                  ("POST", f"/test-cases/{case['id']}/executions", {}),
                  ("PATCH", f"/test-cases/{case['id']}/executions/{execution['id']}", {"status": "failed"}),
                  ("DELETE", f"/test-cases/{case['id']}/executions/{execution['id']}", None)]
        for method, path, body in writes:
            await api.error(method, path, body, status=403, token=token, message="insufficient role: requires editor")
    made = await api.post(f"/test-cases/{case['id']}/executions", {"status": "failed"}, token=editor)
    assert made["status"] == "failed"
    assert (await api.patch(f"/modules/{m}/test-cases/{case['id']}", {"name": "ed"}, token=editor))["name"] == "ed"


async def add_execution(conn: asyncpg.Connection, case_id: str, status: str, at: dt.datetime, key: str) -> None:
    """An execution with a chosen (created_at, id), to pin down which one is latest."""
    await conn.execute("INSERT INTO test_execution (id, test_case_id, status, created_at) VALUES ($1, $2, $3, $4)",
                       uuid.UUID(key), uuid.UUID(case_id), status, at)


async def test_coverage_and_dashboard(api: Api, pg_dsn: str) -> None:
    m = (await api.module())["id"]
    empty = await api.get(f"/modules/{m}/test-coverage")
    assert empty == {"total_requirements": 0, "requirements_with_tests": 0, "requirements_with_passing_tests": 0,
                     "test_coverage_pct": 0.0, "pass_coverage_pct": 0.0, "total_test_cases": 0,
                     "by_status": {s: 0 for s in EXECUTION_STATUSES.split(", ")}}
    r1, r2, r3, r4, r5 = [await api.obj(m, heading=f"R{i}") for i in range(1, 6)]
    other = (await api.module())["id"]
    await api.obj(other, heading="not counted")
    base = f"/modules/{m}/test-cases"
    # A covers r1, r2 (latest passed); B covers r2, r3 (latest failed after a pass); C covers r4 (no execution);
    # D covers r5, which is deleted afterwards; E covers nothing (its latest is blocked)
    a = await api.post(base, {"name": "A", "requirement_ids": [r1["id"], r2["id"]], "status": "ready",
                              "priority": "high"})
    b = await api.post(base, {"name": "B", "requirement_ids": [r2["id"], r3["id"]], "status": "ready"})
    c = await api.post(base, {"name": "C", "requirement_ids": [r4["id"]], "priority": "low"})
    d = await api.post(base, {"name": "D", "requirement_ids": [r5["id"]], "status": "deprecated",
                              "priority": "critical"})
    e = await api.post(base, {"name": "E"})
    await api.post(f"/test-cases/{a['id']}/executions", {"status": "failed"})
    latest_a = await api.post(f"/test-cases/{a['id']}/executions", {"status": "passed"})
    await api.post(f"/test-cases/{b['id']}/executions", {"status": "passed"})
    await api.post(f"/test-cases/{b['id']}/executions", {"status": "failed"})
    await api.post(f"/test-cases/{d['id']}/executions", {"status": "passed"})
    conn = await asyncpg.connect(pg_dsn)
    try:
        # E: same created_at, the greater id is the latest; an older execution (an import) does not win
        moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        await add_execution(conn, e["id"], "blocked", moment, "00000000-0000-7000-8000-000000000002")
        await add_execution(conn, e["id"], "passed", moment, "00000000-0000-7000-8000-000000000001")
        await add_execution(conn, a["id"], "failed", moment, "00000000-0000-7000-8000-000000000003")
    finally:
        await conn.close()
    await api.delete(f"/modules/{m}/objects/{r5['id']}")
    # requirements: r1..r4 live (r5 deleted); with tests r1, r2, r3, r4; passing: r1, r2 (A); B failed, C none
    coverage = await api.get(f"/modules/{m}/test-coverage")
    assert coverage == {"total_requirements": 4, "requirements_with_tests": 4, "requirements_with_passing_tests": 2,
                        "test_coverage_pct": 100.0, "pass_coverage_pct": 50.0, "total_test_cases": 5,
                        "by_status": {"passed": 2, "failed": 1, "blocked": 1, "skipped": 0, "not_run": 1}}
    # C skipped now; an object added without tests lowers the percentages (unrounded)
    await api.post(f"/test-cases/{c['id']}/executions", {"status": "skipped"})
    await api.obj(m, heading="R6")
    dashboard = await api.get(f"/modules/{m}/test-dashboard")
    assert dashboard["coverage"] == {
        "total_requirements": 5, "requirements_with_tests": 4, "requirements_with_passing_tests": 2,
        "test_coverage_pct": 80.0, "pass_coverage_pct": 40.0, "total_test_cases": 5,
        "by_status": {"passed": 2, "failed": 1, "blocked": 1, "skipped": 1, "not_run": 0}}
    assert dashboard["total_test_cases"] == 5
    assert dashboard["by_test_status"] == {"draft": 2, "ready": 2, "deprecated": 1}
    assert dashboard["by_priority"] == {"critical": 1, "high": 1, "medium": 2, "low": 1}
    recent = dashboard["recent_executions"]
    assert len(recent) == 9 and recent[0]["test_case_id"] == c["id"] and recent[0]["status"] == "skipped"
    assert recent[1]["test_case_id"] == d["id"]
    assert [x["created_at"] for x in recent] == sorted((x["created_at"] for x in recent), reverse=True)
    assert latest_a["id"] in {x["id"] for x in recent}
    # only the module's executions, at most 20
    many = await api.post(base, {"name": "many"})
    for _ in range(25):
        await api.post(f"/test-cases/{many['id']}/executions", {"status": "passed"})
    recent = (await api.get(f"/modules/{m}/test-dashboard"))["recent_executions"]
    assert len(recent) == 20 and {x["test_case_id"] for x in recent} == {many["id"]}
    assert (await api.get(f"/modules/{other}/test-dashboard"))["recent_executions"] == []
    third = 1 / 3 * 100
    await api.delete(f"/modules/{m}/objects/{r1['id']}")  # 4 live left: r2, r3, r4, r6; passing r2 only
    assert (await api.get(f"/modules/{m}/test-coverage"))["pass_coverage_pct"] == 25.0
    await api.delete(f"/modules/{m}/objects/{r4['id']}")
    assert (await api.get(f"/modules/{m}/test-coverage"))["pass_coverage_pct"] == pytest.approx(third)
    unknown = str(uuid.uuid4())
    for route in ("test-coverage", "test-dashboard"):
        await api.error("GET", f"/modules/{unknown}/{route}", status=404, message=f"module {unknown} not found")


async def test_test_cases_can_be_signed(api: Api) -> None:
    """The e-signature entity types test_case and test_execution now name real rows."""
    m = (await api.module())["id"]
    case = await api.post(f"/modules/{m}/test-cases", {"name": "c"})
    execution = await api.post(f"/test-cases/{case['id']}/executions", {"status": "passed"})
    for kind, key in (("test_case", case["id"]), ("test_execution", execution["id"])):
        signed = await api.post("/e-signatures", {"entity_type": kind, "entity_id": key, "password": ADMIN_PASSWORD,
                                                  "meaning": "Verified"})
        assert [s["id"] for s in await api.get(f"/e-signatures/entity/{kind}/{key}")] == [signed["id"]]
