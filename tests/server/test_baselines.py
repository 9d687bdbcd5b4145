"""Baselines: snapshot content, immutability, diff correctness (added/removed/modified, moves omitted), sets."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from domain_api import Api


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


async def test_baselines_diff_and_immutability(api: Api, make_user: Any, pg_dsn: str) -> None:
    m = (await api.module())["id"]
    await api.post(f"/modules/{m}/attribute-definitions", {"name": "n", "data_type": "integer"})
    a = await api.obj(m, heading="a", attributes={"n": 1})
    b = await api.obj(m, heading="b")
    c = await api.obj(m, heading="c")
    d = await api.obj(m, heading="d")
    bs = await api.post("/baseline-sets", {"name": "Release"})
    assert bs["version"] == "1.0"
    first = await api.post(f"/modules/{m}/baselines", {"name": "v1", "baseline_set_id": bs["id"]})
    assert first["locked"] is True and first["created_by"] == "00000000-0000-0000-0000-000000000002"
    assert first["entries"] == sorted(
        [{"baseline_id": first["id"], "object_id": o["id"], "version": 1} for o in (a, b, c, d)],
        key=lambda e: e["object_id"])
    await api.patch(f"/modules/{m}/objects/{a['id']}", {"attributes": {"n": 2}})      # modified
    await api.delete(f"/modules/{m}/objects/{b['id']}")                                # removed
    await api.post(f"/modules/{m}/objects/{c['id']}/move", {"action": "down"}, expect=200)  # moved only
    await api.patch(f"/modules/{m}/objects/{d['id']}", {"reviewed": True})           # review only
    e = await api.obj(m, heading="e")                                                  # added
    second = await api.post(f"/modules/{m}/baselines", {"name": "v2"})
    diff = await api.get(f"/modules/{m}/baseline-diff?a={first['id']}&b={second['id']}")
    assert diff["baseline_a"] == first["id"] and diff["baseline_b"] == second["id"]
    assert diff["added"] == [{"object_id": e["id"], "version": 1, "heading": "e", "body": None, "attributes": None}]
    assert [r["object_id"] for r in diff["removed"]] == [b["id"]]
    assert diff["modified"] == [{
        "object_id": a["id"], "version_a": 1, "version_b": 2, "heading_a": "a", "heading_b": "a", "body_a": None,
        "body_b": None, "attributes_a": {"n": 1}, "attributes_b": {"n": 2}}]
    live = await api.get(f"/modules/{m}/baseline-diff?a={first['id']}&b=current")
    assert live["baseline_b"] == "current"
    assert {k: [x["object_id"] for x in live[k]] for k in ("added", "removed", "modified")} == {
        k: [x["object_id"] for x in diff[k]] for k in ("added", "removed", "modified")}
    await api.patch(f"/modules/{m}/objects/{e['id']}", {"heading": "e2"})
    assert [x["heading_b"] for x in (await api.get(f"/baseline-diff?a={second['id']}&b=current"))["modified"]] == [
        "e2"]
    assert await api.get(f"/baseline-diff?a={second['id']}&b={second['id']}") == {
        "baseline_a": second["id"], "baseline_b": second["id"], "added": [], "removed": [], "modified": []}
    # the soft-deleted object's entry still resolves
    assert b["id"] in [x["object_id"] for x in (await api.get(f"/modules/{m}/baselines/{first['id']}"))["entries"]]
    other = (await api.module())["id"]
    foreign = await api.post(f"/modules/{other}/baselines", {"name": "x"})
    await api.error("GET", f"/baseline-diff?a={first['id']}&b={foreign['id']}", status=400,
                    message="baselines belong to different modules")
    await api.error("GET", f"/modules/{m}/baseline-diff?a={first['id']}&b={foreign['id']}", status=404)
    await api.error("GET", f"/baseline-diff?a={first['id']}", status=400)
    await api.error("PATCH", f"/modules/{m}/baselines/{first['id']}", {"name": "x"}, status=405)
    # immutability below the API too
    conn = await asyncpg.connect(pg_dsn)
    try:
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE baseline_entry SET version = 9")
    finally:
        await conn.close()
    listing = await api.get(f"/modules/{m}/baselines")
    assert [x["name"] for x in listing["items"]] == ["v2", "v1"]
    assert (await api.get("/baselines"))["total"] == 3
    # deleting the set detaches; baseline deletion is admin-only
    await api.delete(f"/baseline-sets/{bs['id']}")
    assert (await api.get(f"/modules/{m}/baselines/{first['id']}"))["baseline_set_id"] is None
    _, editor = await make_user("editor")
    await api.error("DELETE", f"/modules/{m}/baselines/{first['id']}", status=403, token=editor,
                    message="insufficient role: requires admin")
    await api.delete(f"/modules/{m}/baselines/{first['id']}")
    await api.error("GET", f"/modules/{m}/baselines/{first['id']}", status=404)
    history = await api.get(f"/modules/{m}/objects/{a['id']}/history")
    assert history["total"] == 2
