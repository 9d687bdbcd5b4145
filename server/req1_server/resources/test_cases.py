"""Test management (extended contract §5): test cases of a module linked to its requirements (objects), their
executions, and the module's coverage and test dashboard. Cases and executions are plain CRUD (declared with the
generic resource, plain arrays newest first, GET any role, writes editor+); the figures come from the store.

Executions live under ``/test-cases/{test_case_id}``: per-workspace access locates the case by that parameter
(scope.py), and the execution must belong to the case (404 otherwise).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from aiohttp import web
from pydantic import Field

from req1_server.apischema import COMPONENTS, INT, NUM, STR, TIME, UUID, UUID_LIST, array, nullable, obj, ref
from req1_server.db import database
from req1_server.domain.test_management import (
    CASE_STATUSES,
    EXECUTION_STATUSES,
    PRIORITIES,
    TEST_TYPES,
    TestRuleError,
    duration,
    timestamp,
)
from req1_server.http import json_response
from req1_server.resources.crud import Resource, Values, declare
from req1_server.routing import CurrentUser, Routes
from req1_server.store import test_cases as store
from req1_server.store.rows import require_module
from req1_server.typed import (
    BodyModel,
    InModule,
    Name,
    OptName,
    OptText,
    as_int,
    as_str,
    checked,
    member_of,
    reject,
    uuid_list,
)

routes = Routes(tag="test management")
EVERY_VERB = frozenset({"list", "create", "get", "update", "delete"})


def enum(allowed: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "string", "enum": list(allowed)}


def counts(keys: tuple[str, ...]) -> dict[str, Any]:
    return obj(list(keys), **{key: INT for key in keys})


COMPONENTS.update({  # this feature's response shapes, kept beside it
    "TestCase": obj(["id", "module_id", "name", "description", "preconditions", "expected_result", "test_type",
                     "priority", "status", "requirement_ids", "created_at", "updated_at"],
                    id=UUID, module_id=UUID, name=STR, description=nullable(STR), preconditions=nullable(STR),
                    expected_result=nullable(STR), test_type=enum(TEST_TYPES), priority=enum(PRIORITIES),
                    status=enum(CASE_STATUSES), requirement_ids=UUID_LIST, created_at=TIME, updated_at=TIME),
    "TestExecution": obj(["id", "test_case_id", "status", "executor", "executed_at", "duration_ms", "evidence",
                          "environment", "created_at"],
                         id=UUID, test_case_id=UUID, status=enum(EXECUTION_STATUSES), executor=nullable(STR),
                         executed_at=nullable(TIME), duration_ms=nullable(INT), evidence=nullable(STR),
                         environment=nullable(STR), created_at=TIME),
    "TestCoverage": obj(["total_requirements", "requirements_with_tests", "requirements_with_passing_tests",
                         "test_coverage_pct", "pass_coverage_pct", "total_test_cases", "by_status"],
                        total_requirements=INT, requirements_with_tests=INT, requirements_with_passing_tests=INT,
                        test_coverage_pct=NUM, pass_coverage_pct=NUM, total_test_cases=INT,
                        by_status=counts(EXECUTION_STATUSES)),
    "TestDashboard": obj(["total_test_cases", "by_test_status", "by_priority", "recent_executions", "coverage"],
                         total_test_cases=INT, by_test_status=counts(CASE_STATUSES), by_priority=counts(PRIORITIES),
                         recent_executions=array(ref("TestExecution")), coverage=ref("TestCoverage")),
})


def ruled(rule: Any) -> Any:
    """A field check from a domain rule: its refusal becomes the field's 400."""
    def check(value: Any, name: str) -> Any:
        try:
            return rule(value, name)
        except TestRuleError as exc:
            raise reject(str(exc)) from None
    return checked(check)


TestType = Annotated[str | None, member_of(TEST_TYPES, "test_type")]
Priority = Annotated[str | None, member_of(PRIORITIES, "priority")]
CaseStatus = Annotated[str | None, member_of(CASE_STATUSES, "status")]
ExecutionStatus = Annotated[str | None, member_of(EXECUTION_STATUSES, "execution status")]
Requirements = Annotated[list[uuid.UUID] | None, checked(uuid_list)]
Moment = Annotated[dt.datetime | None, ruled(lambda value, name: timestamp(as_str(value, name), name))]
Duration = Annotated[int | None, ruled(lambda value, name: duration(as_int(value, name)))]


class TestCaseCreate(BodyModel):
    name: Name
    description: OptText = None
    preconditions: OptText = None
    expected_result: OptText = None
    test_type: TestType = "manual"
    priority: Priority = "medium"
    status: CaseStatus = "draft"
    requirement_ids: Requirements = Field(None, description="live objects of the module")


class TestCasePatch(BodyModel):
    """Any field; null clears description, preconditions and expected_result and is ignored elsewhere."""

    name: OptName = None
    description: OptText = None
    preconditions: OptText = None
    expected_result: OptText = None
    test_type: TestType = None
    priority: Priority = None
    status: CaseStatus = None
    requirement_ids: Requirements = None


class ExecutionCreate(BodyModel):
    status: ExecutionStatus = "not_run"
    executor: OptText = None
    executed_at: Moment = Field(None, description="ISO 8601 with a UTC offset")
    duration_ms: Duration = None
    evidence: OptText = None
    environment: OptText = None


class ExecutionPatch(ExecutionCreate):
    """Any field; null clears every one but status."""

    status: ExecutionStatus = None


async def case_created(conn: Any, user: CurrentUser, values: Values) -> Values:
    values["requirement_ids"] = values.get("requirement_ids") or []
    await store.check_requirements(conn, values["module_id"], values["requirement_ids"])
    return values


async def case_updated(conn: Any, user: CurrentUser, row: Any, updates: Values) -> Values:
    if "requirement_ids" in updates:
        await store.check_requirements(conn, row["module_id"], updates["requirement_ids"])
    return updates


declare(routes, "/api/v1/modules/{module_id}/test-cases", Resource(
    store.CASES, TestCaseCreate, TestCasePatch, "test case", "test cases", "TestCase", parent_param="module_id",
    parent_check=require_module, parent_checked_on=EVERY_VERB, paging=None, on_create=case_created,
    on_update=case_updated,
    docs={"list": "Test cases of a module, newest first (a plain array).",
          "create": "A test case; its requirement_ids must be live objects of the module.",
          "delete": "Delete a test case with its executions."},
), __name__)

declare(routes, "/api/v1/test-cases/{test_case_id}/executions", Resource(
    store.EXECUTIONS, ExecutionCreate, ExecutionPatch, "test execution", "test executions", "TestExecution",
    parent_param="test_case_id", parent_check=store.require_case, parent_checked_on=EVERY_VERB, paging=None,
    docs={"list": "Executions of a test case, newest first (a plain array); the first is its latest.",
          "create": "Record an execution of a test case."},
), __name__)


@routes.get("/api/v1/modules/{module_id}/test-coverage", params=InModule, response=ref("TestCoverage"))
async def get_test_coverage(request: web.Request, path: InModule) -> web.Response:
    """Requirements (the module's live objects) listed by its test cases, and by passing ones."""
    async with database(request).acquire() as conn:
        await require_module(conn, path.module_id)
        return json_response(await store.coverage_of(conn, path.module_id))


@routes.get("/api/v1/modules/{module_id}/test-dashboard", params=InModule, response=ref("TestDashboard"))
async def get_test_dashboard(request: web.Request, path: InModule) -> web.Response:
    """Counts of the module's test cases, its 20 newest executions and its coverage."""
    async with database(request).acquire() as conn:
        await require_module(conn, path.module_id)
        return json_response(await store.dashboard_of(conn, path.module_id))
