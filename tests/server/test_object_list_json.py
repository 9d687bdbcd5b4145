"""The object list without a search is written by PostgreSQL (``store.objects.listing_json``): every item must
be exactly what the Python shape of the same object is (``GET …/objects/{id}``), in the same order, with the
same envelope."""

from __future__ import annotations

import json
from typing import Any

import pytest
from domain_api import Api


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


async def test_list_items_equal_the_single_object_shape(api: Api, client: Any, admin_token: str) -> None:
    m = (await api.module(prefix="REQ"))["id"]
    base = f"/modules/{m}/attribute-definitions"
    await api.post(base, {"name": "prio", "data_type": "enum", "enum_values": ["low", "high"], "default_value": "low"})
    await api.post(base, {"name": "weight", "data_type": "float"})
    await api.post(base, {"name": "count", "data_type": "integer"})
    await api.post(base, {"name": "safety", "data_type": "boolean", "default_value": "false"})
    chapter = await api.obj(m, heading="Überblick ✓ \"quoted\" \\ back", body="<p>line\u2028sep &amp; tab\t</p>")
    first = await api.obj(m, parent_id=chapter["id"], heading="a", body="<p>x</p>",
                          attributes={"weight": 0.1, "count": 12345678901, "prio": "high"},
                          references=[{"doc": "ISO 26262", "n": 1.5}])
    await api.obj(m, parent_id=chapter["id"], heading=None, body=None)
    gone = await api.obj(m, heading="deleted later")
    await api.patch(f"/modules/{m}/objects/{first['id']}", {"reviewed": True})
    await api.delete(f"/modules/{m}/objects/{gone['id']}")

    for query in ("", "?include_deleted=true", "?limit=2", "?offset=1&limit=2", "?sort_by=heading&sort_dir=desc",
                  "?heading=a", "?needs_review=true", "?limit=1000"):
        resp = await client.get(f"/api/v1/modules/{m}/objects{query}",
                                headers={"Authorization": f"Bearer {admin_token}"})
        assert resp.status == 200 and resp.content_type == "application/json"
        page = json.loads(await resp.read())
        assert list(page) == ["items", "total", "offset", "limit"]
        for item in page["items"]:
            single = await api.get(f"/modules/{m}/objects/{item['id']}?include_deleted=true")
            assert item == single, query
            assert list(item) == list(single)  # the same keys in the same order
            for key in ("created_at", "updated_at", "reviewed_at", "deleted_at"):
                assert type(item[key]) is type(single[key])
    everything = await api.get(f"/modules/{m}/objects?include_deleted=true")
    assert everything["total"] == 4 and [o["heading"] for o in everything["items"]][:3] == [
        chapter["heading"], "a", None]
    reviewed = next(o for o in everything["items"] if o["id"] == first["id"])
    assert reviewed["reviewed_at"] is not None and reviewed["attributes"]["count"] == 12345678901
    assert (await api.get(f"/modules/{m}/objects?offset=10"))["items"] == []


async def test_iso_sql_writes_what_iso_writes(pg_dsn: str) -> None:
    import datetime as dt

    import asyncpg

    from req1_server.http import iso
    from req1_server.store.objects import iso_sql

    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute("SET TIME ZONE 'Europe/Berlin'")  # the session's zone must not matter
        for value in (dt.datetime(2026, 2, 21, 10, 11, 12, tzinfo=dt.UTC),
                      dt.datetime(2026, 2, 21, 10, 11, 12, 123456, tzinfo=dt.UTC),
                      dt.datetime(2026, 7, 1, 23, 59, 59, 120, tzinfo=dt.UTC),
                      dt.datetime(1999, 12, 31, 23, 0, 0, 500000, tzinfo=dt.timezone(dt.timedelta(hours=-5)))):
            written = await conn.fetchval(f"SELECT {iso_sql('$1::timestamptz')}", value)
            assert written == iso(value)
        assert await conn.fetchval(f"SELECT {iso_sql('NULL::timestamptz')}") is None
    finally:
        await conn.close()
