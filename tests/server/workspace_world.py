"""Test helper for per-workspace access: a workspace with one of everything inside, built through the API.

``await world(api, "A", mention="Uma Member")`` returns the ids of what it made, keyed as the isolation walk
names them (``module``, ``object``, ``link``, ``baseline``…). The caller's token must be a global admin's.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from conftest import ADMIN_PASSWORD
from domain_api import Api

WORKSPACE_ENV = {"ACCESS_MODEL": "workspace"}


def upload(content: bytes, name: str = "note.txt") -> aiohttp.FormData:
    data = aiohttp.FormData(quote_fields=False)
    data.add_field("file", content, filename=name, content_type="text/plain")
    return data


async def world(api: Api, name: str, mention: str) -> dict[str, str]:
    """Workspace ``name`` with a project, a module, two objects (one says "needle"), a link, an enum attribute
    definition, a baseline, a view, a comment mentioning ``mention``, an attachment, a review package with an
    assignment and a comment, a change proposal, an object type, a lifecycle model, a webhook, a test case with an
    execution, a diagram and a signature."""
    ids: dict[str, str] = {}
    ids["workspace"] = (await api.post("/workspaces", {"name": name}))["id"]
    ids["project"] = (await api.post(f"/workspaces/{ids['workspace']}/projects", {"name": f"P{name}"}))["id"]
    m = ids["module"] = (await api.post("/modules", {"name": f"M{name}", "project_id": ids["project"]}))["id"]
    ids["object"] = (await api.obj(m, heading=f"needle {name}", body="<p>brakes</p>"))["id"]
    ids["object2"] = (await api.obj(m, heading=f"second {name}"))["id"]
    link_type = (await api.get("/link-types"))[0]["id"]  # the seeded types: a plain array
    ids["link"] = (await api.post("/links", {"source_object_id": ids["object"], "target_object_id": ids["object2"],
                                             "link_type_id": link_type}))["id"]
    ids["attribute_definition"] = (await api.post(f"/modules/{m}/attribute-definitions", {
        "name": "prio", "data_type": "enum", "enum_values": ["low", "high"], "default_value": "low"}))["id"]
    ids["baseline"] = (await api.post(f"/modules/{m}/baselines", {"name": f"B{name}"}))["id"]
    ids["view"] = (await api.post(f"/modules/{m}/views", {"name": f"V{name}"}))["id"]
    ids["comment"] = (await api.post(f"/objects/{ids['object']}/comments", {"body": f"look @{mention}"}))["id"]
    ids["attachment"] = (await api.call("POST", f"/objects/{ids['object']}/attachments",
                                        data=upload(f"content of {name}".encode()), expect=201))["id"]
    ids["package"] = (await api.post(f"/modules/{m}/review-packages", {"name": f"R{name}"}))["id"]
    me = await api.get("/auth/me")
    ids["assignment"] = (await api.post(f"/review-packages/{ids['package']}/assignments",
                                        {"reviewer_id": me["id"]}))["id"]
    ids["review_comment"] = (await api.post(f"/review-packages/{ids['package']}/comments", {"body": "rc"}))["id"]
    ids["proposal"] = (await api.post(f"/modules/{m}/change-proposals", {"title": f"CP{name}"}))["id"]
    ids["object_type"] = (await api.post("/object-types", {"module_id": m, "name": f"T{name}"}))["id"]
    ids["lifecycle_model"] = (await api.post(f"/modules/{m}/lifecycle-models", {"name": f"L{name}"}))["id"]
    ids["webhook"] = (await api.post(f"/modules/{m}/webhooks", {"name": "w", "url": "https://example.com/hook"}))["id"]
    ids["test_case"] = (await api.post(f"/modules/{m}/test-cases", {"name": f"TC{name}",
                                                                  "requirement_ids": [ids["object"]]}))["id"]
    ids["test_execution"] = (await api.post(f"/test-cases/{ids['test_case']}/executions", {"status": "passed"}))["id"]
    ids["diagram"] = (await api.post(f"/modules/{m}/diagrams", {"name": f"D{name}",
                                                               "linked_object_ids": [ids["object"]]}))["id"]
    ids["signature"] = (await api.post("/e-signatures", {"entity_type": "object", "entity_id": ids["object"],
                                                         "password": ADMIN_PASSWORD, "meaning": "Approved"}))["id"]
    return ids


async def member(api: Api, workspace_id: str, user_id: str, role: str) -> dict[str, Any]:
    """Make the user a member of the workspace with this role (the caller must be allowed to)."""
    return dict(await api.call("PUT", f"/workspaces/{workspace_id}/members/{user_id}", {"role": role}, expect=200))


async def two_worlds(client: Any, admin_token: str, make_user: Any) -> dict[str, Any]:
    """Workspaces A and B with data in each; U is a global viewer and an admin member of A only; W belongs to A
    only and V to B only (so /users/{id} has one user of each workspace)."""
    api = Api(client, admin_token)
    uma, uma_token = await make_user("viewer", display_name="Uma Member")
    a = await world(api, "A", mention="Uma Member")
    b = await world(api, "B", mention="Uma Member")
    w, _ = await make_user("editor")
    v, _ = await make_user("editor")
    await member(api, a["workspace"], uma["id"], "admin")
    await member(api, a["workspace"], w["id"], "editor")
    await member(api, b["workspace"], v["id"], "editor")
    a["user"], b["user"] = w["id"], v["id"]
    return {"a": a, "b": b, "token": uma_token, "uma": uma, "admin_token": admin_token}
