"""ReqIF: export → import round trip (tree, attributes, links), .reqifz, and hostile files rejected cleanly."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import aiohttp
import pytest
from domain_api import Api

SATISFIES = "00000000-0000-0000-0000-000000000010"


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


def upload(content: bytes, name: str) -> aiohttp.FormData:
    data = aiohttp.FormData(quote_fields=False)
    data.add_field("file", content, filename=name, content_type="application/octet-stream")
    return data


def shape(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(o["level"], o["heading"], o["body"], o["attributes"], o["classification"]) for o in items]


async def test_round_trip(api: Api, client: Any) -> None:
    module = await api.module()
    m = module["id"]
    defs = f"/modules/{m}/attribute-definitions"
    await api.post(defs, {"name": "prio", "data_type": "enum", "enum_values": ["low", "high"]})
    await api.post(defs, {"name": "tags", "data_type": "enum", "enum_values": ["a", "b"], "multi_select": True})
    await api.post(defs, {"name": "weight", "data_type": "integer"})
    await api.post(defs, {"name": "ratio", "data_type": "float"})
    await api.post(defs, {"name": "ok", "data_type": "bool"})
    await api.post(defs, {"name": "due", "data_type": "date"})
    await api.post(defs, {"name": "notes", "data_type": "rich_text"})
    root = await api.obj(m, heading="Intro & <scope>", body="<p>Hello <b>world</b><br>line</p>",
                         attributes={"prio": "high", "tags": ["a", "b"], "weight": 3, "ratio": 0.5, "ok": True,
                                     "due": "2026-03-01", "notes": "<ul><li>n</li></ul>"})
    child = await api.obj(m, heading="Child", parent_id=root["id"], attributes={"weight": -1})
    await api.obj(m, heading="Grandchild", parent_id=child["id"],
                  body="<table><tbody><tr><td>c</td></tr></tbody></table>")
    other = await api.obj(m, heading="Other", body='<p><a href="https://example.com">x</a></p>')
    await api.post("/links", {"source_object_id": other["id"], "target_object_id": child["id"],
                              "link_type_id": SATISFIES})
    original = await api.objects(m)

    resp = await client.get(f"/api/v1/modules/{m}/reqif/export", headers={"Authorization": f"Bearer {api.token}"})
    assert resp.status == 200 and resp.content_type == "application/xml"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="{m}.reqif"'
    xml = await resp.read()
    assert f"req1-export-{m}".encode() in xml and b"http://www.omg.org/spec/ReqIF/20110401/reqif.xsd" in xml
    resp = await client.get(f"/api/v1/modules/{m}/reqif/export?format=reqifz",
                            headers={"Authorization": f"Bearer {api.token}"})
    assert resp.status == 200 and resp.content_type == "application/zip"
    zipped = await resp.read()
    await api.error("GET", f"/modules/{m}/reqif/export?format=pdf", status=400,
                    message="unsupported format 'pdf', expected reqif or reqifz")

    for payload, name in ((xml, "export.reqif"), (zipped, "export.reqifz")):
        result = await api.call("POST", f"/projects/{module['project_id']}/reqif/import", data=upload(payload, name),
                                expect=201)
        assert result["objects_created"] == 4 and result["links_created"] == 1
        assert result["attribute_definitions_created"] == 7 and result["link_types_created"] == 0
        assert result["object_types_created"] == 1 and result["module_ids"] == [result["module_id"]]
        imported = await api.objects(result["module_id"])
        assert shape(imported) == shape(original)
        links = (await api.get(f"/links?module_id={result['module_id']}"))["items"]
        by_id = {o["id"]: o["heading"] for o in imported}
        assert [(by_id[x["source_object_id"]], by_id[x["target_object_id"]], x["link_type_id"], x["suspect"])
                for x in links] == [("Other", "Child", SATISFIES, False)]
        new_module = await api.get(f"/modules/{result['module_id']}")
        assert new_module["name"] == "M" and new_module["prefix"] == "REQ"
        history = await api.get(f"/modules/{result['module_id']}/objects/{imported[0]['id']}/history")
        assert [h["change_type"] for h in history["items"]] == ["create"]


HEADER = ('<?xml version="1.0" encoding="UTF-8"?><REQ-IF xmlns="http://www.omg.org/spec/ReqIF/20110401/reqif.xsd">'
          "<THE-HEADER><REQ-IF-HEADER IDENTIFIER='h'><REQ-IF-VERSION>{v}</REQ-IF-VERSION></REQ-IF-HEADER></THE-HEADER>"
          "<CORE-CONTENT><REQ-IF-CONTENT>{c}</REQ-IF-CONTENT></CORE-CONTENT></REQ-IF>")
OBJ_TYPE = ("<DATATYPES><DATATYPE-DEFINITION-STRING IDENTIFIER='s'/></DATATYPES><SPEC-TYPES><SPEC-OBJECT-TYPE "
            "IDENTIFIER='t'><SPEC-ATTRIBUTES><ATTRIBUTE-DEFINITION-STRING IDENTIFIER='a' LONG-NAME='ReqIF.ChapterName'>"
            "<TYPE><DATATYPE-DEFINITION-STRING-REF>s</DATATYPE-DEFINITION-STRING-REF></TYPE>"
            "</ATTRIBUTE-DEFINITION-STRING></SPEC-ATTRIBUTES></SPEC-OBJECT-TYPE></SPEC-TYPES>")


def spec_object(ident: str, value: str) -> str:
    return (f"<SPEC-OBJECT IDENTIFIER='{ident}'><VALUES><ATTRIBUTE-VALUE-STRING THE-VALUE='{value}'><DEFINITION>"
            "<ATTRIBUTE-DEFINITION-STRING-REF>a</ATTRIBUTE-DEFINITION-STRING-REF></DEFINITION>"
            "</ATTRIBUTE-VALUE-STRING></VALUES></SPEC-OBJECT>")


def doc(content: str, version: str = "1.2") -> bytes:
    return HEADER.format(v=version, c=content).encode()


async def test_hostile_and_broken_files(api: Api, pg_dsn: str) -> None:
    module = await api.module()
    url = f"/projects/{module['project_id']}/reqif/import"
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notes.txt", "no reqif here")
    cases = [
        (b"<REQ-IF><broken>", "a.reqif", "invalid reqif XML: "),
        (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><REQ-IF>&b;'
         b"</REQ-IF>", "bomb.reqif", "invalid reqif XML: forbidden construct"),
        (b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://example.com/x.dtd"><REQ-IF/>', "ext.reqif",
         "invalid reqif XML: forbidden construct"),
        (doc("", "2.0"), "v.reqif", "invalid reqif XML: unsupported ReqIF version: 2.0"),
        (doc("<DATATYPES><DATATYPE-DEFINITION-QUATERNION IDENTIFIER='q'/></DATATYPES>"), "dt.reqif",
         "invalid reqif XML: unknown datatype DATATYPE-DEFINITION-QUATERNION (q)"),
        (doc(OBJ_TYPE + "<SPEC-OBJECTS>" + spec_object("o1", "x" * 1_000_001) + "</SPEC-OBJECTS>"
             "<SPECIFICATIONS><SPECIFICATION IDENTIFIER='s1'/></SPECIFICATIONS>"), "huge.reqif",
         "invalid reqif XML: value of SPEC-OBJECT o1 attribute ReqIF.ChapterName exceeds 1000000 characters"),
        (doc(OBJ_TYPE), "nospec.reqif", "invalid reqif XML: no SPECIFICATIONS found"),
        (bomb.getvalue(), "x.reqifz", "invalid reqifz: no .reqif file found in archive"),
        (b"\xff\xfe garbage", "g.reqif", "invalid reqif XML: "),
    ]
    for payload, name, message in cases:
        body = await api.call("POST", url, data=upload(payload, name), expect=400)
        assert body["error"]["message"].startswith(message), body
    assert (await api.get(f"/modules?project_id={module['project_id']}"))["total"] == 1  # nothing was created
    missing = "00000000-0000-0000-0000-0000000000cd"
    await api.call("POST", f"/projects/{missing}/reqif/import", data=upload(doc(""), "a.reqif"), expect=404)


async def test_hierarchy_and_unreferenced_objects(api: Api) -> None:
    module = await api.module()
    content = (OBJ_TYPE + "<SPEC-OBJECTS>" + spec_object("o1", "One") + spec_object("o2", "Two")
               + spec_object("o3", "Loose") + "</SPEC-OBJECTS><SPECIFICATIONS>"
               "<SPECIFICATION IDENTIFIER='s1' LONG-NAME='First'><CHILDREN><SPEC-HIERARCHY IDENTIFIER='h1'><OBJECT>"
               "<SPEC-OBJECT-REF>o1</SPEC-OBJECT-REF></OBJECT><CHILDREN><SPEC-HIERARCHY IDENTIFIER='h2'><OBJECT>"
               "<SPEC-OBJECT-REF>o2</SPEC-OBJECT-REF></OBJECT></SPEC-HIERARCHY></CHILDREN></SPEC-HIERARCHY>"
               "</CHILDREN></SPECIFICATION><SPECIFICATION IDENTIFIER='s2'/></SPECIFICATIONS>")
    result = await api.call("POST", f"/projects/{module['project_id']}/reqif/import",
                            data=upload(doc(content), "h.reqif"), expect=201)
    first, second = result["module_ids"]
    assert result["module_id"] == second and result["objects_created"] == 3
    assert [(o["level"], o["heading"]) for o in await api.objects(first)] == [("1", "One"), ("1.1", "Two"),
                                                                              ("2", "Loose")]
    assert (await api.get(f"/modules/{second}"))["name"] == "s2"
