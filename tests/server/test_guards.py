"""Integrity guards (#13 "Also"): history is append-only in the database, an editor cannot remove baselines by
deleting their module, and the seeded link types keep their names unless an admin changes them."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from domain_api import Api

SATISFIES = "00000000-0000-0000-0000-000000000010"


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


async def test_history_is_append_only(api: Api, pg_dsn: str) -> None:
    m = (await api.module())["id"]
    a = await api.obj(m, heading="a")
    await api.patch(f"/modules/{m}/objects/{a['id']}", {"heading": "b"})
    conn = await asyncpg.connect(pg_dsn)
    try:
        oid = uuid.UUID(a["id"])
        with pytest.raises(asyncpg.PostgresError, match="history is append-only"):
            await conn.execute("UPDATE object_history SET heading = 'forged' WHERE object_id = $1", oid)
        with pytest.raises(asyncpg.PostgresError, match="history is append-only"):
            await conn.execute("DELETE FROM object_history WHERE object_id = $1", oid)
        assert await conn.fetchval("SELECT count(*) FROM object_history WHERE object_id = $1", oid) == 2
    finally:
        await conn.close()
    # deleting the module (and so the object) keeps its history
    await api.delete(f"/modules/{m}")
    conn = await asyncpg.connect(pg_dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM object_history WHERE object_id = $1", oid) == 2
    finally:
        await conn.close()


async def test_editor_cannot_delete_baselines_through_their_module(api: Api, make_user: Any) -> None:
    _, editor = await make_user("editor")
    m = (await api.module())["id"]
    await api.obj(m, heading="a")
    await api.post(f"/modules/{m}/baselines", {"name": "v1"})
    await api.error("DELETE", f"/modules/{m}", status=403, message="insufficient role: requires admin", token=editor)
    assert (await api.get(f"/modules/{m}/baselines"))["total"] == 1
    plain = (await api.module())["id"]
    await api.delete(f"/modules/{plain}", token=editor)  # without baselines an editor may
    await api.delete(f"/modules/{m}")  # an admin may


async def test_seeded_link_types_keep_their_names(api: Api, make_user: Any) -> None:
    _, editor = await make_user("editor")
    await api.error("PATCH", f"/link-types/{SATISFIES}", {"name": "renamed"}, status=403,
                    message="insufficient role: requires admin", token=editor)
    await api.error("DELETE", f"/link-types/{SATISFIES}", status=403, message="insufficient role: requires admin",
                    token=editor)
    described = await api.patch(f"/link-types/{SATISFIES}", {"description": "editors may describe it"}, token=editor)
    assert described["name"] == "satisfies"
    own = await api.post("/link-types", {"name": "refines"}, token=editor)
    assert (await api.patch(f"/link-types/{own['id']}", {"name": "refines-2"}, token=editor))["name"] == "refines-2"
    assert (await api.patch(f"/link-types/{SATISFIES}", {"name": "satisfies"}))["name"] == "satisfies"  # admin
