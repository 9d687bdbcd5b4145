"""Project templates (extended contract §11) on the real services: the routes with their roles and refusals, each
built-in instantiated into the project §11.1 describes (seed objects created like API-created ones), link types
matched or created, and an instantiation that fails half-way leaving nothing behind."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from domain_api import Api

from req1_server.domain.fingerprint import content_fingerprint

BASE = "/project-templates"
MISSING = "00000000-0000-0000-0000-0000000000aa"
ISO, DO, IEC = (f"00000000-0000-0000-0000-00000000030{n}" for n in (1, 2, 3))
COLOURS = {"draft": "#6B7280", "review": "#F59E0B", "in_review": "#F59E0B", "approved": "#10B981",
           "released": "#3B82F6"}
ASIL = ("ASIL", "enum", ["QM", "A", "B", "C", "D"])
METHOD = ("Verification Method", "enum", ["Review", "Analysis", "Simulation", "Test"])
DAL = ("DAL", "enum", ["A", "B", "C", "D", "E"])
LEVEL = ("Software Level", "enum", ["Level A", "Level B", "Level C", "Level D", "Level E"])
DERIVED = ("Derived Requirement", "bool", None)
SAFETY_CLASS = ("Safety Class", "enum", ["A", "B", "C"])
MEASURE = ("Risk Control Measure", "string", None)

# §11.1, written out from the contract: name → (version, attributes, lifecycle, review state, link types,
# modules as (name, prefix, {object type: required attributes}, {seed group: [seed IDs]}))
BUILTINS: dict[str, tuple[str, Any, str, str, list[str], list[Any]]] = {
    ISO: ("2018", [ASIL, METHOD], "ISO 26262 Lifecycle", "in_review", ["Satisfies", "Verifies", "Derives From"], [
        ("Safety Requirements Specification", "SRS",
         {"Safety Goal": ["ASIL"], "Functional Safety Requirement": ["ASIL", "Verification Method"]},
         {"Safety Goals": ["SG-001"], "Functional Safety Requirements": ["FSR-001"]}),
        ("Technical Safety Concept", "TSC", {"Technical Safety Requirement": ["ASIL"]},
         {"Technical Safety Requirements": ["TSR-001"]}),
        ("Hardware Safety Requirements", "HWSR", {"Hardware Safety Requirement": ["ASIL"]},
         {"Hardware Safety Requirements": ["HWSR-001"]}),
        ("Software Safety Requirements", "SWSR", {"Software Safety Requirement": ["ASIL"]},
         {"Software Safety Requirements": ["SWSR-001"]}),
        ("Safety Validation Plan", "SVP", {"Validation Requirement": ["Verification Method"]},
         {"Validation Activities": ["VAL-001"]}),
    ]),
    DO: ("2011", [DAL, LEVEL, DERIVED], "DO-178C Lifecycle", "review", ["Satisfies", "Verifies", "Derives From"], [
        ("System Requirements", "SYSREQ", {"System Requirement": ["DAL"]}, {"System Requirements": ["SYSREQ-001"]}),
        ("High-Level Requirements", "HLR", {"High-Level Requirement": ["DAL"]},
         {"High-Level Requirements": ["HLR-001"]}),
        ("Low-Level Requirements", "LLR", {"Low-Level Requirement": ["DAL"]}, {"Low-Level Requirements": ["LLR-001"]}),
        ("Software Design", "SDD", {"Design Element": []}, {"Software Architecture": ["SDD-001"]}),
        ("Test Cases", "TC", {"Test Case": ["DAL"]}, {"Test Procedures": ["TC-001"]}),
    ]),
    IEC: ("2015", [SAFETY_CLASS, MEASURE], "IEC 62304 Lifecycle", "review", ["Satisfies", "Implements", "Mitigates"], [
        ("Software Requirements Specification", "SWRS", {"Software Requirement": ["Safety Class"],
                                                          "Risk Control Requirement": ["Safety Class",
                                                                                       "Risk Control Measure"]},
         {"Functional Requirements": ["SWRS-001"], "Performance Requirements": ["SWRS-002"]}),
        ("Software Architecture", "SWARCH", {"Architecture Element": ["Safety Class"]},
         {"Software Items": ["SWARCH-001"], "Segregation": ["SWARCH-002"]}),
        ("Detailed Design", "SWDD", {"Design Element": ["Safety Class"]},
         {"Software Unit Design": ["SWDD-001"], "Algorithm Design": ["SWDD-002"]}),
    ]),
}
STANDARDS = {ISO: "ISO 26262", DO: "DO-178C", IEC: "IEC 62304"}
SMALL = {"modules": [{"name": "Reqs", "prefix": "REQ", "attribute_definitions": [{"name": "Risk", "data_type": "enum",
                                                                                  "enum_values": ["low", "high"]}],
                      "object_types": [{"name": "Requirement", "required_attributes": ["Risk"]}],
                      "lifecycle_model": {"states": [{"name": "draft"}, {"name": "done"}],
                                          "transitions": [{"from": "draft", "to": "done"}]},
                      "seed_objects": [{"heading": "Top", "children": [
                          {"heading": "Mid", "body": "<p>x</p><script>alert(1)</script>",
                           "children": [{"heading": "Leaf", "body": "<p>deep</p>"}]}]}]}],
         "link_types": [{"name": "Derives From"}, {"name": "Refines Into", "description": "refinement"}]}


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


async def workspace(api: Api) -> str:
    return str((await api.post("/workspaces", {"name": "W"}))["id"])


async def test_routes_and_roles(api: Api, make_user: Any, pg_dsn: str) -> None:
    _, editor = await make_user("editor")
    _, viewer = await make_user("viewer")
    listed = await api.get(BASE, token=viewer)
    assert [t["id"] for t in listed] == [DO, IEC, ISO]  # built-ins, by name
    for verb, path, body in (("POST", BASE, {"name": "X", "template_data": {}}), ("PATCH", f"{BASE}/{ISO}", {}),
                             ("DELETE", f"{BASE}/{ISO}", None),
                             ("POST", f"{BASE}/{ISO}/instantiate", {"workspace_id": MISSING, "project_name": "P"})):
        await api.error(verb, path, body, status=403, token=editor, message="insufficient role: requires admin")
    me = await api.get("/auth/me")
    made = await api.post(BASE, {"name": "Mine", "standard": "in-house", "template_data": SMALL})
    assert (made["is_builtin"], made["created_by"], made["standard"], made["version"]) == (False, me["id"],
                                                                                          "in-house", None)
    assert made["template_data"]["modules"][0]["digits"] == 3  # stored normalized, defaults filled
    assert made["template_data"]["link_types"][0] == {"name": "Derives From", "description": None}
    other = await api.post(BASE, {"name": "Another", "template_data": {}})
    assert other["template_data"] == {"modules": [], "link_types": []}
    assert [t["name"] for t in await api.get(BASE, token=viewer)] == [
        "DO-178C", "IEC 62304", "ISO 26262", "Another", "Mine"]  # built-ins first, then name
    assert (await api.get(f"{BASE}/{made['id']}", token=viewer))["template_data"] == made["template_data"]

    await api.error("POST", BASE, {"name": "Mine", "template_data": {}}, status=409,
                    message="project template 'Mine' already exists")
    await api.error("PATCH", f"{BASE}/{other['id']}", {"name": "ISO 26262"}, status=409,
                    message="project template 'ISO 26262' already exists")
    await api.error("PATCH", f"{BASE}/{ISO}", {"description": "mine now"}, status=400,
                    message="cannot modify a built-in template")
    await api.error("DELETE", f"{BASE}/{ISO}", status=400, message="cannot delete a built-in template")
    for verb, path, body in (("GET", f"{BASE}/{MISSING}", None), ("PATCH", f"{BASE}/{MISSING}", {"name": "Z"}),
                             ("DELETE", f"{BASE}/{MISSING}", None),
                             ("POST", f"{BASE}/{MISSING}/instantiate", {"workspace_id": MISSING, "project_name": "P"})):
        await api.error(verb, path, body, status=404, message=f"project template {MISSING} not found")

    patched = await api.patch(f"{BASE}/{made['id']}", {"standard": None, "version": "2", "name": "Mine v2",
                                                       "template_data": {"modules": [{"name": "Only"}]}})
    assert (patched["standard"], patched["version"], patched["name"]) == (None, "2", "Mine v2")
    assert [m["name"] for m in patched["template_data"]["modules"]] == ["Only"]
    assert (await api.patch(f"{BASE}/{made['id']}", {"template_data": None}))["template_data"] == \
        patched["template_data"]  # null is ignored for a field that cannot be cleared
    await api.delete(f"{BASE}/{made['id']}")
    await api.error("GET", f"{BASE}/{made['id']}", status=404)
    log = (await api.get(f"/audit-log?entity_type=project_template&entity_id={made['id']}"))["items"]
    assert [e["action"] for e in log] == ["delete", "update", "create"] and log[0]["user_id"] == me["id"]


async def test_template_data_is_checked_on_write(api: Api, pg_dsn: str) -> None:
    cases = [
        ({"name": "x"}, "missing required field 'template_data'"),
        ({"name": "x", "template_data": []}, "field 'template_data' must be a JSON object"),
        ({"name": " ", "template_data": {}}, "name must not be empty"),
        ({"name": "x", "template_data": {"modules": [{"attribute_definitions": [{"name": "a", "data_type": "?"}]}]}},
         "invalid template_data: modules[0].attribute_definitions[0]: invalid data_type '?'"),
        ({"name": "x", "template_data": {"modules": [{"object_types": [{"required_attributes": ["Owner"]}]}]}},
         "invalid template_data: modules[0].object_types[0]: unknown attribute 'Owner'"),
        ({"name": "x", "template_data": {"modules": [{"lifecycle_model": {"states": [{"name": "a"}]}}]}},
         "invalid template_data: modules[0].lifecycle_model: initial_state 'draft' is not one of the states"),
    ]
    for body, message in cases:
        await api.error("POST", BASE, body, status=400, message=message)
    mine = await api.post(BASE, {"name": "Mine", "template_data": {}})
    await api.error("PATCH", f"{BASE}/{mine['id']}", {"template_data": {"link_types": [{"name": ""}]}}, status=400,
                    message="invalid template_data: link_types[0]: name must not be empty")
    conn = await asyncpg.connect(pg_dsn)  # a global definition (no route creates one) may be required too
    try:
        await conn.execute("INSERT INTO attribute_definition (id, module_id, name, data_type) "
                           "VALUES (gen_random_uuid(), NULL, 'Owner', 'string')")
    finally:
        await conn.close()
    await api.post(BASE, {"name": "y", "template_data": cases[4][0]["template_data"]})


@pytest.mark.parametrize("template_id", [ISO, DO, IEC], ids=["iso26262", "do178c", "iec62304"])
async def test_builtin_instantiates_as_the_contract_says(api: Api, template_id: str) -> None:
    version, attributes, model_name, review, link_names, modules = BUILTINS[template_id]
    template = await api.get(f"{BASE}/{template_id}")
    assert (template["name"], template["standard"], template["version"], template["is_builtin"],
            template["created_by"]) == (STANDARDS[template_id], STANDARDS[template_id], version, True, None)
    assert template["description"] and "\n" not in template["description"]
    link_types_before = await api.get("/link-types")
    ws = await workspace(api)
    made = await api.post(f"{BASE}/{template_id}/instantiate", {
        "workspace_id": ws, "project_name": "Programme", "project_description": "d", "include_seed_objects": True})
    seeds = sum(len(ids) + 1 for _, _, _, groups in modules for ids in groups.values())
    assert (made["modules_created"], made["objects_created"], made["link_types_created"]) == (
        len(modules), seeds, 0)
    project = await api.get(f"/workspaces/{ws}/projects/{made['project_id']}")
    assert (project["name"], project["description"]) == ("Programme", "d")
    listed = (await api.get(f"/modules?project_id={made['project_id']}"))["items"]
    assert sorted(m["id"] for m in listed) == sorted(made["module_ids"])
    states = ["draft", review, "approved", "released"]
    transitions = [("draft", review), (review, "draft"), (review, "approved"), ("approved", "released"),
                   ("released", "draft")]
    for module_id, (name, prefix, types, groups) in zip(made["module_ids"], modules, strict=True):
        module = await api.get(f"/modules/{module_id}")
        assert (module["name"], module["prefix"], module["separator"], module["digits"],
                module["default_classification"]) == (name, prefix, "-", 4, "normative")
        defs = (await api.get(f"/modules/{module_id}/attribute-definitions"))["items"]
        assert sorted((d["name"], d["data_type"], d["enum_values"]) for d in defs if d["module_id"]) == \
            sorted(attributes)
        found = (await api.get(f"/object-types?module_id={module_id}"))["items"]
        assert {t["name"]: t["required_attributes"] for t in found} == types
        [model] = await api.get(f"/modules/{module_id}/lifecycle-models")
        assert module["default_lifecycle_model_id"] == model["id"]
        assert (model["name"], model["initial_state"]) == (model_name, "draft")
        assert [(s["name"], s["color"]) for s in model["states"]] == [(s, COLOURS[s]) for s in states]
        assert [(t["from"], t["to"]) for t in model["transitions"]] == transitions
        await check_seeds(api, module_id, model["id"], groups)
    assert await api.get("/link-types") == link_types_before  # each is a seeded type under another spelling
    seeded = {t["name"] for t in link_types_before}
    assert {n.lower().replace(" ", "-") for n in link_names} <= seeded
    log = (await api.get(f"/audit-log?entity_type=project_template&entity_id={template_id}"))["items"]
    assert [(e["action"], e["user_id"] is None) for e in log] == [("instantiate", False), ("create", True)]  # seed
    assert log[0]["details"]["project_id"] == made["project_id"]


async def check_seeds(api: Api, module_id: str, model_id: str, groups: dict[str, list[str]]) -> None:
    """Headings with one normative child per ID, placed, fingerprinted and with history like API objects."""
    objects = await api.objects(module_id)
    expected: list[tuple[str, str, str]] = []
    for g, (group, ids) in enumerate(groups.items(), start=1):
        expected.append((str(g), group, "heading"))
        expected.extend((f"{g}.{i}", seed_id, "normative") for i, seed_id in enumerate(ids, start=1))
    assert [(o["level"], o["heading"], o["classification"]) for o in objects] == expected
    for obj in objects:
        assert (obj["lifecycle_state"], obj["lifecycle_model_id"], obj["current_version"]) == ("draft", model_id, 1)
        assert obj["content_fingerprint"] == content_fingerprint(obj["heading"], obj["body"], obj["attributes"])
        if obj["classification"] == "normative":
            assert " shall " in obj["body"] and obj["body"].startswith("<p>")
        history = (await api.get(f"/modules/{module_id}/objects/{obj['id']}/history"))["items"]
        assert [(h["version"], h["change_type"], h["heading"]) for h in history] == [(1, "create", obj["heading"])]
        assert history[0]["changed_by"] is not None


async def test_instantiate_user_template(api: Api) -> None:
    template = await api.post(BASE, {"name": "Small", "template_data": SMALL})
    ws = await workspace(api)
    path = f"{BASE}/{template['id']}/instantiate"
    await api.error("POST", path, {"workspace_id": MISSING, "project_name": "P"}, status=404,
                    message=f"workspace {MISSING} not found")
    await api.error("POST", path, {"workspace_id": ws, "project_name": " "}, status=400,
                    message="project_name must not be empty")
    await api.error("POST", path, {"project_name": "P"}, status=400, message="missing required field 'workspace_id'")
    bare = await api.post(path, {"workspace_id": ws, "project_name": "Bare"})
    assert (bare["objects_created"], bare["link_types_created"]) == (0, 1)  # `Refines Into` is new
    [module_id] = bare["module_ids"]
    assert await api.objects(module_id) == []  # seeds only when asked
    names = [t["name"] for t in await api.get("/link-types")]
    assert names.count("Refines Into") == 1 and "Derives From" not in names
    seeded = await api.post(path, {"workspace_id": ws, "project_name": "Seeded", "include_seed_objects": True})
    assert (seeded["objects_created"], seeded["link_types_created"]) == (3, 0)  # now every type exists
    objects = await api.objects(seeded["module_ids"][0])
    assert [(o["level"], o["heading"], o["classification"]) for o in objects] == [
        ("1", "Top", "heading"), ("1.1", "Mid", "normative"), ("1.1.1", "Leaf", "normative")]
    assert objects[1]["body"] == "<p>x</p>"  # sanitized like any object body
    assert {o["lifecycle_state"] for o in objects} == {"draft"}
    module = await api.get(f"/modules/{seeded['module_ids'][0]}")
    assert (module["prefix"], module["digits"]) == ("REQ", 3)
    [object_type] = (await api.get(f"/object-types?module_id={module['id']}"))["items"]
    # the created type is enforced like one made through its route
    await api.error("POST", f"/modules/{module['id']}/objects", {"object_type_id": object_type["id"]}, status=400,
                    message="object type 'Requirement' requires attribute 'Risk'")


COUNTED = ("project", "module", "attribute_definition", "object_type", "lifecycle_model", "object", "object_history",
           "link_type", "audit_log")


async def counts(conn: asyncpg.Connection) -> dict[str, int]:
    return {table: await conn.fetchval(f"SELECT count(*) FROM {table}") for table in COUNTED}


async def test_instantiate_is_all_or_nothing(api: Api, pg_dsn: str) -> None:
    data = {"modules": [SMALL["modules"][0], {"name": "Second", "seed_objects": [{"heading": "ok"},
                                                                                   {"heading": "BOOM"}]}],
            "link_types": SMALL["link_types"]}
    template = await api.post(BASE, {"name": "Fails late", "template_data": data})
    ws = await workspace(api)
    conn = await asyncpg.connect(pg_dsn)
    try:  # the last seed object of the last module fails in the database, after everything else was written
        await conn.execute("""
            CREATE FUNCTION test_refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.heading = 'BOOM' THEN RAISE EXCEPTION 'boom' USING ERRCODE = 'check_violation'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER test_refuse_boom BEFORE INSERT ON object FOR EACH ROW EXECUTE FUNCTION test_refuse_boom();
        """)
        before = await counts(conn)
        ask = {"workspace_id": ws, "project_name": "Half", "include_seed_objects": True}
        await api.error("POST", f"{BASE}/{template['id']}/instantiate", ask, status=400, message="invalid value")
        assert await counts(conn) == before  # no project, module, object, history, link type or audit entry
        await conn.execute("DROP TRIGGER test_refuse_boom ON object")
        made = await api.post(f"{BASE}/{template['id']}/instantiate", ask)  # the same request, now whole
        assert (made["modules_created"], made["objects_created"], made["link_types_created"]) == (2, 5, 1)
        after = await counts(conn)
        assert (after["project"], after["module"], after["object"]) == (
            before["project"] + 1, before["module"] + 2, before["object"] + 5)
    finally:
        await conn.close()
