"""Change proposals (extended contract §4) on the real PostgreSQL and Redis: routes with their roles, the status
graph, diff_data validation, the frozen approved diff_data, and `apply` — atomic, through the normal object
update path (versions, history, suspect links, webhook deliveries) — with its audit entries and a signature."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from conftest import USER_PASSWORD
from domain_api import Api

sys.path.insert(0, str(Path(__file__).parents[1] / "web"))
from openapi_check import OpenApiChecker

STATUSES = "draft, submitted, in_review, approved, rejected, applied"
SATISFIES = "00000000-0000-0000-0000-000000000010"
NOT_AUTHOR = "only the author or an admin may do this"


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


async def audit(api: Api, entity_id: str) -> list[dict[str, Any]]:
    return list(reversed((await api.get(f"/audit-log?entity_id={entity_id}"))["items"]))


def change(obj: dict[str, Any], field: str, old: Any, new: Any) -> dict[str, Any]:
    return {"object_id": obj["id"], "field": field, "old_value": old, "new_value": new}


async def test_routes_with_their_roles(api: Api, make_user: Any) -> None:
    author, author_token = await make_user("reviewer")
    _, other_reviewer = await make_user("reviewer")
    _, editor_token = await make_user("editor")
    _, viewer_token = await make_user("viewer")
    m = (await api.module())["id"]
    base = f"/modules/{m}/change-proposals"
    await api.error("POST", base, {"title": "t"}, status=403, token=viewer_token,
                    message="insufficient role: requires reviewer")
    first = await api.post(base, {"title": "First", "description": "d"}, token=author_token)
    assert first["status"] == "draft" and first["author_id"] == author["id"] and first["diff_data"] == {}
    assert first["module_id"] == m and first["description"] == "d"
    second = await api.post(base, {"title": "Second"}, token=editor_token)
    page = await api.get(base, token=viewer_token)
    assert [p["id"] for p in page["items"]] == [second["id"], first["id"]] and page["limit"] == 1000
    assert await api.get(f"{base}/{first['id']}", token=viewer_token) == first
    item = f"{base}/{first['id']}"

    # other fields: the author or an editor+; review moves reviewer+; applied editor+
    await api.error("PATCH", item, {"title": "x"}, status=403, token=other_reviewer, message=NOT_AUTHOR)
    await api.error("PATCH", item, {"title": "x"}, status=403, token=viewer_token,
                    message="insufficient role: requires reviewer")
    assert (await api.patch(item, {"title": "Mine"}, token=author_token))["title"] == "Mine"
    renamed = await api.patch(item, {"title": "Edited", "description": None}, token=editor_token)
    assert renamed["title"] == "Edited" and renamed["description"] is None
    assert (await api.patch(item, {"status": "submitted"}, token=other_reviewer))["status"] == "submitted"
    await api.error("PATCH", item, {"status": "draft"}, status=403, token=other_reviewer, message=NOT_AUTHOR)
    assert (await api.patch(item, {"status": "approved"}, token=other_reviewer))["status"] == "approved"
    await api.error("PATCH", item, {"status": "applied"}, status=403, token=author_token,
                    message="insufficient role: requires editor")
    await api.error("POST", item + "/apply", status=403, token=author_token,
                    message="insufficient role: requires editor")
    await api.error("PATCH", item, {"status": "done"}, status=400,
                    message=f"invalid status 'done', must be one of: {STATUSES}")
    await api.error("POST", base, {"title": " "}, status=400, message="title must not be empty")

    other = (await api.module())["id"]
    await api.error("GET", f"/modules/{other}/change-proposals/{first['id']}", status=404,
                    message=f"change_proposal {first['id']} not found")
    await api.error("GET", f"/modules/{first['id']}/change-proposals", status=404,
                    message=f"module {first['id']} not found")
    await api.error("DELETE", f"{base}/{second['id']}", status=403, token=author_token, message=NOT_AUTHOR)
    await api.delete(item, token=author_token)
    await api.delete(f"{base}/{second['id']}", token=editor_token)
    await api.error("GET", item, status=404)
    actions = [(e["action"], (e["details"] or {}).get("to")) for e in await audit(api, first["id"])]
    assert actions == [("create", None), ("update", None), ("update", None), ("transition", "submitted"),
                       ("transition", "approved"), ("delete", None)], actions
    await api.call("GET", "/api/v1/change-proposals", expect=404)  # the old 501 stub is gone


async def test_status_graph(api: Api) -> None:
    m = (await api.module())["id"]
    base = f"/modules/{m}/change-proposals"
    allowed = {"draft": ["submitted", "approved", "rejected"],
               "submitted": ["in_review", "approved", "rejected", "draft"],
               "in_review": ["approved", "rejected"], "approved": ["applied", "rejected"], "rejected": ["draft"],
               "applied": []}
    paths = {"draft": [], "submitted": ["submitted"], "in_review": ["submitted", "in_review"],
             "approved": ["approved"], "rejected": ["rejected"], "applied": ["approved", "applied"]}
    for start, steps in paths.items():
        for wanted in STATUSES.split(", "):
            if wanted == start:
                continue
            p = await api.post(base, {"title": f"{start}->{wanted}"})
            for step in steps:
                await api.patch(f"{base}/{p['id']}", {"status": step})
            if wanted in allowed[start]:
                assert (await api.patch(f"{base}/{p['id']}", {"status": wanted}))["status"] == wanted
            else:
                await api.error("PATCH", f"{base}/{p['id']}", {"status": wanted}, status=400,
                                message=f"change proposal transition from '{start}' to '{wanted}' is not allowed")


async def test_diff_data_validation_and_frozen_when_approved(api: Api) -> None:
    m = (await api.module())["id"]
    o = await api.obj(m, heading="h")
    foreign = await api.obj((await api.module())["id"], heading="elsewhere")
    base = f"/modules/{m}/change-proposals"
    bad = {
        "diff_data must be an array of changes": [
            "x", 3, {"a": 1}, [1], [{"field": "heading"}], [{"object_id": "nope", "field": "heading"}],
            [change(o, "heading", 1, "b")], [change(o, "body", "a", ["b"])]],
        "unsupported field 'position'": [[change(o, "position", 1, 2)]],
        "unsupported field 'attributes.'": [[change(o, "attributes.", 1, 2)]],
        "invalid classification 'x', must be one of: normative, informative, heading": [
            [change(o, "classification", "normative", "x")]],
        f"object {foreign['id']} is not in this module": [[change(foreign, "heading", "elsewhere", "b")]],
    }
    for message, values in bad.items():
        for value in values:
            await api.error("POST", base, {"title": "t", "diff_data": value}, status=400, message=message)
    ok = [change(o, "heading", "h", "H"), change(o, "attributes.prio", None, 3)]
    p = await api.post(base, {"title": "t", "diff_data": ok})
    assert p["diff_data"] == ok
    await api.error("PATCH", f"{base}/{p['id']}", {"diff_data": [change(foreign, "body", None, "b")]}, status=400,
                    message=f"object {foreign['id']} is not in this module")
    assert (await api.patch(f"{base}/{p['id']}", {"diff_data": {}}))["diff_data"] == {}
    await api.patch(f"{base}/{p['id']}", {"diff_data": ok, "status": "approved"})
    await api.error("PATCH", f"{base}/{p['id']}", {"diff_data": []}, status=409,
                    message="an approved change proposal's diff_data cannot be changed")
    assert (await api.patch(f"{base}/{p['id']}", {"title": "renamed"}))["diff_data"] == ok


async def test_apply_is_atomic(api: Api) -> None:
    m = (await api.module())["id"]
    first = await api.obj(m, heading="one")
    second = await api.obj(m, heading="two")
    base = f"/modules/{m}/change-proposals"
    p = await api.post(base, {"title": "t", "diff_data": [change(first, "heading", "one", "ONE"),
                                                          change(second, "heading", "two", "TWO")]})
    await api.error("POST", f"{base}/{p['id']}/apply", status=409,
                    message="change proposal must be approved before it is applied")
    await api.patch(f"{base}/{p['id']}", {"status": "approved"})
    await api.patch(f"/modules/{m}/objects/{second['id']}", {"heading": "changed meanwhile"})
    await api.error("POST", f"{base}/{p['id']}/apply", status=409,
                    message=f"object {second['id']} field 'heading' changed since the proposal was made")
    unchanged = await api.get(f"/modules/{m}/objects/{first['id']}")
    assert unchanged["heading"] == "one" and unchanged["current_version"] == first["current_version"]
    assert (await api.get(f"{base}/{p['id']}"))["status"] == "approved"
    assert [e["action"] for e in await audit(api, p["id"])] == ["create", "transition"]


async def test_apply_goes_through_the_object_update_path(api: Api, pg_dsn: str, make_user: Any) -> None:
    editor, editor_token = await make_user("editor")
    m = (await api.module())["id"]
    await api.post(f"/modules/{m}/attribute-definitions", {"name": "prio", "data_type": "integer"})
    a = await api.obj(m, heading="a", body="<p>alpha</p>", attributes={"prio": 1})
    b = await api.obj(m, heading="b")
    other = await api.obj((await api.module())["id"], heading="downstream")
    link = await api.post("/links", {"source_object_id": other["id"], "target_object_id": a["id"],
                                     "link_type_id": SATISFIES})
    hook = await api.post(f"/modules/{m}/webhooks", {"name": "h", "url": "https://example.com/hook",
                                                     "events": "object.updated"})
    base = f"/modules/{m}/change-proposals"
    diff = [change(a, "heading", "a", "A"), change(a, "attributes.prio", 1, 2),
            change(b, "classification", b["classification"], "informative")]
    p = await api.post(base, {"title": "t", "diff_data": diff})
    await api.patch(f"{base}/{p['id']}", {"status": "approved"})
    applied = await api.post(f"{base}/{p['id']}/apply", expect=200, token=editor_token)
    assert applied["objects_updated"] == 2 and applied["proposal"]["status"] == "applied"
    after_a = await api.get(f"/modules/{m}/objects/{a['id']}")
    after_b = await api.get(f"/modules/{m}/objects/{b['id']}")
    assert after_a["heading"] == "A" and after_a["attributes"] == {"prio": 2}
    assert after_a["current_version"] == a["current_version"] + 1  # one update per object
    assert after_a["content_fingerprint"] != a["content_fingerprint"]
    assert after_b["classification"] == "informative" and after_b["current_version"] == b["current_version"] + 1
    history = (await api.get(f"/modules/{m}/objects/{a['id']}/history"))["items"]
    assert len(history) == 2 and {h["changed_by"] for h in history} >= {editor["id"]}
    assert (await api.get(f"/links/{link['id']}"))["suspect"] is True
    conn = await asyncpg.connect(pg_dsn)
    try:
        queued = await conn.fetch("SELECT object_id, event FROM webhook_delivery WHERE webhook_id = $1",
                                  uuid.UUID(hook["id"]))
    finally:
        await conn.close()
    assert sorted(str(r["object_id"]) for r in queued) == sorted([a["id"], b["id"]])
    assert {r["event"] for r in queued} == {"object.updated"}
    entries = [(e["action"], e["user_id"], e["details"]) for e in await audit(api, p["id"])]
    assert entries[-2:] == [("apply", editor["id"], {"objects_updated": 2}),
                            ("transition", editor["id"], {"from": "approved", "to": "applied", "signature_id": None})]
    await api.error("POST", f"{base}/{p['id']}/apply", status=409,
                    message="change proposal must be approved before it is applied")


async def test_a_proposal_can_be_signed(api: Api, make_user: Any) -> None:
    _, token = await make_user("reviewer")
    m = (await api.module())["id"]
    p = await api.post(f"/modules/{m}/change-proposals", {"title": "t"}, token=token)
    sig = await api.post("/e-signatures", {"entity_type": "change_proposal", "entity_id": p["id"],
                                           "password": USER_PASSWORD, "meaning": "approved"}, token=token)
    assert sig["entity_type"] == "change_proposal" and sig["entity_version"] is None
    assert (await api.get(f"/e-signatures/{sig['id']}/verify"))["entity_changed"] is False
    await api.patch(f"/modules/{m}/change-proposals/{p['id']}", {"title": "changed"}, token=token)
    assert (await api.get(f"/e-signatures/{sig['id']}/verify"))["entity_changed"] is True


async def test_two_simultaneous_applies_apply_once(api: Api) -> None:
    m = (await api.module())["id"]
    o = await api.obj(m, heading="h")
    base = f"/modules/{m}/change-proposals"
    p = await api.post(base, {"title": "t", "diff_data": [change(o, "heading", "h", "H")]})
    await api.patch(f"{base}/{p['id']}", {"status": "approved"})
    got = await asyncio.gather(*(api.call("POST", f"{base}/{p['id']}/apply") for _ in range(2)))
    assert sorted("error" in g for g in got) == [False, True], got
    refused = next(g for g in got if "error" in g)
    assert refused["error"]["message"] == "change proposal must be approved before it is applied"
    after = await api.get(f"/modules/{m}/objects/{o['id']}")
    assert after["heading"] == "H" and after["current_version"] == o["current_version"] + 1
    assert [e["action"] for e in await audit(api, p["id"])].count("apply") == 1


async def test_a_refused_object_edit_rolls_the_apply_back(api: Api) -> None:
    m = (await api.module())["id"]
    model = await api.post(f"/modules/{m}/lifecycle-models", {
        "name": "L", "initial_state": "a", "states": [{"name": "a"}, {"name": "b"}, {"name": "c"}],
        "transitions": [{"from": "a", "to": "b"}]})
    first = await api.obj(m, heading="one")
    second = await api.obj(m, heading="two", lifecycle_model_id=model["id"])
    base = f"/modules/{m}/change-proposals"
    p = await api.post(base, {"title": "t", "diff_data": [change(first, "heading", "one", "ONE"),
                                                          change(second, "lifecycle_state", "a", "c")]})
    await api.patch(f"{base}/{p['id']}", {"status": "approved"})
    message = await api.error("POST", f"{base}/{p['id']}/apply", status=400)
    assert message == "lifecycle transition from 'a' to 'c' is not allowed"
    assert (await api.get(f"/modules/{m}/objects/{first['id']}"))["current_version"] == first["current_version"]
    assert (await api.get(f"{base}/{p['id']}"))["status"] == "approved"


class Recording(Api):
    """An Api that keeps every response it gets."""

    responses: list[tuple[str, str, int, Any]]

    async def call(self, method: str, path: str, json: Any = None, **kwargs: Any) -> Any:
        body = await super().call(method, path, json, **kwargs)
        url = path if path.startswith("/api/") else "/api/v1" + path
        self.responses.append((method, url, self.last_status, body))
        return body


async def test_responses_match_the_openapi_document(client: Any, admin_token: str) -> None:
    api = Recording(client, admin_token)
    api.responses = []
    m = (await api.module())["id"]
    o = await api.obj(m, heading="h")
    base = f"/modules/{m}/change-proposals"
    p = await api.post(base, {"title": "t", "description": "d", "diff_data": [change(o, "heading", "h", "H")]})
    await api.post(base, {"title": "empty"})
    await api.get(base)
    await api.get(f"{base}/{p['id']}")
    await api.patch(f"{base}/{p['id']}", {"status": "approved"})
    await api.error("PATCH", f"{base}/{p['id']}", {"diff_data": []}, status=409)
    await api.post(f"{base}/{p['id']}/apply", expect=200)
    await api.error("POST", f"{base}/{p['id']}/apply", status=409)
    await api.error("POST", base, {"title": "t", "diff_data": 1}, status=400)
    await api.delete(f"{base}/{p['id']}")
    document = await (await client.get("/api/docs/openapi.json")).json()
    checker = OpenApiChecker(document)
    problems = [p for method, url, status, body in api.responses for p in checker.problems(method, url, status, body)]
    assert problems == [] and checker.checked >= 10
