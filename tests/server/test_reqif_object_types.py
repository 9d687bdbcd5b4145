"""ReqIF and object types (extended spec §1 "ReqIF"): SPEC-OBJECT-TYPEs become types of each imported module,
an export writes one SPEC-OBJECT-TYPE per type (plus a default one for untyped objects), and both round-trip."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import pytest
from domain_api import Api
from test_reqif import doc, upload

NS = "{http://www.omg.org/spec/ReqIF/20110401/reqif.xsd}"


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


def string_attr(ident: str, name: str) -> str:
    return (f"<ATTRIBUTE-DEFINITION-STRING IDENTIFIER='{ident}' LONG-NAME='{name}'><TYPE>"
            "<DATATYPE-DEFINITION-STRING-REF>s</DATATYPE-DEFINITION-STRING-REF></TYPE></ATTRIBUTE-DEFINITION-STRING>")


def typed_object(ident: str, type_ref: str, values: dict[str, str]) -> str:
    cells = "".join(f"<ATTRIBUTE-VALUE-STRING THE-VALUE='{v}'><DEFINITION><ATTRIBUTE-DEFINITION-STRING-REF>{d}"
                    "</ATTRIBUTE-DEFINITION-STRING-REF></DEFINITION></ATTRIBUTE-VALUE-STRING>"
                    for d, v in values.items())
    return (f"<SPEC-OBJECT IDENTIFIER='{ident}'><TYPE><SPEC-OBJECT-TYPE-REF>{type_ref}</SPEC-OBJECT-TYPE-REF></TYPE>"
            f"<VALUES>{cells}</VALUES></SPEC-OBJECT>")


# three SPEC-OBJECT-TYPEs: "Requirement" (with DESC), one named by its IDENTIFIER only ("Requirement" too:
# a collision), and "Note"; both requirement types define "owner" (one definition in the module)
TYPED = doc(
    "<DATATYPES><DATATYPE-DEFINITION-STRING IDENTIFIER='s'/></DATATYPES><SPEC-TYPES>"
    "<SPEC-OBJECT-TYPE IDENTIFIER='t1' LONG-NAME='Requirement' DESC='Shall statements'><SPEC-ATTRIBUTES>"
    + string_attr("t1-h", "ReqIF.ChapterName") + string_attr("t1-o", "owner") + string_attr("t1-r", "risk")
    + "</SPEC-ATTRIBUTES></SPEC-OBJECT-TYPE>"
    "<SPEC-OBJECT-TYPE IDENTIFIER='Requirement'><SPEC-ATTRIBUTES>" + string_attr("t2-o", "owner")
    + "</SPEC-ATTRIBUTES></SPEC-OBJECT-TYPE>"
    "<SPEC-OBJECT-TYPE IDENTIFIER='t3' LONG-NAME='Note'><SPEC-ATTRIBUTES>" + string_attr("t3-h", "ReqIF.ChapterName")
    + "</SPEC-ATTRIBUTES></SPEC-OBJECT-TYPE></SPEC-TYPES><SPEC-OBJECTS>"
    + typed_object("o1", "t1", {"t1-h": "First", "t1-o": "ann", "t1-r": "low"})
    + typed_object("o2", "Requirement", {"t2-o": "bob"})
    + typed_object("o3", "t3", {"t3-h": "Aside"})
    + "</SPEC-OBJECTS><SPECIFICATIONS><SPECIFICATION IDENTIFIER='sp' LONG-NAME='Spec'><CHILDREN>"
    + "".join(f"<SPEC-HIERARCHY IDENTIFIER='h{i}'><OBJECT><SPEC-OBJECT-REF>o{i}</SPEC-OBJECT-REF></OBJECT>"
              "</SPEC-HIERARCHY>" for i in (1, 2, 3))
    + "</CHILDREN></SPECIFICATION></SPECIFICATIONS>"
)


async def types_of(api: Api, module_id: str) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in (await api.get(f"/object-types?module_id={module_id}"))["items"]}


async def test_import_creates_a_type_per_spec_object_type(api: Api) -> None:
    module = await api.module()
    result = await api.call("POST", f"/projects/{module['project_id']}/reqif/import", data=upload(TYPED, "t.reqif"),
                            expect=201)
    m = result["module_id"]
    assert result["object_types_created"] == 3 and result["attribute_definitions_created"] == 2
    types = await types_of(api, m)
    assert sorted(types) == ["Note", "Requirement", "Requirement (2)"]
    first, second, note = types["Requirement"], types["Requirement (2)"], types["Note"]
    assert (first["description"], second["description"], note["description"]) == ("Shall statements", None, None)
    for t in types.values():
        assert t["default_classification"] == "normative" and t["required_attributes"] == []
    assert first["attribute_schema"] == {"sections": [{"id": "reqif", "title": "Requirement", "columns": 1, "fields": [
        {"attribute_name": "owner", "order": 0, "width": None, "required": None},
        {"attribute_name": "risk", "order": 1, "width": None, "required": None}]}]}
    assert second["attribute_schema"]["sections"][0]["title"] == "Requirement (2)"
    assert [f["attribute_name"] for f in second["attribute_schema"]["sections"][0]["fields"]] == ["owner"]
    assert note["attribute_schema"]["sections"][0]["fields"] == []
    objects = await api.objects(m)
    assert [(o["heading"], o["attributes"], o["object_type_id"]) for o in objects] == [
        ("First", {"owner": "ann", "risk": "low"}, first["id"]), (None, {"owner": "bob"}, second["id"]),
        ("Aside", None, note["id"])]
    history = await api.get(f"/modules/{m}/objects/{objects[0]['id']}/history")
    assert [h["change_type"] for h in history["items"]] == ["create"]
    assert objects[0]["current_version"] == 1
    for t in types.values():  # audited as any create
        audit = await api.get(f"/audit-log?entity_type=object_type&action=create&entity_id={t['id']}")
        assert audit["total"] == 1 and audit["items"][0]["details"]["after"]["name"] == t["name"]


async def exported(api: Api, client: Any, module_id: str) -> bytes:
    resp = await client.get(f"/api/v1/modules/{module_id}/reqif/export",
                            headers={"Authorization": f"Bearer {api.token}"})
    assert resp.status == 200
    return bytes(await resp.read())


def xml_root(data: bytes) -> ET.Element:
    return ET.fromstring(data)  # noqa: S314 - our own server's output, no DTD


async def typed_module(api: Api) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A module with two types and four objects: two typed, two untyped."""
    module = await api.module()
    m = module["id"]
    await api.post(f"/modules/{m}/attribute-definitions", {"name": "owner", "data_type": "string"})
    await api.post(f"/modules/{m}/attribute-definitions", {"name": "grade", "data_type": "enum",
                                                           "enum_values": ["a", "b"]})
    req = await api.post("/object-types", {"module_id": m, "name": "Shall", "description": "Shall statements"})
    info = await api.post("/object-types", {"module_id": m, "name": "Info"})
    top = await api.obj(m, heading="R1", object_type_id=req["id"], attributes={"owner": "ann", "grade": "b"})
    await api.obj(m, heading="Loose", body="<p>text</p>", parent_id=top["id"], attributes={"owner": "bob"})
    await api.obj(m, heading="I1", object_type_id=info["id"], attributes={"grade": "a"})
    await api.obj(m, heading="Plain")
    return module, req, info


async def test_export_writes_a_spec_object_type_per_type(api: Api, client: Any) -> None:
    module, req, info = await typed_module(api)
    m = module["id"]
    root = xml_root(await exported(api, client, m))
    types = root.findall(f".//{NS}SPEC-TYPES/{NS}SPEC-OBJECT-TYPE")
    by_id = {t.get("IDENTIFIER"): t for t in types}
    assert list(by_id) == [f"req1-{info['id']}", f"req1-{req['id']}", f"req1-default-type-{m}"]
    assert by_id[f"req1-{req['id']}"].get("LONG-NAME") == "Shall"
    assert by_id[f"req1-{req['id']}"].get("DESC") == "Shall statements"
    assert by_id[f"req1-{info['id']}"].get("DESC") is None
    definitions: list[str] = []
    for spec_type in types:
        attrs = list(spec_type.find(f"{NS}SPEC-ATTRIBUTES") or [])
        assert sorted(a.get("LONG-NAME") or "" for a in attrs) == ["ReqIF.ChapterName", "ReqIF.Text", "grade", "owner"]
        definitions += [a.get("IDENTIFIER") or "" for a in attrs]
    assert len(definitions) == len(set(definitions)) == 12  # unique across types (Δ)
    every_id = [e.get("IDENTIFIER") for e in root.iter() if e.get("IDENTIFIER") is not None]
    assert len(every_id) == len(set(every_id))
    own = {t.get("IDENTIFIER"): {a.get("IDENTIFIER") for a in t.find(f"{NS}SPEC-ATTRIBUTES") or []} for t in types}
    refs = {}
    for so in root.findall(f".//{NS}SPEC-OBJECT"):
        type_ref = so.findtext(f"{NS}TYPE/{NS}SPEC-OBJECT-TYPE-REF")
        refs[so.get("LONG-NAME")] = type_ref
        used = {r.text for r in so.iter() if r.tag.startswith(f"{NS}ATTRIBUTE-DEFINITION-") and r.tag.endswith("-REF")}
        assert used and used <= own[type_ref]  # values name the definitions of their object's type
    assert refs == {"R1": f"req1-{req['id']}", "Loose": f"req1-default-type-{m}", "I1": f"req1-{info['id']}",
                    "Plain": f"req1-default-type-{m}"}


async def test_export_without_untyped_objects_has_no_default_type(api: Api, client: Any) -> None:
    module = await api.module()
    m = module["id"]
    only = await api.post("/object-types", {"module_id": m, "name": "Only"})
    await api.obj(m, heading="x", object_type_id=only["id"])
    root = xml_root(await exported(api, client, m))
    assert [t.get("IDENTIFIER") for t in root.iter(f"{NS}SPEC-OBJECT-TYPE")] == [f"req1-{only['id']}"]


async def test_round_trip_keeps_types(api: Api, client: Any) -> None:
    module, _, _ = await typed_module(api)
    original = await api.objects(module["id"])
    original_types = {t["id"]: t["name"] for t in (await types_of(api, module["id"])).values()}
    xml = await exported(api, client, module["id"])
    result = await api.call("POST", f"/projects/{module['project_id']}/reqif/import", data=upload(xml, "r.reqif"),
                            expect=201)
    assert result["object_types_created"] == 3 and result["attribute_definitions_created"] == 2
    types = await types_of(api, result["module_id"])
    assert sorted(types) == ["Info", "Requirement", "Shall"]  # Requirement: the default type
    assert types["Shall"]["description"] == "Shall statements" and types["Info"]["description"] is None
    names = {t["id"]: name for name, t in types.items()}
    imported = await api.objects(result["module_id"])
    assert [(o["level"], o["heading"], o["body"], o["attributes"]) for o in imported] == [
        (o["level"], o["heading"], o["body"], o["attributes"]) for o in original]
    assert [names[o["object_type_id"]] for o in imported] == [
        original_types[o["object_type_id"]] if o["object_type_id"] else "Requirement" for o in original]
