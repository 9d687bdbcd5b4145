"""Matrix, coverage, impact, validation, publish and CSV import against the real services."""

from __future__ import annotations

from typing import Any

import pytest
from domain_api import Api

SATISFIES = "00000000-0000-0000-0000-000000000010"
VERIFIES = "00000000-0000-0000-0000-000000000012"


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


async def link(api: Api, source: dict[str, Any], target: dict[str, Any], kind: str = SATISFIES) -> dict[str, Any]:
    return dict(await api.post("/links", {"source_object_id": source["id"], "target_object_id": target["id"],
                                          "link_type_id": kind}))


async def test_matrix_coverage_impact(api: Api) -> None:
    reqs = (await api.module())["id"]
    design = (await api.module())["id"]
    r1, r2, r3 = [await api.obj(reqs, heading=f"R{i}") for i in (1, 2, 3)]
    d1, d2 = [await api.obj(design, heading=f"D{i}") for i in (1, 2)]
    l1 = await link(api, d1, r1)
    l2 = await link(api, r2, d2)       # reverse direction: normalized into the source module
    await link(api, d2, d1, VERIFIES)  # inside design
    matrix = await api.get(f"/traceability-matrix?source_module_id={reqs}&target_module_id={design}")
    assert [o["heading"] for o in matrix["source_objects"]] == ["R1", "R2", "R3"]
    assert set(matrix["source_objects"][0]) == {"id", "heading", "position", "level"}
    assert sorted((c["source_id"], c["target_id"], c["link_id"]) for c in matrix["cells"]) == sorted(
        [(r1["id"], d1["id"], l1["id"]), (r2["id"], d2["id"], l2["id"])])
    only = await api.get(f"/traceability-matrix?source_module_id={reqs}&target_module_id={design}"
                         f"&link_type_id={VERIFIES}")
    assert only["cells"] == []
    await api.error("GET", f"/traceability-matrix?source_module_id={reqs}", status=400)

    cov = await api.get(f"/modules/{reqs}/coverage")
    assert cov == {"total_objects": 3, "with_upstream": 1, "with_downstream": 1, "with_any_link": 2,
                   "upstream_pct": 100 / 3, "downstream_pct": 100 / 3, "any_link_pct": 200 / 3}
    empty = (await api.module())["id"]
    assert (await api.get(f"/modules/{empty}/coverage"))["any_link_pct"] == 0.0

    impact = await api.get(f"/object-impact/{r1['id']}?direction=backward")
    assert [(o["heading"], o["depth"], o["link_type"]) for o in impact["objects"]] == [
        ("D1", 1, "satisfies"), ("D2", 2, "verifies"), ("R2", 3, "satisfies")]
    assert impact["edges"][0] == {"source_id": d1["id"], "target_id": r1["id"], "link_type": "satisfies",
                                  "suspect": False}
    both = await api.get(f"/object-impact/{r1['id']}?max_depth=99")
    assert both["max_depth"] == 20 and {o["heading"] for o in both["objects"]} == {"D1", "D2", "R2"}
    assert r3["id"] not in {o["id"] for o in both["objects"]}
    forward = await api.get(f"/object-impact/{r1['id']}?direction=forward")
    assert forward["objects"] == []
    shallow = await api.get(f"/object-impact/{r1['id']}?direction=backward&max_depth=1")
    assert [o["heading"] for o in shallow["objects"]] == ["D1"]
    await api.error("GET", f"/object-impact/{r1['id']}?direction=sideways", status=400)
    await api.error("GET", f"/object-impact/{r1['id']}?max_depth=0", status=400)


async def test_validate(api: Api) -> None:
    m = (await api.module(required_attributes=[]))["id"]
    a = await api.obj(m, heading="", body="<p>x</p>")
    b = await api.obj(m, heading="B", classification="heading")
    await api.patch(f"/modules/{m}/objects/{b['id']}", {"reviewed": True})
    lk = await link(api, b, a)
    await api.patch(f"/modules/{m}/objects/{a['id']}", {"body": "<p>changed</p>"})
    report = await api.get(f"/modules/{m}/validate")
    assert report["object_count"] == 2 and report["link_count"] == 1 and report["module_id"] == m
    assert [(i["rule"], i["severity"]) for i in report["issues"]] == [
        ("missing_heading", "warning"), ("unreviewed", "info"), ("suspect_link", "warning")]
    assert report["issues"][0]["message"] == "[1] object has no heading"
    assert report["issues"][2]["link_id"] == lk["id"]


async def test_publish_and_csv_round_trip(api: Api, client: Any) -> None:
    m = (await api.module())["id"]
    await api.post(f"/modules/{m}/attribute-definitions", {"name": "weight", "data_type": "integer"})
    await api.post(f"/modules/{m}/attribute-definitions",
                   {"name": "tags", "data_type": "enum", "enum_values": ["a", "b"], "multi_select": True})
    csv_text = ("\ufefflevel,heading,body,classification,weight,tags,other\n"
                "1,Scope,<p>s</p>,heading,,,\n1.1,Speed,\"<p>max, 30</p>\",,5,a;b,x\n,skipped,,,,,\n"
                "1.1.1,Deep,,informative,,[\"b\"],\n2,Next <x>,<script>alert(1)</script><p>ok</p>,,,,\n")
    headers = {"Authorization": f"Bearer {api.token}", "Content-Type": "text/csv"}
    resp = await client.post(f"/api/v1/modules/{m}/import/csv", data=csv_text.encode(), headers=headers)
    assert resp.status == 200 and await resp.json() == {"objects_created": 4}
    items = await api.objects(m)
    assert [(o["level"], o["heading"], o["classification"], o["attributes"]) for o in items] == [
        ("1", "Scope", "heading", {}), ("1.1", "Speed", "normative", {"weight": 5, "tags": ["a", "b"]}),
        ("1.1.1", "Deep", "informative", {"tags": ["b"]}), ("2", "Next <x>", "normative", {})]
    assert items[3]["body"] == "<p>ok</p>"
    bad = "level,weight\n1,2\n2,heavy\n"
    resp = await client.post(f"/api/v1/modules/{m}/import/csv", data=bad.encode(), headers=headers)
    assert resp.status == 400
    assert (await resp.json())["error"]["message"] == "row 2: attribute 'weight' must be an integer"
    resp = await client.post(f"/api/v1/modules/{m}/import/csv", data=b"heading\nx\n", headers=headers)
    assert (await resp.json())["error"]["message"] == "missing required CSV column: 'level'"
    assert len(await api.objects(m)) == 4  # all-or-nothing

    auth = {"Authorization": f"Bearer {api.token}"}
    resp = await client.get(f"/api/v1/modules/{m}/publish", headers=auth)
    html = await resp.text()
    assert resp.status == 200 and resp.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert "<h1>M</h1>" in html and "<h2>1 Scope</h2>" in html and "<h3>1.1 Speed</h3>" in html
    assert "<h2>2 Next &lt;x&gt;</h2>" in html and "<script" not in html
    resp = await client.get(f"/api/v1/modules/{m}/publish?format=markdown", headers=auth)
    md = await resp.text()
    assert resp.headers["Content-Type"] == "text/markdown; charset=utf-8"
    assert md.startswith("# M\n\nGenerated: ") and "#### 1.1.1 Deep" in md and "*Classification: heading*" in md
    await api.error("GET", f"/modules/{m}/publish?format=docx", status=400,
                    message="unsupported format 'docx', supported: html, md, csv")
    resp = await client.get(f"/api/v1/modules/{m}/publish?format=csv", headers=auth)
    assert resp.headers["Content-Disposition"] == 'attachment; filename="objects.csv"'
    published = await resp.read()
    assert published.decode().splitlines()[0] == "id,level,heading,body,classification,version,tags,weight"
    # CSV publish output re-imports unchanged
    copy = (await api.post("/modules/from-template", {"name": "copy", "project_id": (await api.get(
        f"/modules/{m}"))["project_id"], "template_module_id": m}))["id"]
    resp = await client.post(f"/api/v1/modules/{copy}/import/csv", data=published, headers=headers)
    assert resp.status == 200, await resp.text()
    again = await api.objects(copy)
    assert [(o["level"], o["heading"], o["body"], o["classification"], o["attributes"]) for o in again] == [
        (o["level"], o["heading"], o["body"], o["classification"], o["attributes"]) for o in items]


async def test_from_template_copies_objects_and_links(api: Api) -> None:
    module = await api.module()
    m = module["id"]
    await api.post(f"/modules/{m}/attribute-definitions", {"name": "w", "data_type": "integer"})
    a = await api.obj(m, heading="a", attributes={"w": 1})
    b = await api.obj(m, heading="b", parent_id=a["id"])
    await api.patch(f"/modules/{m}/objects/{a['id']}", {"reviewed": True})
    await link(api, b, a)
    copy = await api.post("/modules/from-template", {"name": "Copy", "project_id": module["project_id"],
                                                    "template_module_id": m, "copy_objects": True})
    assert copy["name"] == "Copy" and copy["id"] != m
    items = await api.objects(copy["id"])
    assert [(o["level"], o["heading"], o["attributes"], o["current_version"], o["reviewed_fingerprint"])
            for o in items] == [("1", "a", {"w": 1}, 1, None), ("1.1", "b", None, 1, None)]
    assert (await api.get(f"/links?module_id={copy['id']}"))["total"] == 1
    defs = await api.get(f"/modules/{copy['id']}/attribute-definitions")
    assert [d["name"] for d in defs["items"]] == ["w"]
    missing = "00000000-0000-0000-0000-0000000000ee"
    await api.error("POST", "/modules/from-template", {"name": "x", "project_id": module["project_id"],
                                                       "template_module_id": missing}, status=404)
