"""Test cases and executions (extended contract §5, migration 0080): the two tables, the check that
``requirement_ids`` are live objects of the module, and the counts behind coverage and the test dashboard.

The latest execution of a case is its greatest ``(created_at, id)``; a case without one counts as ``not_run``.
Only the module's live objects are requirements, so an id of a since-deleted object does not count.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from req1_server.domain.test_management import CASE_STATUSES, PRIORITIES, coverage, tally
from req1_server.errors import bad_request, not_found
from req1_server.store import crud

CASE_COLUMNS = ("id, module_id, name, description, preconditions, expected_result, test_type, priority, status, "
                "requirement_ids, created_at, updated_at")
CASES = crud.Table("test_case", "test case", CASE_COLUMNS, "created_at DESC, id DESC", parent="module_id",
                   nullable=frozenset({"description", "preconditions", "expected_result"}), touch=True)
EXECUTION_COLUMNS = ("id, test_case_id, status, executor, executed_at, duration_ms, evidence, environment, "
                     "created_at")
EXECUTIONS = crud.Table("test_execution", "test execution", EXECUTION_COLUMNS, "created_at DESC, id DESC",
                        parent="test_case_id",
                        nullable=frozenset({"executor", "executed_at", "duration_ms", "evidence", "environment"}))
CASE_EXISTS = "SELECT id FROM test_case WHERE id = $1"
LIVE_IN_MODULE = "SELECT id FROM object WHERE id = ANY($1::uuid[]) AND module_id = $2 AND deleted_at IS NULL"
LATEST = """
LEFT JOIN LATERAL (SELECT e.status FROM test_execution e WHERE e.test_case_id = tc.id
                   ORDER BY e.created_at DESC, e.id DESC LIMIT 1) latest ON true
"""
CASE_FIGURES = f"""
SELECT tc.status, tc.priority, latest.status AS latest FROM test_case tc {LATEST} WHERE tc.module_id = $1
"""
REQUIREMENT_FIGURES = f"""
SELECT count(*) AS total, count(*) FILTER (WHERE t.id IS NOT NULL) AS with_tests,
       count(*) FILTER (WHERE t.passing) AS passing
FROM object o
LEFT JOIN (SELECT r.id, bool_or(latest.status = 'passed') AS passing
           FROM test_case tc CROSS JOIN LATERAL unnest(tc.requirement_ids) AS r(id) {LATEST}
           WHERE tc.module_id = $1 GROUP BY r.id) t ON t.id = o.id
WHERE o.module_id = $1 AND o.deleted_at IS NULL
"""
RECENT = f"""
SELECT {', '.join('e.' + c.strip() for c in EXECUTION_COLUMNS.split(','))}
FROM test_execution e JOIN test_case tc ON tc.id = e.test_case_id
WHERE tc.module_id = $1 ORDER BY e.created_at DESC, e.id DESC LIMIT $2
"""
RECENT_LIMIT = 20


async def check_requirements(conn: asyncpg.Connection, module_id: uuid.UUID, ids: list[uuid.UUID]) -> None:
    """400 ``requirement <id> not found`` unless every id is a live object of the module."""
    found = {r["id"] for r in await conn.fetch(LIVE_IN_MODULE, ids, module_id)} if ids else set()
    for requirement in ids:
        if requirement not in found:
            raise bad_request(f"requirement {requirement} not found")


async def require_case(conn: asyncpg.Connection, case_id: uuid.UUID) -> None:
    """404 ``test case <id> not found`` unless the case exists (the parent of the execution routes)."""
    if await conn.fetchval(CASE_EXISTS, case_id) is None:
        raise not_found(CASES.entity, case_id)


async def coverage_of(conn: asyncpg.Connection, module_id: uuid.UUID) -> dict[str, Any]:
    cases = await conn.fetch(CASE_FIGURES, module_id)
    return await _coverage(conn, module_id, cases)


async def _coverage(conn: asyncpg.Connection, module_id: uuid.UUID, cases: list[asyncpg.Record]) -> dict[str, Any]:
    reqs = await conn.fetchrow(REQUIREMENT_FIGURES, module_id)
    return coverage(reqs["total"], reqs["with_tests"], reqs["passing"], (c["latest"] for c in cases))


async def dashboard_of(conn: asyncpg.Connection, module_id: uuid.UUID) -> dict[str, Any]:
    cases = await conn.fetch(CASE_FIGURES, module_id)
    recent = await conn.fetch(RECENT, module_id, RECENT_LIMIT)
    return {"total_test_cases": len(cases), "by_test_status": tally((c["status"] for c in cases), CASE_STATUSES),
            "by_priority": tally((c["priority"] for c in cases), PRIORITIES),
            "recent_executions": [dict(r) for r in recent], "coverage": await _coverage(conn, module_id, cases)}
