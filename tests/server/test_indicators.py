"""Grid indicators: per-object comment (open and all) and attachment counts of a module, live objects only."""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp
import pytest
from domain_api import Api


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


def form(content: bytes) -> aiohttp.FormData:
    data = aiohttp.FormData()
    data.add_field("file", content, filename="a.txt", content_type="text/plain")
    return data


async def test_counts_per_object(api: Api, s3_bucket: Any, make_user: Any) -> None:
    m = (await api.module())["id"]
    quiet, talked, filed, gone = [await api.obj(m, heading=h) for h in ("quiet", "talked", "filed", "gone")]
    for body in ("one", "two", "three"):
        await api.post(f"/objects/{talked['id']}/comments", {"body": body})
    first = (await api.get(f"/objects/{talked['id']}/comments"))["items"][0]
    await api.patch(f"/objects/{talked['id']}/comments/{first['id']}", {"resolved": True})
    for _ in range(2):
        await api.call("POST", f"/objects/{filed['id']}/attachments", data=form(b"x"), expect=201)
    await api.post(f"/objects/{gone['id']}/comments", {"body": "about to go"})
    await api.delete(f"/modules/{m}/objects/{gone['id']}")

    _, viewer_token = await make_user("viewer")
    counts = await api.get(f"/modules/{m}/indicators", token=viewer_token)
    assert counts["module_id"] == m
    by_object = {i["object_id"]: i for i in counts["items"]}
    assert set(by_object) == {talked["id"], filed["id"]}, "objects with nothing, and deleted ones, are left out"
    assert by_object[talked["id"]] == {"object_id": talked["id"], "comments": 3, "open_comments": 2,
                                       "attachments": 0}
    assert by_object[filed["id"]]["attachments"] == 2 and by_object[filed["id"]]["comments"] == 0
    assert quiet["id"] not in by_object


async def test_unknown_module_is_404(api: Api) -> None:
    missing = uuid.uuid4()
    await api.error("GET", f"/modules/{missing}/indicators", status=404, message=f"module {missing} not found")
    await api.error("GET", "/modules/not-a-uuid/indicators", status=400)
