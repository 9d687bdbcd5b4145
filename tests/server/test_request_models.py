"""Requests as types: who may send a body is decided before its fields are validated, and with several bad
fields the one reported is the one the contract's server checks first."""

from __future__ import annotations

from typing import Any

import pytest
from domain_api import Api


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


async def test_roles_come_before_field_validation(api: Api, make_user: Any) -> None:
    module = await api.module()
    obj = await api.obj(module["id"], heading="x")
    _, reviewer = await make_user("reviewer")
    other, _ = await make_user("viewer")
    as_reviewer = api.as_(reviewer)
    editor_only = "insufficient role: requires editor"
    await as_reviewer.error("PATCH", f"/modules/{module['id']}/objects/{obj['id']}", {"heading": 5}, status=403,
                            message=editor_only)
    await as_reviewer.error("PATCH", f"/modules/{module['id']}/objects/{obj['id']}", {"reviewed": "yes"},
                            status=400, message="field 'reviewed' must be a boolean")
    await as_reviewer.error("PATCH", f"/users/{other['id']}", {"role": 5}, status=403,
                            message="insufficient role: requires admin")


async def test_the_first_checked_field_is_reported(api: Api) -> None:
    await api.error("POST", "/modules", {"digits": "x"}, status=400, message="missing required field 'name'")
    await api.error("POST", "/modules", {"name": 5, "description": 5}, status=400,
                    message="field 'name' must be a string")
    await api.error("POST", "/users", {"email": "nope", "display_name": 5}, status=400, message="invalid email 'nope'")


async def test_registration_refused_before_the_body_is_read(server_env: dict[str, str], client_for: Any) -> None:
    client = await client_for({**server_env, "REGISTRATION_ENABLED": "false"})
    resp = await client.post("/api/v1/auth/register", data=b"{not json", headers={"Content-Type": "application/json"})
    assert resp.status == 403
    assert (await resp.json())["error"]["message"] == "registration is disabled"
