"""Live updates: a change committed through one API replica reaches an event stream on another one
(PostgreSQL LISTEN/NOTIFY), a lost listener connection turns into `resync`, and plain clients are refused."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import asyncpg
from aiohttp import ClientResponse
from domain_api import Api

STREAM = {"Accept": "text/event-stream"}


async def next_event(resp: ClientResponse, within: float = 5.0) -> tuple[str, dict[str, Any]]:
    """The next `event:`/`data:` pair of the stream (comments and retry lines skipped)."""
    event, data = "message", ""
    async with asyncio.timeout(within):
        while True:
            line = (await resp.content.readline()).decode().rstrip("\n")
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data = line[5:].strip()
            elif line == "" and data:
                return event, json.loads(data)


async def test_change_through_another_replica_reaches_the_stream(client_for: Any, server_env: dict[str, str],
                                                                 pg_dsn: str, admin_token: str) -> None:
    a, b = await client_for(server_env), await client_for(server_env)
    token = admin_token  # issued by a third instance: any replica accepts it
    api_a, api_b = Api(a, token), Api(b, token)
    module = await api_a.module()
    m = module["id"]
    auth = {"Authorization": f"Bearer {token}"}

    assert (await a.get(f"/api/v1/modules/{m}/events", headers=auth)).status == 406
    unknown = "/api/v1/modules/00000000-0000-0000-0000-00000000dead/events"
    assert (await a.get(unknown, headers={**auth, **STREAM})).status == 404
    assert (await a.get(f"/api/v1/modules/{m}/events", headers=STREAM)).status == 401

    resp = await a.get(f"/api/v1/modules/{m}/events", headers={**auth, **STREAM})
    assert resp.status == 200 and resp.content_type == "text/event-stream"
    assert (await next_event(resp))[0] == "ready"

    created = await api_b.obj(m, heading="Made on replica B")
    kind, event = await next_event(resp, 2.0)
    assert kind == "change" and event["op"] == "insert" and event["module_id"] == m
    assert event["items"] == [[created["id"], 1]]

    await api_b.patch(f"/modules/{m}/objects/{created['id']}", {"heading": "Edited on B", "expected_version": 1})
    kind, event = await next_event(resp, 2.0)
    assert kind == "change" and event["op"] == "update" and event["items"] == [[created["id"], 2]]

    # the listener's connection dies: it reconnects and tells the stream it may have missed events
    conn = await asyncpg.connect(pg_dsn)
    try:
        killed = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'LISTEN %req1_changes%'")
    finally:
        await conn.close()
    assert killed >= 1
    kind, _ = await next_event(resp, 10.0)
    assert kind == "resync"
    await api_b.delete(f"/modules/{m}/objects/{created['id']}")
    kind, event = await next_event(resp, 3.0)
    assert kind == "change" and event["op"] == "update"  # a soft delete is an update of the row
    resp.close()


async def test_bulk_write_is_one_event_without_items(client_for: Any, server_env: dict[str, str],
                                                     admin_token: str) -> None:
    """An import of 100 objects is one statement, so one event; past 80 rows it names none (reload)."""
    a = await client_for(server_env)
    token = admin_token
    m = (await Api(a, token).module())["id"]
    auth = {"Authorization": f"Bearer {token}"}
    resp = await a.get(f"/api/v1/modules/{m}/events", headers={**auth, **STREAM})
    assert (await next_event(resp))[0] == "ready"
    csv = "level,heading\n" + "\n".join(f"{i},Imported {i}" for i in range(1, 101))
    imported = await a.post(f"/api/v1/modules/{m}/import/csv", data=csv.encode(),
                            headers={**auth, "Content-Type": "text/csv"})
    assert imported.status == 200, await imported.text()
    kinds = []
    with contextlib.suppress(TimeoutError):
        while True:
            kind, event = await next_event(resp, 1.5)
            kinds.append((kind, event["op"], event["n"], event["items"]))
    inserts = [k for k in kinds if k[1] == "insert"]
    assert inserts == [("change", "insert", 100, None)], kinds
    resp.close()
