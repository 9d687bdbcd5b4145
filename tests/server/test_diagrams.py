"""Diagrams (extended contract §9) on the real PostgreSQL and Redis: routes with their roles and the envelope,
every validation message, linked objects checked, created_by from the token, audit entries."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from domain_api import Api

TYPES = "use_case, sequence, class, flowchart, state, er"


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


async def test_diagrams_route_by_route(api: Api, make_user: Any) -> None:
    me = await api.get("/auth/me")
    m = (await api.module())["id"]
    obj = await api.obj(m, heading="actor")
    base = f"/modules/{m}/diagrams"
    assert await api.get(base) == {"items": [], "total": 0, "offset": 0, "limit": 1000}
    first = await api.post(base, {"name": "Use", "created_by": str(uuid.uuid4())})
    assert {k: v for k, v in first.items() if k not in ("id", "created_at", "updated_at")} == {
        "module_id": m, "name": "Use", "description": None, "diagram_type": "use_case", "source_code": "",
        "linked_object_ids": [], "created_by": me["id"]}
    second = await api.post(base, {"name": "Seq", "description": "d", "diagram_type": "sequence",
                                   "source_code": "sequenceDiagram\n A->>B: hi", "linked_object_ids": [obj["id"]]})
    assert second["linked_object_ids"] == [obj["id"]] and second["diagram_type"] == "sequence"
    page = await api.get(base + "?limit=1")
    assert [d["id"] for d in page["items"]] == [second["id"]] and page["total"] == 2
    assert [d["id"] for d in (await api.get(base))["items"]] == [second["id"], first["id"]]
    item = f"{base}/{second['id']}"
    assert await api.get(item) == second
    patched = await api.patch(item, {"description": None, "name": None, "diagram_type": "er", "linked_object_ids": []})
    assert (patched["description"], patched["name"], patched["diagram_type"], patched["linked_object_ids"]) == (
        None, "Seq", "er", [])
    assert patched["source_code"] == second["source_code"] and patched["created_by"] == me["id"]

    # roles: any role reads, editor+ writes
    _, viewer = await make_user("viewer")
    assert (await api.get(item, token=viewer))["id"] == second["id"]
    for method, path, body in (("POST", base, {"name": "x"}), ("PATCH", item, {"name": "x"}),
                               ("DELETE", item, None)):
        await api.error(method, path, body, status=403, token=viewer, message="insufficient role: requires editor")

    await api.delete(item)
    await api.error("GET", item, status=404, message=f"diagram {second['id']} not found")
    other = (await api.module())["id"]
    await api.error("GET", f"/modules/{other}/diagrams/{first['id']}", status=404,
                    message=f"diagram {first['id']} not found")
    unknown = str(uuid.uuid4())
    await api.error("GET", f"/modules/{unknown}/diagrams", status=404, message=f"module {unknown} not found")
    await api.call("GET", "/api/v1/diagrams", expect=404)  # the old 501 stub is gone
    logged = await api.get(f"/audit-log?entity_id={second['id']}")
    assert [e["action"] for e in reversed(logged["items"])] == ["create", "update", "delete"]


async def test_diagram_validation(api: Api) -> None:
    m = (await api.module())["id"]
    base = f"/modules/{m}/diagrams"
    diagram = await api.post(base, {"name": "d"})
    item = f"{base}/{diagram['id']}"
    gone = await api.obj(m, heading="gone")
    await api.delete(f"/modules/{m}/objects/{gone['id']}")
    elsewhere = await api.obj((await api.module())["id"], heading="other workspace")
    missing = str(uuid.uuid4())
    for method, path in (("POST", base), ("PATCH", item)):
        extra = {"name": "n"} if method == "POST" else {}
        for body, message in [
            ({"diagram_type": "gantt"}, f"invalid diagram_type 'gantt', must be one of: {TYPES}"),
            ({"name": " "}, "name must not be empty"),
            ({"source_code": "x" * (1024 * 1024 + 1)}, "source_code must be at most 1 MiB"),
            ({"source_code": 3}, "field 'source_code' must be a string"),
            ({"linked_object_ids": [missing]}, f"object {missing} not found"),
            ({"linked_object_ids": [gone["id"]]}, f"object {gone['id']} not found"),
            ({"linked_object_ids": [elsewhere["id"]]}, f"object {elsewhere['id']} not found"),
            ({"linked_object_ids": [1]}, "field 'linked_object_ids' must be an array of UUIDs"),
        ]:
            await api.error(method, path, {**extra, **body}, status=400, message=message)
    await api.error("POST", base, {}, status=400, message="missing required field 'name'")
    exactly = await api.patch(item, {"source_code": "x" * (1024 * 1024)})  # exactly 1 MiB is accepted
    assert len(exactly["source_code"]) == 1024 * 1024
