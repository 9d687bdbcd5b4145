"""The demo seed fills an empty database once, with consistent levels, history, links and a baseline."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from domain_api import Api

from req1_server.db import init_connection
from req1_server.seed_demo import seed_demo


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


async def test_seed_demo_once(api: Api, pg_dsn: str) -> None:
    conn = await asyncpg.connect(pg_dsn)
    try:
        await init_connection(conn)
        await seed_demo(conn)
        await seed_demo(conn)  # idempotent: the database is no longer empty
    finally:
        await conn.close()
    workspaces = await api.get("/workspaces")
    assert workspaces["total"] == 1
    modules = (await api.get("/modules"))["items"]
    assert [m["name"] for m in modules] == ["System Requirements", "Verification"]
    reqs = await api.objects(modules[0]["id"])
    assert [o["level"] for o in reqs] == ["1", "1.1", "2", "2.1", "2.2", "2.3", "3", "3.1"]
    assert len(reqs) + len(await api.objects(modules[1]["id"])) == 12
    links = (await api.get(f"/links?module_id={modules[0]['id']}"))["items"]
    assert len(links) == 4 and sum(link["suspect"] for link in links) == 2
    baselines = (await api.get(f"/modules/{modules[0]['id']}/baselines"))["items"]
    assert len(baselines) == 1
    current = await api.post(f"/modules/{modules[0]['id']}/baselines", {"name": "now"})
    diff = await api.get(f"/baseline-diff?a={baselines[0]['id']}&b={current['id']}")
    assert [m["heading_b"] for m in diff["modified"]] == ["Braking response"]
    assert (await api.get("/search?q=braking"))["total"] >= 2


async def test_migrate_seeds_demo_once(pg_dsn: str) -> None:
    from req1_server.config import Settings
    from req1_server.migrate import migrate

    settings = Settings.from_env({"DATABASE_URL": pg_dsn, "SEED_DEMO_DATA": "true", "ADMIN_PASSWORD": "x" * 12})
    first = await migrate(pg_dsn, settings)
    second = await migrate(pg_dsn, settings)
    assert first.demo_seeded is True and second.demo_seeded is False
    conn = await asyncpg.connect(pg_dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM object") == 12
        assert await conn.fetchval("SELECT count(*) FROM object_history") == 13
    finally:
        await conn.close()
