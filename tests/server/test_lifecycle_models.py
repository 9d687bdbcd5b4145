"""Lifecycle models (§2) route by route with roles, module defaults, and the states and transitions enforced on
objects, including the first transition and a transition's required role."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from domain_api import Api

MISSING = "00000000-0000-0000-0000-0000000000aa"
STATES = [{"name": "draft"}, {"name": "review", "color": "#ff0"}, {"name": "approved", "description": "final"}]
TRANSITIONS = [{"from": "draft", "to": "review"}, {"from": "review", "to": "draft"},
               {"from": "review", "to": "approved", "required_role": "admin"}]


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


async def test_routes_and_roles(api: Api, make_user: Any) -> None:
    m = (await api.module())["id"]
    base = f"/modules/{m}/lifecycle-models"
    _, editor = await make_user("editor")
    _, reviewer = await make_user("reviewer")
    assert await api.get(base, token=reviewer) == []
    model = await api.post(base, {"name": "Std", "initial_state": "draft", "states": STATES,
                                  "transitions": TRANSITIONS}, token=editor)
    assert model["states"][0] == {"name": "draft", "color": None, "description": None}  # both keys, always
    assert model["transitions"][0] == {"from": "draft", "to": "review"}  # no required_role when unset
    assert model["transitions"][2]["required_role"] == "admin" and model["description"] is None
    bare = await api.post(base, {"name": "Bare"})
    assert (bare["initial_state"], bare["states"], bare["transitions"]) == ("new", [], [])
    assert [x["name"] for x in await api.get(base, token=reviewer)] == ["Std", "Bare"]  # by creation
    for verb, path, body in (("POST", base, {"name": "X"}), ("PATCH", f"{base}/{model['id']}", {"name": "X"}),
                             ("DELETE", f"{base}/{model['id']}", None)):
        await api.error(verb, path, body, status=403, token=reviewer, message="insufficient role: requires editor")
    patched = await api.patch(f"{base}/{model['id']}", {"states": STATES[:2], "transitions": TRANSITIONS[:2],
                                                        "description": "d"}, token=editor)
    assert len(patched["states"]) == 2 and len(patched["transitions"]) == 2 and patched["description"] == "d"
    assert (await api.get(f"{base}/{model['id']}", token=reviewer))["name"] == "Std"
    other = (await api.module())["id"]
    await api.error("GET", f"/modules/{other}/lifecycle-models/{model['id']}", status=404,
                    message=f"lifecycle model {model['id']} not found")
    await api.error("GET", f"/modules/{MISSING}/lifecycle-models", status=404, message=f"module {MISSING} not found")
    await api.delete(f"{base}/{bare['id']}", token=editor)
    assert [x["name"] for x in await api.get(base)] == ["Std"]
    log = (await api.get(f"/audit-log?entity_type=lifecycle_model&entity_id={model['id']}"))["items"]
    assert [e["action"] for e in log] == ["update", "create"] and log[0]["user_id"] is not None


async def test_bad_models(api: Api) -> None:
    m = (await api.module())["id"]
    base = f"/modules/{m}/lifecycle-models"
    cases = [
        ({"name": " "}, "name must not be empty"),
        ({"name": "x", "states": [{"name": "a"}, {"name": "a"}], "initial_state": "a"}, "duplicate state 'a'"),
        ({"name": "x", "states": [{"name": "a"}]}, "initial_state 'new' is not one of the states"),
        ({"name": "x", "states": [{"name": "a"}], "initial_state": "a", "transitions": [{"from": "a", "to": "b"}]},
         "transition references unknown state 'b'"),
        ({"name": "x", "transitions": [{"from": "a", "to": "b", "required_role": "boss"}]},
         "invalid required_role 'boss', must be one of: admin, editor, reviewer, viewer"),
        ({"name": "x", "states": ["a"]}, "each state must be an object with a non-empty 'name'"),
        ({"name": "x", "transitions": [{"from": "a"}]},
         "each transition must be an object with string 'from' and 'to'"),
        ({"name": "x", "states": "a"}, "field 'states' must be an array"),
    ]
    for body, message in cases:
        await api.error("POST", base, body, status=400, message=message)
    model = await api.post(base, {"name": "Std", "initial_state": "draft", "states": STATES})
    await api.error("PATCH", f"{base}/{model['id']}", {"initial_state": "gone"}, status=400,
                    message="initial_state 'gone' is not one of the states")
    await api.error("PATCH", f"{base}/{model['id']}", {"states": [{"name": "x"}]}, status=400,
                    message="initial_state 'draft' is not one of the states")


async def test_module_default_and_delete(api: Api) -> None:
    m = (await api.module())["id"]
    model = await api.post(f"/modules/{m}/lifecycle-models", {"name": "Std", "initial_state": "draft",
                                                              "states": STATES, "transitions": TRANSITIONS})
    foreign = await api.post(f"/modules/{(await api.module())['id']}/lifecycle-models", {"name": "F"})
    for model_id in (foreign["id"], MISSING):
        await api.error("PATCH", f"/modules/{m}", {"default_lifecycle_model_id": model_id}, status=400,
                        message=f"lifecycle model '{model_id}' not found")
    module = await api.patch(f"/modules/{m}", {"default_lifecycle_model_id": model["id"]})
    assert module["default_lifecycle_model_id"] == model["id"]
    obj = await api.obj(m, heading="defaulted")
    assert obj["lifecycle_model_id"] == model["id"] and obj["lifecycle_state"] == "draft"
    await api.delete(f"/modules/{m}/lifecycle-models/{model['id']}")
    assert (await api.get(f"/modules/{m}"))["default_lifecycle_model_id"] is None
    after = await api.get(f"/modules/{m}/objects/{obj['id']}")
    assert after["lifecycle_model_id"] is None and after["lifecycle_state"] == "draft"  # the text stays
    free = await api.patch(f"/modules/{m}/objects/{obj['id']}", {"lifecycle_state": "anything"})
    assert free["lifecycle_state"] == "anything"  # no model: free text
    unset = await api.patch(f"/modules/{m}", {"default_lifecycle_model_id": None})
    assert unset["default_lifecycle_model_id"] is None


async def test_states_and_transitions_on_objects(api: Api, make_user: Any, pg_dsn: str) -> None:
    m = (await api.module())["id"]
    model = await api.post(f"/modules/{m}/lifecycle-models", {"name": "Std", "initial_state": "draft",
                                                              "states": STATES, "transitions": TRANSITIONS})
    objects = f"/modules/{m}/objects"
    other = (await api.module())["id"]
    foreign = await api.post(f"/modules/{other}/lifecycle-models", {"name": "F"})
    for body, message in (
        ({"lifecycle_model_id": foreign["id"]}, f"lifecycle model '{foreign['id']}' not found"),
        ({"lifecycle_model_id": MISSING}, f"lifecycle model '{MISSING}' not found"),
        ({"lifecycle_model_id": model["id"], "lifecycle_state": "nope"},
         "lifecycle state 'nope' is not defined in model 'Std'"),
    ):
        await api.error("POST", objects, body, status=400, message=message)
    obj = await api.obj(m, heading="h", lifecycle_model_id=model["id"])
    assert obj["lifecycle_state"] == "draft" and obj["lifecycle_model_id"] == model["id"]
    item = f"{objects}/{obj['id']}"
    _, editor = await make_user("editor")
    await api.error("PATCH", item, {"lifecycle_state": "approved"}, status=400,
                    message="lifecycle transition from 'draft' to 'approved' is not allowed")
    unchanged = await api.patch(item, {"lifecycle_state": "draft"}, token=editor)  # a no-op state change
    moved = await api.patch(item, {"lifecycle_state": "review"}, token=editor)
    assert moved["lifecycle_state"] == "review" and moved["current_version"] == unchanged["current_version"] + 1
    assert moved["content_fingerprint"] == obj["content_fingerprint"]  # state is not content
    await api.error("PATCH", item, {"lifecycle_state": "approved"}, status=403, token=editor,
                    message="insufficient role: requires admin")
    # the structural path checks the transition too
    await api.error("PATCH", item, {"lifecycle_state": "gone", "position": 0}, status=400,
                    message="lifecycle transition from 'review' to 'gone' is not allowed")
    assert (await api.patch(item, {"lifecycle_state": "approved"}))["lifecycle_state"] == "approved"
    history = (await api.get(f"{item}/history"))["items"]
    assert [h["change_type"] for h in history[:2]] == ["update", "update"]
    await api.error("PATCH", item, {"lifecycle_state": None}, status=400,
                    message="lifecycle transition from 'approved' to '' is not allowed")
    # no state yet (an object stored before its model had states): the only way in is the initial state
    started = await api.obj(m, heading="s", lifecycle_model_id=model["id"])
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute("UPDATE object SET lifecycle_state = NULL WHERE id = $1", uuid.UUID(started["id"]))
    finally:
        await conn.close()
    await api.error("PATCH", f"{objects}/{started['id']}", {"lifecycle_state": "review"}, status=400,
                    message="lifecycle transition from '' to 'review' is not allowed")
    assert (await api.patch(f"{objects}/{started['id']}", {"lifecycle_state": "draft"}))["lifecycle_state"] == "draft"


async def test_module_from_template_copies_types_and_models(api: Api) -> None:
    module = await api.module()
    m = module["id"]
    model = await api.post(f"/modules/{m}/lifecycle-models", {"name": "Std", "initial_state": "draft",
                                                              "states": STATES, "transitions": TRANSITIONS})
    kind = await api.post("/object-types", {"module_id": m, "name": "Req"})
    await api.patch(f"/modules/{m}", {"default_lifecycle_model_id": model["id"]})
    await api.obj(m, heading="typed", object_type_id=kind["id"])
    await api.obj(m, heading="plain")
    copy = await api.post("/modules/from-template", {"name": "Copy", "project_id": module["project_id"],
                                                     "template_module_id": m, "copy_objects": True})
    [copied_model] = await api.get(f"/modules/{copy['id']}/lifecycle-models")
    [copied_type] = (await api.get(f"/object-types?module_id={copy['id']}"))["items"]
    assert copied_model["id"] != model["id"] and copied_model["states"] == model["states"]
    assert copied_type["id"] != kind["id"] and copied_type["name"] == "Req"
    assert copy["default_lifecycle_model_id"] == copied_model["id"]
    objects = {o["heading"]: o for o in await api.objects(copy["id"])}
    assert objects["typed"]["object_type_id"] == copied_type["id"] and objects["plain"]["object_type_id"] is None
    assert {o["lifecycle_model_id"] for o in objects.values()} == {copied_model["id"]}
    assert {o["lifecycle_state"] for o in objects.values()} == {"draft"}


async def test_csv_import_applies_the_module_default_model(api: Api, client: Any) -> None:
    """Imported objects start like created ones: in the module's default model, at its initial state."""
    m = (await api.module())["id"]
    model = await api.post(f"/modules/{m}/lifecycle-models", {"name": "Std", "initial_state": "draft",
                                                              "states": STATES, "transitions": TRANSITIONS})
    await api.patch(f"/modules/{m}", {"default_lifecycle_model_id": model["id"]})
    resp = await client.post(f"/api/v1/modules/{m}/import/csv", data=b"level,heading\n1,One\n1,Two\n",
                             headers={"Authorization": f"Bearer {api.token}", "Content-Type": "text/csv"})
    assert resp.status == 200, await resp.text()
    items = (await api.get(f"/modules/{m}/objects"))["items"]
    assert [(o["heading"], o["lifecycle_model_id"], o["lifecycle_state"]) for o in items] == [
        ("One", model["id"], "draft"), ("Two", model["id"], "draft")]
    moved = await api.patch(f"/modules/{m}/objects/{items[0]['id']}", {"lifecycle_state": "review"})
    assert moved["lifecycle_state"] == "review"  # the model's transitions apply to imported objects
