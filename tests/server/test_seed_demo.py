"""The demo seed fills an empty database once, with consistent levels, history, links and a baseline."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from domain_api import Api

from req1_server.db import init_connection
from req1_server.migrate import MIGRATIONS_DIR
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
    baselines = {b["name"]: b for b in (await api.get(f"/modules/{modules[0]['id']}/baselines"))["items"]}
    assert sorted(baselines) == ["Draft 1", "Draft 2"]
    assert baselines["Draft 1"]["created_at"] < baselines["Draft 2"]["created_at"]
    diff = await api.get(f"/baseline-diff?a={baselines['Draft 1']['id']}&b={baselines['Draft 2']['id']}")
    assert [m["heading_b"] for m in diff["modified"]] == ["Braking response"]
    current = await api.post(f"/modules/{modules[0]['id']}/baselines", {"name": "now"})
    diff = await api.get(f"/baseline-diff?a={baselines['Draft 2']['id']}&b={current['id']}")
    assert diff["modified"] == [] and diff["added"] == [] and diff["removed"] == []
    assert (await api.get("/search?q=braking"))["total"] >= 2
    views = (await api.get(f"/modules/{modules[0]['id']}/views"))["items"]
    assert [v["name"] for v in views] == ["Safety-relevant"]
    assert views[0]["filter_config"] == {"attrs": {"safety_relevant": "yes"}}


async def test_seed_demo_enum_values_are_arrays(api: Api, pg_dsn: str) -> None:
    """The contract's `enum_values: string[]`; a JSON-encoded string crashed the web UI on the first module."""
    conn = await asyncpg.connect(pg_dsn)
    try:
        await init_connection(conn)
        await seed_demo(conn)
        assert await conn.fetchval(
            "SELECT count(*) FROM attribute_definition WHERE jsonb_typeof(enum_values) <> 'array'") == 0
    finally:
        await conn.close()
    module = (await api.get("/modules"))["items"][0]
    definitions = (await api.get(f"/modules/{module['id']}/attribute-definitions"))["items"]
    by_name = {d["name"]: d for d in definitions}
    assert by_name["priority"]["enum_values"] == ["low", "medium", "high"]
    assert by_name["safety_relevant"]["enum_values"] is None
    # the allowed value still validates an edit through the API
    obj = next(o for o in await api.objects(module["id"]) if o["attributes"].get("priority") == "high")
    await api.patch(f"/modules/{module['id']}/objects/{obj['id']}",
                    {"attributes": {**obj["attributes"], "priority": "low"},
                     "expected_version": obj["current_version"]})


async def test_migration_repairs_double_encoded_enum_values(api: Api, pg_dsn: str) -> None:
    """Databases seeded before the fix hold a jsonb string; migration 0012 turns it back into the array."""
    module = await api.module()
    conn = await asyncpg.connect(pg_dsn)  # no codecs: write exactly what the old seed left behind
    try:
        await conn.execute(
            "INSERT INTO attribute_definition (id, module_id, name, data_type, enum_values, dependency_mapping) "
            "VALUES (gen_random_uuid(), $1, 'old', 'enum', to_jsonb($2::text), to_jsonb($3::text)), "
            "(gen_random_uuid(), $1, 'odd', 'enum', to_jsonb('not json'::text), NULL), "
            "(gen_random_uuid(), $1, 'fine', 'enum', '[\"a\"]'::jsonb, '{\"x\": [\"a\"]}'::jsonb)",
            module["id"], '["low", "medium", "high"]', '{"low": ["a"]}',
        )
        await conn.execute((MIGRATIONS_DIR / "0012_enum_values_arrays.sql").read_text())
        rows = {r["name"]: r for r in await conn.fetch(
            "SELECT name, enum_values::text AS e, dependency_mapping::text AS d FROM attribute_definition "
            "WHERE module_id = $1", module["id"])}
    finally:
        await conn.close()
    assert rows["old"]["e"] == '["low", "medium", "high"]' and rows["old"]["d"] == '{"low": ["a"]}'
    assert rows["odd"]["e"] == '"not json"'  # left alone rather than failing the migration
    assert rows["fine"]["e"] == '["a"]' and rows["fine"]["d"] == '{"x": ["a"]}'


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
