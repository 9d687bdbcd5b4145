"""Migrations under the advisory lock (§7.3): ordering, checksums, seeds, and two servers racing."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from req1_server.config import Settings
from req1_server.migrate import ADMIN_ID, LOCK_KEY, MigrationError, discover, migrate

BASE_ENV = {"ADMIN_PASSWORD": "admin-password-for-tests", "JWT_SECRET": "x" * 40}


def settings_for(dsn: str, **extra: str) -> Settings:
    return Settings.from_env({"DATABASE_URL": dsn, **BASE_ENV, **extra})


def write(directory: Path, name: str, sql: str) -> None:
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(sql)


async def fetch(dsn: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


async def test_applies_in_order_once_and_seeds_admin(pg_dsn: str) -> None:
    settings = settings_for(pg_dsn)
    first = await migrate(pg_dsn, settings)
    assert first.applied[0] == "0001_users.sql" and first.admin_seeded
    assert first.applied == [m.filename for m in discover()]
    second = await migrate(pg_dsn, settings)
    assert second.applied == [] and not second.admin_seeded
    rows = await fetch(pg_dsn, "SELECT id, email, role, display_name FROM app_user")
    assert [(str(r["id"]), r["email"], r["role"], r["display_name"]) for r in rows] == [
        (str(ADMIN_ID), "admin@localhost", "admin", "Administrator")]
    versions = [r["version"] for r in await fetch(pg_dsn, "SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == sorted(versions) and len(versions) == len(set(versions))


async def test_existing_accounts_untouched(pg_dsn: str) -> None:
    await migrate(pg_dsn, settings_for(pg_dsn))
    before = await fetch(pg_dsn, "SELECT password_hash FROM app_user")
    await migrate(pg_dsn, settings_for(pg_dsn, ADMIN_PASSWORD="a-different-password"))
    assert await fetch(pg_dsn, "SELECT password_hash FROM app_user") == before


async def test_edited_migration_stops(pg_dsn: str, tmp_path: Path) -> None:
    write(tmp_path, "0001_users.sql", (Path(__file__).parents[2] / "server/req1_server/migrations/0001_users.sql")
          .read_text())
    write(tmp_path, "0002_extra.sql", "CREATE TABLE extra (id int);")
    report = await migrate(pg_dsn, settings_for(pg_dsn), tmp_path)
    assert report.applied == ["0001_users.sql", "0002_extra.sql"]
    write(tmp_path, "0002_extra.sql", "CREATE TABLE extra (id bigint);")
    with pytest.raises(MigrationError, match=r"0002_extra.sql was edited after it was applied"):
        await migrate(pg_dsn, settings_for(pg_dsn), tmp_path)


async def test_failing_migration_rolls_back(pg_dsn: str, tmp_path: Path) -> None:
    write(tmp_path, "0001_users.sql", (Path(__file__).parents[2] / "server/req1_server/migrations/0001_users.sql")
          .read_text())
    write(tmp_path, "0002_bad.sql", "CREATE TABLE half (id int); SELECT * FROM no_such_table;")
    with pytest.raises(MigrationError, match=r"0002_bad\.sql failed"):
        await migrate(pg_dsn, settings_for(pg_dsn), tmp_path)
    assert [dict(r) for r in await fetch(pg_dsn, "SELECT to_regclass('half') AS t")] == [{"t": None}]
    assert [r["version"] for r in await fetch(pg_dsn, "SELECT version FROM schema_migrations")] == [1]


def test_bad_file_name(tmp_path: Path) -> None:
    write(tmp_path, "1_users.sql", "SELECT 1;")
    with pytest.raises(MigrationError, match=r"must be named NNNN_name\.sql"):
        discover(tmp_path)


async def test_production_requires_admin_password(pg_dsn: str) -> None:
    settings = Settings.from_env({"DATABASE_URL": pg_dsn, "APP_ENV": "production", "JWT_SECRET": "y" * 40})
    with pytest.raises(MigrationError, match="ADMIN_PASSWORD"):
        await migrate(pg_dsn, settings)


async def test_concurrent_runners_wait_for_the_lock(pg_dsn: str) -> None:
    """While one holder has the lock, a second runner waits; afterwards it finds nothing pending."""
    holder = await asyncpg.connect(pg_dsn)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        task = asyncio.create_task(migrate(pg_dsn, settings_for(pg_dsn)))
        for _ in range(100):
            waiting = await holder.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1",
                LOCK_KEY)
            if waiting:
                break
            await asyncio.sleep(0.05)
        assert waiting == 1 and not task.done()
        await holder.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
        report = await task
        assert report.applied and report.admin_seeded
    finally:
        await holder.close()
    again = await asyncio.gather(*(migrate(pg_dsn, settings_for(pg_dsn)) for _ in range(4)))
    assert all(r.applied == [] and not r.admin_seeded for r in again)


def test_two_server_processes_start_at_once(pg_dsn: str, server_env: dict[str, str], spawn_server: Any) -> None:
    servers = [spawn_server(server_env, name=f"server{i}", start=False) for i in range(2)]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda s: s.process.start(), servers))
    for server in servers:
        status, body = server.get("/health/ready")
        assert status == 200, (body, server.log())
    applied = [json.loads(line) for s in servers for line in s.log().splitlines()
               if line.startswith("{") and "applied migration" in line]
    assert len(applied) == len(discover()), "each migration applied exactly once across both servers"
    rows = asyncio.run(fetch(pg_dsn, "SELECT count(*) AS n FROM app_user"))
    assert rows[0]["n"] == 1
    versions = asyncio.run(fetch(pg_dsn, "SELECT version FROM schema_migrations"))
    assert len(versions) == len(discover())
