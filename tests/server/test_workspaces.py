"""Workspaces, projects and modules: CRUD, admin-only writes, nested-path isolation, validation."""

from __future__ import annotations

from typing import Any

import pytest
from domain_api import Api


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


async def test_workspace_and_project_crud(api: Api, make_user: Any) -> None:
    ws = await api.post("/workspaces", {"name": "Beta", "description": "d"})
    assert set(ws) == {"id", "name", "description", "created_at", "updated_at"}
    await api.post("/workspaces", {"name": "Alpha"})
    listing = await api.get("/workspaces?limit=1")
    assert listing["total"] == 2 and listing["limit"] == 1 and listing["items"][0]["name"] == "Alpha"
    patched = await api.patch(f"/workspaces/{ws['id']}", {"description": None, "name": None})
    assert patched["description"] is None and patched["name"] == "Beta"
    assert patched["updated_at"] > ws["updated_at"]
    project = await api.post(f"/workspaces/{ws['id']}/projects", {"name": "P1"})
    assert project["workspace_id"] == ws["id"]
    other = await api.post("/workspaces", {"name": "Other"})
    await api.error("GET", f"/workspaces/{other['id']}/projects/{project['id']}", status=404,
                    message=f"project {project['id']} not found")
    await api.error("POST", "/workspaces", {"name": "  "}, status=400, message="name must not be empty")
    await api.error("POST", "/workspaces", {}, status=400, message="missing required field 'name'")
    await api.error("GET", "/workspaces/abc", status=400, message="invalid UUID 'abc' for parameter 'id'")
    _, editor = await make_user("editor")
    await api.error("POST", "/workspaces", {"name": "x"}, status=403, message="insufficient role: requires admin",
                    token=editor)
    assert (await api.get("/workspaces", token=editor))["total"] == 3
    await api.delete(f"/workspaces/{ws['id']}")
    await api.error("GET", f"/workspaces/{ws['id']}", status=404, message=f"workspace {ws['id']} not found")
    await api.error("GET", f"/workspaces/{ws['id']}/projects", status=404)


async def test_modules(api: Api, make_user: Any) -> None:
    module = await api.module(prefix="REQ", required_attributes=[])
    assert module["prefix"] == "REQ" and module["separator"] == "-" and module["digits"] == 3
    assert module["default_classification"] == "normative" and module["signature_config"] == {}
    assert module["publish_template"] is None and module["default_lifecycle_model_id"] is None
    await api.error("POST", "/modules", {"name": "x", "project_id": module["project_id"],
                                         "default_classification": "x"},
                    status=400, message="invalid classification 'x', must be one of: normative, informative, heading")
    await api.error("POST", "/modules", {"name": "x"}, status=400, message="missing required field 'project_id'")
    missing = "00000000-0000-0000-0000-0000000000ff"
    await api.error("POST", "/modules", {"name": "x", "project_id": missing}, status=404,
                    message=f"project {missing} not found")
    await api.error("POST", "/modules", {"name": "x", "project_id": module["project_id"],
                                         "default_lifecycle_model_id": missing},
                    status=400, message=f"lifecycle model '{missing}' not found")
    patched = await api.patch(f"/modules/{module['id']}", {"description": "now", "digits": 4, "prefix": None})
    assert patched["description"] == "now" and patched["digits"] == 4 and patched["prefix"] == "REQ"
    listing = await api.get(f"/modules?project_id={module['project_id']}")
    assert [m["id"] for m in listing["items"]] == [module["id"]]
    _, viewer = await make_user("viewer")
    await api.error("PATCH", f"/modules/{module['id']}", {"name": "n"}, status=403, token=viewer,
                    message="insufficient role: requires editor")
    await api.delete(f"/modules/{module['id']}")
    await api.error("GET", f"/modules/{module['id']}", status=404)
