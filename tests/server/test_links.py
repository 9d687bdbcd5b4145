"""Link types and links: CRUD, validation, suspect flagging at either end and its resolution, roles."""

from __future__ import annotations

from typing import Any

import pytest
from domain_api import Api

SATISFIES = "00000000-0000-0000-0000-000000000010"


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


async def test_link_types(api: Api) -> None:
    types = await api.get("/link-types")
    assert isinstance(types, list)
    assert [t["name"] for t in types] == ["derives-from", "implements", "mitigates", "satisfies", "verifies"]
    created = await api.post("/link-types", {"name": "refines", "description": "r"})
    assert (await api.patch(f"/link-types/{created['id']}", {"description": None}))["description"] is None
    await api.delete(f"/link-types/{created['id']}")
    await api.error("GET", f"/link-types/{created['id']}", status=404)


async def test_links_and_suspect_rule(api: Api, make_user: Any) -> None:
    m1 = (await api.module())["id"]
    m2 = (await api.module())["id"]
    req = await api.obj(m1, heading="req", body="<p>r</p>")
    impl = await api.obj(m2, heading="impl")
    other = await api.obj(m2, heading="other")
    link = await api.post("/links", {"source_object_id": impl["id"], "target_object_id": req["id"],
                                     "link_type_id": SATISFIES})
    assert link["suspect"] is False
    assert link["source_fingerprint"] == impl["content_fingerprint"]
    assert link["target_fingerprint"] == req["content_fingerprint"]
    second = await api.post("/links", {"source_object_id": other["id"], "target_object_id": req["id"],
                                       "link_type_id": SATISFIES})
    base = {"source_object_id": impl["id"], "target_object_id": req["id"], "link_type_id": SATISFIES}
    await api.error("POST", "/links", base, status=400,
                    message="a link with this source, target, and type already exists")
    await api.error("POST", "/links", {**base, "target_object_id": impl["id"]}, status=400,
                    message="source and target must be different objects")
    missing = "00000000-0000-0000-0000-0000000000ab"
    await api.error("POST", "/links", {**base, "source_object_id": missing}, status=404,
                    message=f"source object {missing} not found")
    await api.error("POST", "/links", {**base, "link_type_id": missing}, status=404,
                    message=f"link type {missing} not found")
    await api.error("DELETE", f"/link-types/{SATISFIES}", status=409)
    listing = await api.get(f"/links?module_id={m1}")
    assert [item["id"] for item in listing["items"]] == [link["id"], second["id"]]
    assert (await api.get(f"/links?source_object_id={impl['id']}"))["total"] == 1

    # a move or a review never makes a link suspect
    await api.patch(f"/modules/{m1}/objects/{req['id']}", {"reviewed": True})
    await api.post(f"/modules/{m2}/objects/{impl['id']}/move", {"action": "down"}, expect=200)
    assert (await api.get(f"/links/{link['id']}"))["suspect"] is False
    # a content change at the target end flags both links
    await api.patch(f"/modules/{m1}/objects/{req['id']}", {"body": "<p>changed</p>"})
    assert (await api.get(f"/links/{link['id']}"))["suspect"] is True
    assert (await api.get(f"/links/{second['id']}"))["suspect"] is True
    # reviewers may resolve
    _, reviewer = await make_user("reviewer")
    resolved = await api.patch(f"/links/{link['id']}", {"suspect": False}, token=reviewer)
    current = await api.get(f"/modules/{m1}/objects/{req['id']}")
    assert resolved["suspect"] is False and resolved["target_fingerprint"] == current["content_fingerprint"]
    await api.error("PATCH", f"/links/{link['id']}", {"attributes": {"x": 1}}, status=403, token=reviewer)
    # change at the source end flags it again
    await api.patch(f"/modules/{m2}/objects/{impl['id']}", {"heading": "impl2"})
    assert (await api.get(f"/links/{link['id']}"))["suspect"] is True
    # deleting an end removes its links
    await api.delete(f"/modules/{m2}/objects/{impl['id']}")
    await api.error("GET", f"/links/{link['id']}", status=404)
    _, viewer = await make_user("viewer")
    await api.error("POST", "/links", base, status=403, token=viewer, message="insufficient role: requires editor")
    await api.delete(f"/links/{second['id']}")
