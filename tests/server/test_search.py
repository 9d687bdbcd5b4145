"""Full-text search: websearch syntax, ranking (heading beats body), highlights escaped, deleted excluded."""

from __future__ import annotations

from typing import Any

import pytest
from domain_api import Api


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


async def test_ranked_search(api: Api) -> None:
    module = await api.module()
    m = module["id"]
    in_body = await api.obj(m, heading="Vehicle", body="<p>The braking system shall stop the <b>car</b>.</p>")
    in_heading = await api.obj(m, heading="Braking distance <fast>", body="<p>within 40 m</p>")
    both = await api.obj(m, heading="Emergency braking", body="<p>Braking must engage when braking is needed</p>")
    gone = await api.obj(m, heading="braking obsolete")
    await api.obj(m, heading="Unrelated", body="<p>lights</p>")
    await api.delete(f"/modules/{m}/objects/{gone['id']}")
    result = await api.get("/search?q=braking")
    ids = [item["id"] for item in result["items"]]
    assert ids == [both["id"], in_heading["id"], in_body["id"]]
    assert result["total"] == 3
    top = result["items"][0]
    assert top["module_name"] == "M" and top["project_id"] == module["project_id"] and top["workspace_id"]
    assert top["rank"] > result["items"][1]["rank"] > result["items"][2]["rank"] > 0
    assert top["highlight"]["heading"] == "Emergency <mark>braking</mark>"
    assert result["items"][1]["highlight"]["heading"] == "<mark>Braking</mark> distance &lt;fast&gt;"
    assert "<mark>braking</mark>" in result["items"][2]["highlight"]["body"]
    assert "<b>" not in result["items"][2]["highlight"]["body"]
    # websearch syntax: phrase, exclusion, or
    assert [i["id"] for i in (await api.get('/search?q="braking distance"'))["items"]] == [in_heading["id"]]
    assert {i["id"] for i in (await api.get("/search?q=braking -emergency"))["items"]} == {in_heading["id"],
                                                                                        in_body["id"]}
    assert (await api.get("/search?q=lights or distance"))["total"] == 2
    assert (await api.get('/search?q=" ( & !'))["total"] == 0
    await api.error("GET", "/search?q=%20", status=400, message="missing required parameter 'q'")
    # per module, combinable with the list filters
    items = await api.objects(m, "?search=braking&heading=distance")
    assert [i["id"] for i in items] == [in_heading["id"]] and "rank" in items[0] and "highlight" in items[0]
    by_heading = await api.objects(m, "?search=braking&sort_by=heading")
    assert [i["heading"] for i in by_heading] == ["Braking distance <fast>", "Emergency braking", "Vehicle"]
