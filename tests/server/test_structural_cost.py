"""Structural edits cost what they change (#13.9): appending an object (the common create, and every import)
reads its parent and its last sibling, not the module's whole outline."""

from __future__ import annotations

import statistics
import time
from typing import Any

import asyncpg
import pytest
from domain_api import Api

SKELETON = "SELECT id, parent_id, position, level_path FROM object WHERE module_id"


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    for name in ("fetch", "fetchrow", "fetchval", "execute"):
        original = getattr(asyncpg.Connection, name)

        async def counted(self: Any, query: str, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            seen.append(query)
            return await _original(self, query, *args, **kwargs)

        monkeypatch.setattr(asyncpg.Connection, name, counted)
    return seen


async def import_rows(api: Api, m: str, rows: int) -> None:
    lines = ["level,heading"] + [f"{i},Chapter {i}" if i % 10 == 1 else f"{(i - 1) // 10 + 1}.{i % 10 or 10},R {i}"
                                 for i in range(1, rows + 1)]
    resp = await api.client.post(f"/api/v1/modules/{m}/import/csv", data=("\n".join(lines) + "\n").encode(),
                                 headers={"Authorization": f"Bearer {api.token}", "Content-Type": "text/csv"})
    assert resp.status == 200, await resp.text()


async def test_append_does_not_read_the_whole_outline(api: Api, statements: list[str]) -> None:
    m = (await api.module())["id"]
    await import_rows(api, m, 300)
    chapters = [o for o in await api.objects(m) if o["heading"].startswith("Chapter")]
    assert len(chapters) == 30
    statements.clear()
    top = await api.obj(m, heading="appended at the top level")
    child = await api.obj(m, heading="appended under chapter 7", parent_id=chapters[6]["id"])
    grandchild = await api.obj(m, heading="under it", parent_id=child["id"])
    assert not [s for s in statements if s.startswith(SKELETON)], "an append loaded the module's outline"
    assert (top["level"], top["position"]) == ("31", 30)
    assert (child["level"], child["position"]) == ("7.10", 9)
    assert (grandchild["level"], grandchild["position"]) == ("7.10.1", 0)
    items = await api.objects(m)
    assert [o["level"] for o in items][-3:] == ["29.10", "30", "31"] or items[-1]["level"] == "31"
    levels = [o["level"] for o in items]
    assert "7.10" in levels and "7.10.1" in levels and len(set(levels)) == len(levels)
    # an insert at a position still renumbers its following siblings
    first = await api.obj(m, heading="first", position=0)
    assert first["level"] == "1"
    assert (await api.get(f"/modules/{m}/objects/{top['id']}"))["level"] == "32"


async def test_append_latency_does_not_grow_with_the_module(api: Api) -> None:
    async def median_append(m: str) -> float:
        times = []
        for i in range(15):
            started = time.perf_counter()
            await api.obj(m, heading=f"timed {i}")
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    small = (await api.module())["id"]
    await import_rows(api, small, 10)
    large = (await api.module())["id"]
    await import_rows(api, large, 5000)
    t_small, t_large = await median_append(small), await median_append(large)
    print(f"\nappend: median {t_small * 1000:.1f} ms in a 10-object module, {t_large * 1000:.1f} ms in 5,000")
    assert t_large < max(3 * t_small, t_small + 0.1), (t_small, t_large)  # before: 30x (17 vs 512 ms)
