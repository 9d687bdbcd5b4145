"""What the audit log, object type and lifecycle model routes answer is what the served OpenAPI document
declares (the web UI's walk checks the same way: tests/web/openapi_check.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from domain_api import Api

sys.path.insert(0, str(Path(__file__).parents[1] / "web"))
from openapi_check import OpenApiChecker


class Recording(Api):
    """An Api that keeps every response it gets."""

    responses: list[tuple[str, str, int, Any]]

    async def call(self, method: str, path: str, json: Any = None, **kwargs: Any) -> Any:
        body = await super().call(method, path, json, **kwargs)
        url = path if path.startswith("/api/") else "/api/v1" + path
        self.responses.append((method, url, self.last_status, body))
        return body


@pytest.fixture
async def api(client: Any, admin_token: str) -> Recording:
    api = Recording(client, admin_token)
    api.responses = []
    return api


async def test_responses_match_the_document(api: Recording, client: Any) -> None:
    m = (await api.module())["id"]
    await api.post(f"/modules/{m}/attribute-definitions", {"name": "prio", "data_type": "integer"})
    kind = await api.post("/object-types", {"module_id": m, "name": "Req", "required_attributes": ["prio"],
                                            "attribute_schema": {"sections": [{"id": "s", "title": "S", "fields": [
                                                {"attribute_name": "prio", "required": True}]}]}})
    await api.get(f"/object-types?module_id={m}")
    await api.patch(f"/object-types/{kind['id']}", {"description": "d"})
    await api.get(f"/object-types/{kind['id']}")
    base = f"/modules/{m}/lifecycle-models"
    model = await api.post(base, {"name": "Std", "initial_state": "a", "states": [{"name": "a"}, {"name": "b"}],
                                  "transitions": [{"from": "a", "to": "b", "required_role": "admin"}]})
    await api.get(base)
    await api.patch(f"{base}/{model['id']}", {"description": "d"})
    await api.get(f"{base}/{model['id']}")
    obj = await api.obj(m, object_type_id=kind["id"], lifecycle_model_id=model["id"], attributes={"prio": 1})
    await api.patch(f"/modules/{m}/objects/{obj['id']}", {"lifecycle_state": "b"})
    await api.error("POST", "/object-types", {"module_id": m, "name": "Req"}, status=409)
    await api.get("/audit-log?limit=20")
    await api.get("/audit-log/verify")
    await api.delete(f"/object-types/{kind['id']}")
    await api.delete(f"{base}/{model['id']}")

    document = await (await client.get("/api/docs/openapi.json")).json()
    checker = OpenApiChecker(document)
    problems = [p for method, url, status, body in api.responses for p in checker.problems(method, url, status, body)]
    assert problems == []
    assert checker.checked >= 15
