"""The demo walk's response validator must fail on a wrong type, an undeclared status or path."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_check import OpenApiChecker

from req1_server.app import create_app
from req1_server.appkeys import ROUTE_SPECS
from req1_server.config import Settings
from req1_server.openapi import build

M = "01a239b9-889f-7285-9afe-a1b7ff1f3f3f"


@pytest.fixture(scope="module")
def checker() -> OpenApiChecker:
    app = create_app(Settings.from_env({"DATABASE_URL": "postgresql://unused/unused"}))
    return OpenApiChecker(build(app[ROUTE_SPECS], "0"))


def definitions(enum_values: Any) -> dict[str, Any]:
    return {"items": [{"id": M, "module_id": M, "name": "priority", "data_type": "enum", "default_value": "medium",
                       "enum_values": enum_values, "multi_select": False, "depends_on": None,
                       "dependency_mapping": None, "created_at": "2026-01-01T00:00:00Z"}],
            "total": 1, "limit": 50, "offset": 0}


def test_conforming_response_passes(checker: OpenApiChecker) -> None:
    url = f"/api/v1/modules/{M}/attribute-definitions?limit=500"
    assert checker.problems("GET", url, 200, definitions(["low", "high"])) == []


def test_json_encoded_array_fails(checker: OpenApiChecker) -> None:
    problems = checker.problems("GET", f"/api/v1/modules/{M}/attribute-definitions", 200, definitions('["low"]'))
    assert len(problems) == 1 and "/items/0/enum_values" in problems[0]


def test_undeclared_path_and_error_shape_fail(checker: OpenApiChecker) -> None:
    assert "no operation" in checker.problems("GET", "/api/v1/nope", 200, {})[0]
    assert checker.problems("GET", f"/api/v1/modules/{M}", 404, {"error": {"code": "NOT_FOUND", "message": "x"}}) == []
    assert checker.problems("GET", f"/api/v1/modules/{M}", 404, {"detail": "x"}) != []
