"""Concurrency (#13.8): a link and a soft delete or an edit of its end, a definition change and an object edit,
and two default views. Each test holds one side open in its own transaction on the real PostgreSQL, exactly
where the server's own transaction would be, and lets the server's request run against it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from domain_api import Api

SATISFIES = "00000000-0000-0000-0000-000000000010"


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


@pytest.fixture
async def raw(pg_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(pg_dsn)
    try:
        yield conn
    finally:
        await conn.close()


async def settled(task: asyncio.Task[Any], seconds: float = 0.7) -> bool:
    """True when the request finished within `seconds` (i.e. it did not wait for the open transaction)."""
    done, _ = await asyncio.wait({task}, timeout=seconds)
    return bool(done)


async def test_link_to_an_object_being_deleted(api: Api, raw: asyncpg.Connection) -> None:
    m = (await api.module())["id"]
    a, b = await api.obj(m, heading="a"), await api.obj(m, heading="b")
    tx = raw.transaction()
    await tx.start()
    # the soft delete of `a` in flight: row updated, its links deleted, not yet committed
    await raw.execute("UPDATE object SET deleted_at = now(), current_version = current_version + 1 WHERE id = $1",
                      uuid.UUID(a["id"]))
    await raw.execute("DELETE FROM link WHERE source_object_id = $1 OR target_object_id = $1", uuid.UUID(a["id"]))
    task = asyncio.create_task(api.call("POST", "/links", {
        "source_object_id": a["id"], "target_object_id": b["id"], "link_type_id": SATISFIES}))
    early = await settled(task)
    await tx.commit()
    body = await task
    assert not early, f"the link was created beside an uncommitted delete of its source: {body}"
    assert api.last_status == 404 and body["error"]["message"] == f"source object {a['id']} not found", body
    assert await raw.fetchval("SELECT count(*) FROM link WHERE source_object_id = $1", uuid.UUID(a["id"])) == 0


async def test_edit_racing_a_new_link_still_flags_it(api: Api, raw: asyncpg.Connection) -> None:
    m = (await api.module())["id"]
    a, b = await api.obj(m, heading="a"), await api.obj(m, heading="b")
    link_id = uuid.uuid4()
    tx = raw.transaction()
    await tx.start()
    # a link being created: both ends read under a share lock, the link inserted, not yet committed
    rows = await raw.fetch("SELECT id, content_fingerprint FROM object WHERE id = ANY($1::uuid[]) FOR SHARE",
                           [uuid.UUID(a["id"]), uuid.UUID(b["id"])])
    prints = {r["id"]: r["content_fingerprint"] for r in rows}
    await raw.execute(
        "INSERT INTO link (id, source_object_id, target_object_id, link_type_id, source_fingerprint, "
        "target_fingerprint) VALUES ($1, $2, $3, $4, $5, $6)", link_id, uuid.UUID(a["id"]), uuid.UUID(b["id"]),
        uuid.UUID(SATISFIES), prints[uuid.UUID(a["id"])], prints[uuid.UUID(b["id"])])
    task = asyncio.create_task(api.call("PATCH", f"/modules/{m}/objects/{a['id']}", {"heading": "a, changed"}))
    await settled(task, 0.5)
    await tx.commit()
    edited = await task
    assert api.last_status == 200, edited
    link = await api.get(f"/links/{link_id}")
    assert link["source_fingerprint"] != edited["content_fingerprint"]
    assert link["suspect"] is True, "the link's source changed after its fingerprint was recorded"


async def test_definition_delete_racing_an_attribute_edit(api: Api, raw: asyncpg.Connection) -> None:
    m = (await api.module())["id"]
    definition = await api.post(f"/modules/{m}/attribute-definitions", {"name": "prio", "data_type": "string"})
    a = await api.obj(m, heading="a")
    tx = raw.transaction()
    await tx.start()
    # the definition's delete in flight: the module's definitions marked changing, usage checked (0), row gone
    await raw.execute("UPDATE module SET definitions_version = definitions_version + 1 WHERE id = $1", uuid.UUID(m))
    await raw.execute("DELETE FROM attribute_definition WHERE id = $1", uuid.UUID(definition["id"]))
    task = asyncio.create_task(api.call("PATCH", f"/modules/{m}/objects/{a['id']}", {"attributes": {"prio": "x"}}))
    await settled(task, 0.5)
    await tx.commit()
    body = await task
    assert api.last_status == 400 and body["error"]["message"] == "unknown attribute 'prio'", body
    stored = await raw.fetchval("SELECT attributes FROM object WHERE id = $1", uuid.UUID(a["id"]))
    assert stored is None or "prio" not in stored


async def test_definition_delete_waits_for_an_attribute_edit(api: Api, raw: asyncpg.Connection) -> None:
    """The other order: an edit in flight holds the module's definitions; the delete then finds the value."""
    m = (await api.module())["id"]
    definition = await api.post(f"/modules/{m}/attribute-definitions", {"name": "prio", "data_type": "string"})
    a = await api.obj(m, heading="a")
    tx = raw.transaction()
    await tx.start()
    await raw.execute("SELECT 1 FROM module WHERE id = $1 FOR SHARE", uuid.UUID(m))
    await raw.execute("UPDATE object SET attributes = '{\"prio\": \"x\"}' WHERE id = $1", uuid.UUID(a["id"]))
    task = asyncio.create_task(api.call("DELETE", f"/modules/{m}/attribute-definitions/{definition['id']}"))
    early = await settled(task, 0.5)
    await tx.commit()
    body = await task
    assert not early and api.last_status == 409, body


async def test_one_default_view_per_module(api: Api, raw: asyncpg.Connection) -> None:
    m = (await api.module())["id"]
    tx = raw.transaction()
    await tx.start()
    # another request making a default view, not yet committed
    await raw.execute("SELECT 1 FROM module WHERE id = $1 FOR NO KEY UPDATE", uuid.UUID(m))
    await raw.execute("INSERT INTO view (id, module_id, name, is_default) VALUES ($1, $2, 'first', true)",
                      uuid.uuid4(), uuid.UUID(m))
    task = asyncio.create_task(api.call("POST", f"/modules/{m}/views", {"name": "second", "is_default": True}))
    await settled(task, 0.5)
    await tx.commit()
    created = await task
    assert api.last_status == 201, created
    defaults = await raw.fetch("SELECT name FROM view WHERE module_id = $1 AND is_default", uuid.UUID(m))
    assert [r["name"] for r in defaults] == ["second"]
    # the database itself refuses a second default
    with pytest.raises(asyncpg.UniqueViolationError):
        await raw.execute("INSERT INTO view (id, module_id, name, is_default) VALUES ($1, $2, 'third', true)",
                          uuid.uuid4(), uuid.UUID(m))
    many = await asyncio.gather(*(api.call("POST", f"/modules/{m}/views", {"name": f"v{i}", "is_default": True})
                                  for i in range(8)))
    assert all("id" in v for v in many), many
    assert await raw.fetchval("SELECT count(*) FROM view WHERE module_id = $1 AND is_default", uuid.UUID(m)) == 1
