"""The cost of the audit log's trigger and hash chain (migration 0017) on writes, and of verifying the chain.

On a real PostgreSQL 15 with durable settings and the project's migrations, each round runs the same writes
twice, interleaved: with the audit trigger on the table enabled and disabled. A write is one transaction of
the shape the API makes (caller bound with set_config, one INSERT, UPDATE or DELETE of a workspace). Measured:
latency per write on one connection (p50/p95), throughput with 8 concurrent connections (every audited write
takes the chain head, so this is where serialization would show), and the time of the chain verification
(store/audit.py) over 100,000 entries.

Run: .venv/bin/python bench/audit/bench_audit.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from typing import Any

import asyncpg

from req1_server.db import init_connection
from req1_server.migrate import apply_pending, discover, ensure_table
from req1_server.store import audit
from req1_testenv.postgres import PostgresServer
from req1_testenv.scratch import remove_tree, scratch_dir

DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on", "shared_buffers": "'512MB'"}
ACTOR = "SELECT set_config('req1.actor', $1, false), set_config('req1.ip', '127.0.0.1', false)"
INSERT = "INSERT INTO workspace (id, name) VALUES ($1, $2)"
UPDATE = "UPDATE workspace SET description = $2, updated_at = now() WHERE id = $1"
DELETE = "DELETE FROM workspace WHERE id = $1"
TOGGLE = "ALTER TABLE workspace {} TRIGGER audit_workspace"


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"n": len(ordered), "p50_ms": round(statistics.median(ordered) * 1000, 3),
            "p95_ms": round(ordered[round(0.95 * (len(ordered) - 1))] * 1000, 3)}


async def cycle(conn: asyncpg.Connection, samples: list[float] | None) -> None:
    """Create, change and delete one workspace: three writes, each its own transaction."""
    ws = uuid.uuid4()
    for sql, args in ((INSERT, (ws, "bench")), (UPDATE, (ws, "changed")), (DELETE, (ws,))):
        start = time.perf_counter()
        async with conn.transaction():
            await conn.execute(sql, *args)
        if samples is not None:
            samples.append(time.perf_counter() - start)


async def sequential(conn: asyncpg.Connection, cycles: int) -> list[float]:
    samples: list[float] = []
    for _ in range(cycles):
        await cycle(conn, samples)
    return samples


async def concurrent(pool: asyncpg.Pool, cycles: int, clients: int) -> float:
    """Writes per second with ``clients`` connections writing at once."""

    async def client() -> None:
        async with pool.acquire() as conn:
            await conn.execute(ACTOR, str(uuid.uuid4()))
            for _ in range(cycles // clients):
                await cycle(conn, None)

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return round(3 * (cycles // clients) * clients / (time.perf_counter() - start), 1)


async def run(dsn: str, rounds: int, cycles: int, verify_entries: int) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn)
    await init_connection(conn)
    await ensure_table(conn)
    await apply_pending(conn, discover())
    await conn.execute(ACTOR, str(uuid.uuid4()))
    pool = await asyncpg.create_pool(dsn, min_size=8, max_size=8, init=init_connection)
    assert pool is not None
    results: dict[str, Any] = {"on": {"latency": [], "throughput": []}, "off": {"latency": [], "throughput": []}}
    await sequential(conn, 100)  # warm up
    for _ in range(rounds):
        for mode in ("on", "off"):
            await conn.execute(TOGGLE.format("ENABLE" if mode == "on" else "DISABLE"))
            results[mode]["latency"].extend(await sequential(conn, cycles))
            results[mode]["throughput"].append(await concurrent(pool, cycles, 8))
    await conn.execute(TOGGLE.format("ENABLE"))
    out: dict[str, Any] = {mode: {"latency": summary(r["latency"]), "writes_per_s": r["throughput"]}
                           for mode, r in results.items()}
    start = time.perf_counter()
    await conn.execute("INSERT INTO audit_log (action, entity_type, details) "
                       "SELECT 'create', 'bench', jsonb_build_object('after', jsonb_build_object('n', n)) "
                       "FROM generate_series(1, $1) n", verify_entries)
    out["bulk_insert_us_per_entry"] = round((time.perf_counter() - start) / verify_entries * 1e6, 1)
    start = time.perf_counter()
    verdict = await audit.verify(conn)
    out["verify"] = {"entries": verdict["entries"], "valid": verdict["valid"],
                     "seconds": round(time.perf_counter() - start, 2)}
    await pool.close()
    await conn.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and entries")
    args = parser.parse_args()
    rounds, cycles, entries = (2, 200, 10_000) if args.quick else (5, 1000, 100_000)
    root = scratch_dir("bench-audit")
    pg = PostgresServer(root / "postgres", conf=DURABLE).start()
    try:
        load_before = os.getloadavg()[0]
        result = asyncio.run(run(pg.create_database("bench"), rounds, cycles, entries))
        result["load_average"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
        print(json.dumps(result, indent=2))
    finally:
        pg.stop()
        remove_tree(root)


if __name__ == "__main__":
    main()
