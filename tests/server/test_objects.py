"""Objects: create/read/update/delete, levels and moves, validation messages, conflicts, roles, placeholders."""

from __future__ import annotations

from typing import Any

import pytest
from domain_api import Api

from req1_server.domain.fingerprint import content_fingerprint


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


def levels(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(o["level"], o["heading"]) for o in items]


async def test_create_shape_levels_and_document_order(api: Api) -> None:
    module = await api.module()
    m = module["id"]
    a = await api.obj(m, heading="A", body="<p onclick='x'>alpha</p>", attributes={})
    assert a["level"] == "1" and a["position"] == 0 and a["current_version"] == 1
    assert a["body"] == "<p>alpha</p>"
    assert a["content_fingerprint"] == content_fingerprint("A", "<p>alpha</p>", {})
    assert a["references_"] == [] and a["reviewed_fingerprint"] is None and a["deleted_at"] is None
    assert a["classification"] == "normative" and a["is_placeholder"] is False
    assert list(a) == ["id", "module_id", "parent_id", "position", "level", "heading", "body", "attributes",
                       "current_version", "classification", "content_fingerprint", "reviewed_fingerprint",
                       "reviewed_at", "reviewed_by", "references_", "object_type_id", "lifecycle_state",
                       "lifecycle_model_id", "source_object_id", "source_module_id", "is_placeholder",
                       "docx_source_id", "deleted_at", "created_at", "updated_at"]
    b = await api.obj(m, heading="B")
    for i in range(10):
        await api.obj(m, heading=f"A{i}", parent_id=a["id"])
    await api.obj(m, heading="first", position=0)
    items = await api.objects(m)
    assert levels(items)[:3] == [("1", "first"), ("2", "A"), ("2.1", "A0")]
    assert levels(items)[-3:] == [("2.9", "A8"), ("2.10", "A9"), ("3", "B")]  # numeric, not text, order
    assert (await api.get(f"/modules/{m}/objects/{b['id']}"))["level"] == "3"


async def test_create_validation(api: Api) -> None:
    module = await api.module(required_attributes=["prio"])
    m = module["id"]
    await api.post(f"/modules/{m}/attribute-definitions", {"name": "prio", "data_type": "integer"})
    other = await api.module()
    foreign = await api.obj(other["id"], heading="x")
    cases = [
        ({"attributes": []}, 400, "attributes must be a JSON object"),
        ({"attributes": {"prio": "high"}}, 400, "attribute 'prio' must be an integer"),
        ({"attributes": {"nope": 1}}, 400, "unknown attribute 'nope'"),
        ({}, 400, "missing required attribute 'prio'"),
        ({"attributes": {"prio": 1}, "classification": "x"}, 400,
         "invalid classification 'x', must be one of: normative, informative, heading"),
        ({"attributes": {"prio": 1}, "parent_id": foreign["id"]}, 400, "parent must belong to the same module"),
        ({"attributes": {"prio": 1}, "position": "x"}, 400, "field 'position' must be an integer"),
        ({"attributes": {"prio": 1}, "object_type_id": foreign["id"]}, 400, f"object type '{foreign['id']}' not found"),
        ({"attributes": {"prio": 1}, "parent_id": "00000000-0000-0000-0000-000000000099"}, 404,
         "object 00000000-0000-0000-0000-000000000099 not found"),
    ]
    for body, status, message in cases:
        await api.error("POST", f"/modules/{m}/objects", body, status=status, message=message)
    missing = "00000000-0000-0000-0000-0000000000aa"
    await api.error("POST", f"/modules/{missing}/objects", {}, status=404, message=f"module {missing} not found")
    await api.error("POST", f"/modules/{m}/objects", None, status=415)


async def test_update_review_conflict_and_roles(api: Api, make_user: Any) -> None:
    module = await api.module()
    m = module["id"]
    obj = await api.obj(m, heading="H", body="<p>b</p>")
    path = f"/modules/{m}/objects/{obj['id']}"
    reviewed = await api.patch(path, {"reviewed": True, "expected_version": 1})
    assert reviewed["current_version"] == 2 and reviewed["reviewed_fingerprint"] == obj["content_fingerprint"]
    assert reviewed["reviewed_by"] == "00000000-0000-0000-0000-000000000002" and reviewed["reviewed_at"]
    await api.error("PATCH", path, {"heading": "x", "expected_version": 1}, status=409,
                    message=f"object {obj['id']} version conflict: expected 1, found 2")
    edited = await api.patch(path, {"heading": "H2", "reviewed": True})
    assert edited["reviewed_fingerprint"] is None and edited["current_version"] == 3  # content change clears review
    cleared = await api.patch(path, {"body": None, "lifecycle_state": "draft"})
    assert cleared["body"] is None and cleared["lifecycle_state"] == "draft"
    same = await api.patch(path, {})
    assert same["current_version"] == 5  # a PATCH that validates is a mutation
    _, viewer = await make_user("viewer")
    _, reviewer = await make_user("reviewer")
    await api.error("PATCH", path, {"reviewed": True}, status=403, message="insufficient role: requires reviewer",
                    token=viewer)
    await api.error("POST", f"/modules/{m}/objects", {"heading": "x"}, status=403, token=viewer,
                    message="insufficient role: requires editor")
    ok = await api.patch(path, {"reviewed": True, "expected_version": 5}, token=reviewer)
    assert ok["reviewed_fingerprint"] == ok["content_fingerprint"]
    await api.error("PATCH", path, {"heading": "no"}, status=403, token=reviewer,
                    message="insufficient role: requires editor")
    assert (await api.get(path, token=viewer))["heading"] == "H2"


async def test_moves_and_soft_delete(api: Api) -> None:
    m = (await api.module())["id"]
    a = await api.obj(m, heading="a")
    b = await api.obj(m, heading="b")
    c = await api.obj(m, heading="c")
    b1 = await api.obj(m, heading="b1", parent_id=b["id"])
    move = f"/modules/{m}/objects/{{}}/move"
    await api.post(move.format(c["id"]), {"action": "indent"}, expect=200)
    assert levels(await api.objects(m)) == [("1", "a"), ("2", "b"), ("2.1", "b1"), ("2.2", "c")]
    moved = await api.post(move.format(c["id"]), {"action": "move_to", "parent_id": None, "position": 0}, expect=200)
    assert moved["level"] == "1" and moved["current_version"] == 3
    await api.error("POST", move.format(c["id"]), {"action": "up"}, status=400, message="object is already at the top")
    await api.error("POST", move.format(b["id"]), {"action": "move_to", "parent_id": b1["id"]}, status=400,
                    message="cannot move an object under itself or its descendants")
    await api.error("POST", move.format(a["id"]), {"action": "dedent"}, status=400,
                    message="cannot dedent: object is already at root level")
    await api.error("POST", move.format(a["id"]), {"action": "fly"}, status=400)
    ghost = "00000000-0000-0000-0000-0000000000f1"
    await api.error("POST", move.format(a["id"]), {"action": "move_to", "parent_id": ghost}, status=404,
                    message=f"object {ghost} not found")
    await api.error("PATCH", f"/modules/{m}/objects/{a['id']}", {"parent_id": ghost}, status=404)
    other = (await api.module())["id"]
    foreign = await api.obj(other, heading="foreign")
    await api.error("PATCH", f"/modules/{m}/objects/{a['id']}", {"parent_id": foreign["id"]}, status=400,
                    message="parent must belong to the same module")
    under = await api.patch(f"/modules/{m}/objects/{a['id']}", {"parent_id": c["id"], "position": 0})
    assert under["level"] == "1.1" and under["parent_id"] == c["id"]
    await api.patch(f"/modules/{m}/objects/{a['id']}", {"parent_id": None, "position": 1})
    await api.error("POST", move.format(a["id"]), {"action": "down", "expected_version": 9}, status=409)
    # delete b: its child takes its place
    await api.delete(f"/modules/{m}/objects/{b['id']}")
    assert levels(await api.objects(m)) == [("1", "c"), ("2", "a"), ("3", "b1")]
    await api.error("GET", f"/modules/{m}/objects/{b['id']}", status=404, message=f"object {b['id']} not found")
    gone = await api.get(f"/modules/{m}/objects/{b['id']}?include_deleted=true")
    assert gone["deleted_at"] is not None and gone["level"] == "3"  # keeps its last level
    assert len(await api.objects(m, "?include_deleted=true")) == 4
    await api.error("PATCH", f"/modules/{m}/objects/{b['id']}", {"heading": "x"}, status=404)
    await api.error("DELETE", f"/modules/{m}/objects/{b['id']}", status=404)
    history = await api.get(f"/modules/{m}/objects/{b1['id']}/history")
    assert [h["change_type"] for h in history["items"]] == ["move", "create"]


async def test_list_filters_and_sorting(api: Api) -> None:
    m = (await api.module())["id"]
    await api.obj(m, heading="100% sure_x", body="<p>Alpha</p>", classification="informative")
    b = await api.obj(m, heading="plain", body="<p>beta</p>")
    await api.obj(m, heading="z heading", classification="heading")
    assert [o["heading"] for o in await api.objects(m, "?heading=100%25")] == ["100% sure_x"]
    assert [o["heading"] for o in await api.objects(m, "?heading=_")] == ["100% sure_x"]
    assert [o["heading"] for o in await api.objects(m, "?body=ALPHA")] == ["100% sure_x"]
    assert [o["heading"] for o in await api.objects(m, "?classification=heading")] == ["z heading"]
    await api.patch(f"/modules/{m}/objects/{b['id']}", {"reviewed": True})
    assert len(await api.objects(m, "?needs_review=true")) == 2
    ordered = await api.objects(m, "?sort_by=heading&sort_dir=desc")
    assert [o["heading"] for o in ordered] == ["z heading", "plain", "100% sure_x"]
    page = await api.get(f"/modules/{m}/objects?offset=1&limit=1")
    assert page["total"] == 3 and page["offset"] == 1 and len(page["items"]) == 1
    await api.error("GET", f"/modules/{m}/objects?limit=0", status=400,
                    message="limit must be an integer between 1 and 1000")


async def test_placeholders(api: Api) -> None:
    m = (await api.module())["id"]
    src = await api.obj(m, heading="src", body="<p>s</p>")
    ph = await api.obj(m, is_placeholder=True, source_object_id=src["id"])
    assert ph["heading"] == "src" and ph["source_module_id"] == m and ph["is_placeholder"]
    await api.error("POST", f"/modules/{m}/objects", {"is_placeholder": True, "source_object_id": ph["id"]},
                    status=400)
    await api.error("POST", f"/modules/{m}/objects/{src['id']}/sync", status=400, message="object is not a placeholder")
    await api.patch(f"/modules/{m}/objects/{src['id']}", {"heading": "src2"})
    assert await api.post(f"/modules/{m}/sync-placeholders", expect=200) == {"synced": 1}
    synced = await api.get(f"/modules/{m}/objects/{ph['id']}")
    assert synced["heading"] == "src2" and synced["current_version"] == 2
    again = await api.post(f"/modules/{m}/objects/{ph['id']}/sync", expect=200)
    assert again["current_version"] == 3
    broken = await api.post(f"/modules/{m}/objects/{ph['id']}/break-link", expect=200)
    assert broken["is_placeholder"] is False and broken["source_object_id"] is None
    history = await api.get(f"/modules/{m}/objects/{ph['id']}/history")
    assert [h["change_type"] for h in history["items"]] == ["update", "sync", "sync", "create"]


async def test_created_without_attributes_answers_null(api: Api) -> None:
    """#13.11: absent attributes stay null (the contract's rule for absent nullable fields, and the original's),
    so the fingerprint hashes no attribute map, as the original's does for the same content."""
    m = (await api.module())["id"]
    a = await api.obj(m, heading="A", body="<p>alpha</p>")
    assert a["attributes"] is None
    assert a["content_fingerprint"] == content_fingerprint("A", "<p>alpha</p>", None)
    assert a["content_fingerprint"] != content_fingerprint("A", "<p>alpha</p>", {})
    assert (await api.get(f"/modules/{m}/objects/{a['id']}"))["attributes"] is None
    # an explicit empty map is kept as given
    assert (await api.obj(m, heading="B", attributes={}))["attributes"] == {}
    # content edits keep null; a placeholder of it copies null; history records null
    edited = await api.patch(f"/modules/{m}/objects/{a['id']}", {"heading": "A2"})
    assert edited["attributes"] is None and edited["content_fingerprint"] == content_fingerprint("A2", "<p>alpha</p>",
                                                                                                 None)
    moved = await api.patch(f"/modules/{m}/objects/{a['id']}", {"position": 1})
    assert moved["attributes"] is None
    p = await api.obj(m, is_placeholder=True, source_object_id=a["id"])
    assert p["attributes"] is None
    history = await api.get(f"/modules/{m}/objects/{a['id']}/history")
    assert all(h["attribute_values"] is None for h in history["items"]), history
    # a definition with a default fills the map of an object created without attributes
    await api.post(f"/modules/{m}/attribute-definitions", {"name": "prio", "data_type": "string",
                                                           "default_value": "low"})
    assert (await api.obj(m, heading="C"))["attributes"] == {"prio": "low"}
