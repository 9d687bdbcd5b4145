"""Object types (§1) route by route with roles, and their enforcement on object create and update."""

from __future__ import annotations

from typing import Any

import pytest
from domain_api import Api

MISSING = "00000000-0000-0000-0000-0000000000aa"
LAYOUT = {"sections": [{"id": "main", "title": "Main", "fields": [
    {"attribute_name": "owner", "required": True}, {"attribute_name": "prio", "width": "full"}]}]}


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


async def typed_module(api: Api) -> str:
    m = str((await api.module())["id"])
    await api.post(f"/modules/{m}/attribute-definitions", {"name": "prio", "data_type": "integer"})
    await api.post(f"/modules/{m}/attribute-definitions", {"name": "owner", "data_type": "string"})
    return m


async def test_routes_and_roles(api: Api, make_user: Any) -> None:
    m = await typed_module(api)
    _, editor = await make_user("editor")
    _, reviewer = await make_user("reviewer")
    _, viewer = await make_user("viewer")
    created = await api.post("/object-types", {"module_id": m, "name": "Requirement", "required_attributes": ["prio"],
                                               "attribute_schema": LAYOUT}, token=editor)
    assert created["default_classification"] == "normative" and created["description"] is None
    assert created["attribute_schema"]["sections"][0]["columns"] == 1  # defaults filled in
    assert created["attribute_schema"]["sections"][0]["fields"][0]["order"] == 0
    await api.post("/object-types", {"module_id": m, "name": "Heading", "default_classification": "heading"})
    for token in (reviewer, viewer):
        await api.error("POST", "/object-types", {"module_id": m, "name": "X"}, status=403, token=token,
                        message="insufficient role: requires editor")
        await api.error("PATCH", f"/object-types/{created['id']}", {"name": "X"}, status=403, token=token)
        await api.error("DELETE", f"/object-types/{created['id']}", status=403, token=token)
    listed = await api.get(f"/object-types?module_id={m}", token=viewer)
    assert [t["name"] for t in listed["items"]] == ["Heading", "Requirement"] and listed["limit"] == 1000
    assert (await api.get(f"/object-types/{created['id']}", token=viewer))["name"] == "Requirement"
    patched = await api.patch(f"/object-types/{created['id']}", {"description": "d", "module_id": MISSING,
                                                                 "required_attributes": ["owner"]}, token=editor)
    assert patched["description"] == "d" and patched["module_id"] == m and patched["required_attributes"] == ["owner"]
    cleared = await api.patch(f"/object-types/{created['id']}", {"description": None}, token=editor)
    assert cleared["description"] is None
    await api.delete(f"/object-types/{created['id']}", token=editor)
    await api.error("GET", f"/object-types/{created['id']}", status=404,
                    message=f"object_type {created['id']} not found")
    await api.error("DELETE", f"/object-types/{created['id']}", status=404)
    log = (await api.get(f"/audit-log?entity_type=object_type&entity_id={created['id']}"))["items"]
    assert [e["action"] for e in log] == ["delete", "update", "update", "create"]


async def test_bad_input(api: Api) -> None:
    m = await typed_module(api)
    await api.post("/object-types", {"module_id": m, "name": "Req"})
    other = (await api.module())["id"]
    assert (await api.post("/object-types", {"module_id": other, "name": "Req"}))["name"] == "Req"
    cases = [
        ({"name": "x"}, 400, "missing required field 'module_id'"),
        ({"module_id": m, "name": "  "}, 400, "name must not be empty"),
        ({"module_id": m, "name": "x", "default_classification": "x"}, 400,
         "invalid classification 'x', must be one of: normative, informative, heading"),
        ({"module_id": m, "name": "x", "required_attributes": ["prio", "nope"]}, 400, "unknown attribute 'nope'"),
        ({"module_id": m, "name": "x", "required_attributes": "prio"}, 400,
         "field 'required_attributes' must be an array of strings"),
        ({"module_id": m, "name": "x", "attribute_schema": []}, 400, "invalid attribute_schema: must be an object"),
        ({"module_id": m, "name": "x", "attribute_schema": {"sections": [{"id": "s", "title": "t"}]}}, 400,
         "invalid attribute_schema: sections.0.fields: field required"),
        ({"module_id": m, "name": "x", "attribute_schema": {"sections": [{"id": "s", "title": "t", "columns": "2",
                                                                          "fields": []}]}}, 400,
         "invalid attribute_schema: sections.0.columns: input should be a valid integer"),
        ({"module_id": m, "name": "Req"}, 409, "object type 'Req' already exists in this module"),
        ({"module_id": MISSING, "name": "x"}, 404, f"module {MISSING} not found"),
    ]
    for body, status, message in cases:
        await api.error("POST", "/object-types", body, status=status, message=message)
    await api.error("GET", "/object-types", status=400, message="missing required parameter 'module_id'")
    await api.error("GET", f"/object-types?module_id={MISSING}", status=404, message=f"module {MISSING} not found")
    second = await api.post("/object-types", {"module_id": m, "name": "Other"})
    await api.error("PATCH", f"/object-types/{second['id']}", {"name": "Req"}, status=409,
                    message="object type 'Req' already exists in this module")
    await api.error("PATCH", f"/object-types/{MISSING}", {"name": "y"}, status=404)


async def test_enforced_on_object_create_and_update(api: Api) -> None:
    m = await typed_module(api)
    req = await api.post("/object-types", {"module_id": m, "name": "Req", "required_attributes": ["prio"],
                                           "attribute_schema": LAYOUT, "default_classification": "informative"})
    plain = await api.post("/object-types", {"module_id": m, "name": "Plain"})
    foreign = await api.post("/object-types", {"module_id": (await api.module())["id"], "name": "F"})
    objects = f"/modules/{m}/objects"
    for body, message in (
        ({"object_type_id": req["id"]}, "object type 'Req' requires attribute 'prio'"),
        ({"object_type_id": req["id"], "attributes": {"prio": 1}}, "object type 'Req' requires attribute 'owner'"),
        ({"object_type_id": req["id"], "attributes": {"prio": 1, "owner": None}},
         "object type 'Req' requires attribute 'owner'"),
        ({"object_type_id": foreign["id"]}, "object type must belong to the same module"),
        ({"object_type_id": MISSING}, f"object type '{MISSING}' not found"),
    ):
        await api.error("POST", objects, body, status=400, message=message)
    obj = await api.obj(m, object_type_id=req["id"], attributes={"prio": 1, "owner": "ann"})
    assert obj["object_type_id"] == req["id"] and obj["classification"] == "informative"  # body > type > module
    explicit = await api.obj(m, object_type_id=plain["id"], classification="heading")
    assert explicit["classification"] == "heading" and explicit["object_type_id"] == plain["id"]
    item = f"{objects}/{obj['id']}"
    await api.error("PATCH", item, {"attributes": {"prio": 2}}, status=400,
                    message="object type 'Req' requires attribute 'owner'")
    await api.error("PATCH", item, {"object_type_id": foreign["id"]}, status=400,
                    message="object type must belong to the same module")
    await api.error("PATCH", item, {"object_type_id": MISSING}, status=400,
                    message=f"object type '{MISSING}' not found")
    assert (await api.patch(item, {"heading": "still typed"}))["object_type_id"] == req["id"]
    assert (await api.patch(item, {"attributes": {"prio": 2, "owner": "bob"}}))["attributes"]["prio"] == 2
    untyped = await api.obj(m, heading="u")
    await api.error("PATCH", f"{objects}/{untyped['id']}", {"object_type_id": req["id"]}, status=400,
                    message="object type 'Req' requires attribute 'prio'")
    moved = await api.patch(f"{objects}/{untyped['id']}", {"object_type_id": plain["id"], "position": 0})
    assert moved["object_type_id"] == plain["id"]  # the structural path checks too
    await api.error("PATCH", f"{objects}/{untyped['id']}", {"object_type_id": req["id"], "position": 1}, status=400,
                    message="object type 'Req' requires attribute 'prio'")
    assert (await api.patch(item, {"object_type_id": None}))["object_type_id"] is None
    await api.patch(item, {"object_type_id": req["id"]})
    await api.delete(f"/object-types/{req['id']}")
    after = await api.get(item)
    assert after["object_type_id"] is None and after["attributes"] == {"prio": 2, "owner": "bob"}


async def test_validation_reports_what_the_type_requires(api: Api) -> None:
    m = await typed_module(api)
    req = await api.post("/object-types", {"module_id": m, "name": "Req", "attribute_schema": LAYOUT})
    obj = await api.obj(m, heading="h", body="b", object_type_id=req["id"], attributes={"owner": "ann"})
    await api.patch(f"/object-types/{req['id']}", {"required_attributes": ["prio"]})  # stored objects not re-checked
    issues = (await api.get(f"/modules/{m}/validate"))["issues"]
    assert [(i["rule"], i["object_id"], i["message"]) for i in issues if i["severity"] == "error"] == [
        ("missing_required_attribute", obj["id"], "[1] object type 'Req' requires attribute 'prio'")]

