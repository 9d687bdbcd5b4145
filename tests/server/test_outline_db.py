"""Property test against the database: random moves, inserts and deletes through the API keep the
stored levels, positions and parents consistent with the outline rules."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest
from domain_api import Api
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from req1_server.db import init_connection
from req1_server.domain.outline import Outline, level_text

ACTION = st.tuples(st.sampled_from(["up", "down", "indent", "dedent", "move_to", "create", "delete"]),
                   st.integers(0, 30), st.integers(-1, 30), st.integers(-1, 5))


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


async def check(conn: asyncpg.Connection, module_id: uuid.UUID) -> None:
    rows = await conn.fetch("SELECT id, parent_id, position, level FROM object "
                            "WHERE module_id = $1 AND deleted_at IS NULL", module_id)
    outline = Outline.from_rows((r["id"], r["parent_id"], r["position"]) for r in rows)
    placements = outline.placements()
    assert len(placements) == len(rows), "every live object is reachable from the root"
    for row in rows:
        place = placements[row["id"]]
        assert row["position"] == place.position, "sibling positions are renumbered 0..k-1"
        assert row["level"] == level_text(place.level_path)


async def test_random_structure_changes_keep_levels_consistent(api: Api, pg_dsn: str) -> None:
    loop = asyncio.get_running_loop()
    conn = await asyncpg.connect(pg_dsn)
    await init_connection(conn)
    module = await api.module()
    project_id = module["project_id"]

    def run(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(120)

    @settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(size=st.integers(1, 6), actions=st.lists(ACTION, max_size=12))
    def scenario(size: int, actions: list[tuple[str, int, int, int]]) -> None:
        m = run(api.post("/modules", {"name": "h", "project_id": project_id}))["id"]
        ids = [run(api.obj(m, heading=str(i)))["id"] for i in range(size)]
        for action, pick, target, position in actions:
            if not ids:
                break
            node = ids[pick % len(ids)]
            if action == "create":
                parent = None if target < 0 else ids[target % len(ids)]
                ids.append(run(api.obj(m, parent_id=parent, position=None if position < 0 else position))["id"])
            elif action == "delete":
                run(api.delete(f"/modules/{m}/objects/{node}"))
                ids.remove(node)
            else:
                body: dict[str, Any] = {"action": action}
                if action == "move_to":
                    body["parent_id"] = None if target < 0 else ids[target % len(ids)]
                    body["position"] = None if position < 0 else position
                run(api.call("POST", f"/modules/{m}/objects/{node}/move", body))
                assert api.last_status in (200, 400)
            run(check(conn, uuid.UUID(m)))

    try:
        await asyncio.to_thread(scenario)
    finally:
        await conn.close()
