"""The core migration on a fresh database: tables, seeds, generated search vector, immutability triggers."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from req1_server.db import init_connection
from req1_server.migrate import apply_pending, discover


async def test_core_schema(pg_dsn: str) -> None:
    conn = await asyncpg.connect(pg_dsn)
    try:
        await init_connection(conn)
        await apply_pending(conn, discover())
        names = await conn.fetch("SELECT name FROM link_type ORDER BY id")
        assert [r["name"] for r in names] == ["satisfies", "derives-from", "verifies", "mitigates", "implements"]
        ws, pr, mo, ob = (uuid.uuid4() for _ in range(4))
        await conn.execute("INSERT INTO workspace (id, name) VALUES ($1, 'w')", ws)
        await conn.execute("INSERT INTO project (id, workspace_id, name) VALUES ($1, $2, 'p')", pr, ws)
        await conn.execute("INSERT INTO module (id, project_id, name) VALUES ($1, $2, 'm')", mo, pr)
        await conn.execute(
            "INSERT INTO object (id, module_id, heading, body_text, content_fingerprint) "
            "VALUES ($1, $2, 'Braking distance', 'the vehicle shall stop quickly', 'f')",
            ob, mo,
        )
        hit = await conn.fetchval(
            "SELECT ts_rank_cd(search_vector, q) > 0 FROM object, websearch_to_tsquery('english', 'stopping') q "
            "WHERE search_vector @@ q"
        )
        assert hit is True
        baseline = uuid.uuid4()
        await conn.execute("INSERT INTO baseline (id, module_id, name) VALUES ($1, $2, 'b')", baseline, mo)
        await conn.execute("INSERT INTO baseline_entry VALUES ($1, $2, 1)", baseline, ob)
        with pytest.raises(asyncpg.CheckViolationError, match="baseline entries are immutable"):
            await conn.execute("UPDATE baseline_entry SET version = 2")
        with pytest.raises(asyncpg.CheckViolationError, match="baselines are immutable"):
            await conn.execute("UPDATE baseline SET name = 'x'")
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE baseline SET locked = false")
        # deleting the module cascades, history (no FKs) stays
        await conn.execute(
            "INSERT INTO object_history (object_id, module_id, version, change_type) VALUES ($1, $2, 1, 'create')",
            ob, mo,
        )
        await conn.execute("DELETE FROM module WHERE id = $1", mo)
        assert await conn.fetchval("SELECT count(*) FROM object_history") == 1
        assert await conn.fetchval("SELECT count(*) FROM baseline_entry") == 0
    finally:
        await conn.close()
