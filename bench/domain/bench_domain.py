"""Domain hot paths against a real PostgreSQL 15 (durable settings) and the real app over HTTP.

Seeds a 10,000-object module (plus nine more for a 100,000-object search corpus) and measures:
single-object edit with history and suspect update, a filtered list, ranked search over 100,000
objects, baseline creation, diff of two 10,000-object baselines after 1,000 edits, and ReqIF import of
5,000 objects with hierarchy and links. Latency is measured at the HTTP client on localhost, so it
includes request parsing and JSON encoding (an upper bound of the server-side figure).

Run: .venv/bin/python bench/domain/bench_domain.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

from req1_server.app import create_app
from req1_server.config import Settings
from req1_server.db import init_connection
from req1_server.domain.fingerprint import content_fingerprint
from req1_server.domain.ids import new_id
from req1_server.domain.reqif.model import AttrSpec, ExportLink, ExportModule, ExportObject
from req1_server.domain.reqif.serialize import serialize
from req1_server.domain.sanitize import html_to_text
from req1_server.store import outline as ops
from req1_testenv.postgres import PostgresServer
from req1_testenv.process import free_port
from req1_testenv.scratch import remove_tree, scratch_dir

ADMIN = uuid.UUID("00000000-0000-0000-0000-000000000002")
SATISFIES = uuid.UUID("00000000-0000-0000-0000-000000000010")
PASSWORD = "bench-admin-password"
COMMON_TEXT = (
    "brake pedal sensor controller latency redundancy voltage torque wheel fault diagnostic signal timeout "
    "watchdog memory bus message frame checksum heartbeat power supply thermal limit speed acceleration "
    "steering actuator calibration firmware update logging safety hazard mitigation"
)
WORDS = COMMON_TEXT.split()
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "zen", "dra", "pel", "qui", "bor", "fan", "gus"]
# a 3,375-word vocabulary besides the 35 domain words, so a query term matches a few % of objects
VOCABULARY = [a + b + c for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES]
DURABLE = {
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "shared_buffers": "'1GB'",
    "work_mem": "'32MB'",
    "effective_cache_size": "'8GB'",
}


def text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) if rng.random() < 0.1 else rng.choice(VOCABULARY) for _ in range(n))


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


async def timed(n: int, call: Callable[[int], Awaitable[None]]) -> dict[str, float]:
    samples = []
    for i in range(n):
        start = time.perf_counter()
        await call(i)
        samples.append(time.perf_counter() - start)
    return percentiles(samples)


async def seed_module(
    conn: asyncpg.Connection, project_id: uuid.UUID, name: str, count: int, rng: random.Random
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A module of `count` objects: 100 chapters x sections x requirements, with attributes."""
    module_id = new_id()
    await conn.execute("INSERT INTO module (id, project_id, name) VALUES ($1, $2, $3)", module_id, project_id, name)
    await conn.execute(
        "INSERT INTO attribute_definition (id, module_id, name, data_type, enum_values) VALUES "
        "($1, $2, 'priority', 'enum', '[\"low\",\"medium\",\"high\"]'), ($3, $2, 'weight', 'integer', NULL)",
        new_id(),
        module_id,
        new_id(),
    )
    objects: list[ops.NewObject] = []
    chapter: uuid.UUID | None = None
    section: uuid.UUID | None = None
    for i in range(count):
        depth = 0 if i % 100 == 0 else (1 if i % 10 == 0 else 2)
        parent = None if depth == 0 else (chapter if depth == 1 else section)
        heading = f"{text(rng, 4)} {i}"
        body = f"<p>The system shall {text(rng, 25)}.</p>"
        attributes = {"priority": rng.choice(["low", "medium", "high"]), "weight": rng.randint(1, 100)}
        obj = ops.NewObject(
            id=new_id(),
            parent_id=parent,
            heading=heading,
            body=body,
            body_text=html_to_text(body),
            attributes=attributes,
            classification="heading" if depth == 0 else "normative",
            fingerprint=content_fingerprint(heading, body, attributes),
        )
        if depth == 0:
            chapter = obj.id
        elif depth == 1:
            section = obj.id
        objects.append(obj)
    async with conn.transaction():
        await ops.create_objects(conn, module_id, objects, ADMIN)
    return module_id, [o.id for o in objects]


def reqif_document(count: int, rng: random.Random) -> bytes:
    attrs = [
        (str(uuid.uuid4()), AttrSpec("priority", "enum", ["low", "medium", "high"])),
        (str(uuid.uuid4()), AttrSpec("weight", "integer")),
        (str(uuid.uuid4()), AttrSpec("owner", "string")),
    ]
    roots: list[ExportObject] = []
    flat: list[ExportObject] = []
    for i in range(count):
        node = ExportObject(
            str(uuid.uuid4()),
            f"{text(rng, 4)} {i}",
            f"<p>{text(rng, 25)}</p>",
            {"priority": rng.choice(["low", "medium", "high"]), "weight": i, "owner": "ann"},
        )
        if i % 50 == 0:
            roots.append(node)
        elif i % 10 == 0:
            roots[-1].children.append(node)
        else:
            (roots[-1].children[-1] if roots[-1].children else roots[-1]).children.append(node)
        flat.append(node)
    links = [
        ExportLink(str(uuid.uuid4()), flat[i].id, flat[i - 1].id, str(SATISFIES), "satisfies")
        for i in range(1, count, 3)
    ]
    return serialize(ExportModule(str(uuid.uuid4()), "Imported", attrs, roots, links))


async def main(quick: bool) -> dict[str, Any]:
    rng = random.Random(7)
    root = scratch_dir("bench-domain")
    pg = PostgresServer(root / "postgres", conf=DURABLE).start()
    results: dict[str, Any] = {}
    try:
        dsn = pg.create_database("bench")
        settings = Settings.from_env(
            {
                "DATABASE_URL": dsn,
                "ADMIN_PASSWORD": PASSWORD,
                "LOG_LEVEL": "warning",
                "RATE_LIMIT_ENABLED": "false",
                "DATABASE_POOL_SIZE": "10",
                "JWT_SECRET": "bench-secret-bench-secret-bench-secret",
            }
        )
        runner = web.AppRunner(create_app(settings))
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        base = f"http://127.0.0.1:{port}/api/v1"
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/auth/login", json={"email": "admin@localhost", "password": PASSWORD}) as r:
                token = (await r.json())["token"]
            auth = {"Authorization": f"Bearer {token}"}

            async def call(method: str, path: str, expect: int, **kw: Any) -> Any:
                async with http.request(method, base + path, headers=auth, **kw) as resp:
                    body = await resp.read()
                    assert resp.status == expect, (path, resp.status, body[:300])
                    return json.loads(body) if resp.content_type == "application/json" else body

            ws = await call("POST", "/workspaces", 201, json={"name": "bench"})
            project = await call("POST", f"/workspaces/{ws['id']}/projects", 201, json={"name": "p"})
            conn = await asyncpg.connect(dsn)
            await init_connection(conn)
            modules = 2 if quick else 10
            t0 = time.perf_counter()
            module_id, ids = await seed_module(conn, uuid.UUID(project["id"]), "module-0", 10_000, rng)
            for n in range(1, modules):
                await seed_module(conn, uuid.UUID(project["id"]), f"module-{n}", 10_000, rng)
            results["seed_seconds"] = round(time.perf_counter() - t0, 1)
            results["objects_total"] = await conn.fetchval("SELECT count(*) FROM object")
            # links on the objects we edit, so edits pay for the suspect update
            targets = ids[1::10][:1000]
            await conn.execute(
                "INSERT INTO link (id, source_object_id, target_object_id, link_type_id) "
                "SELECT gen_random_uuid(), s, t, $3 FROM unnest($1::uuid[], $2::uuid[]) AS u(s, t)",
                targets,
                [ids[ids.index(t) + 1] for t in targets],
                SATISFIES,
            )
            await conn.execute("VACUUM ANALYZE")
            m = str(module_id)

            # the platform's per-request cost (JWT, user load, logging) for scale
            results["request_overhead_get_one_object"] = await timed(
                100, lambda i: call("GET", f"/modules/{m}/objects/{ids[i]}", 200))
            baseline_a = await call("POST", f"/modules/{m}/baselines", 201, json={"name": "before"})
            edit_ids = rng.sample(ids, 1000)

            async def edit(i: int) -> None:
                await call(
                    "PATCH",
                    f"/modules/{m}/objects/{edit_ids[i]}",
                    200,
                    json={"body": f"<p>edited {i} {text(rng, 20)}</p>", "attributes": {"weight": i}},
                )

            results["single_object_edit"] = await timed(1000, edit)
            results["filtered_list_heading"] = await timed(
                30,
                lambda i: call("GET", f"/modules/{m}/objects?heading={rng.choice(WORDS)}%20{rng.choice(WORDS)}", 200),
            )
            results["filtered_list_classification_heading"] = await timed(
                30, lambda i: call("GET", f"/modules/{m}/objects?classification=heading", 200)
            )
            results["filtered_list_needs_review_page"] = await timed(
                30, lambda i: call("GET", f"/modules/{m}/objects?needs_review=true&limit=50&offset={i * 50}", 200)
            )
            results["search_100k"] = await timed(
                30, lambda i: call("GET", f"/search?q={rng.choice(WORDS)}%20{rng.choice(WORDS)}", 200)
            )
            results["search_100k_phrase"] = await timed(
                30, lambda i: call("GET", f"/search?q=%22{rng.choice(WORDS)}%20{rng.choice(WORDS)}%22", 200)
            )
            created: list[str] = []

            async def baseline(i: int) -> None:
                created.append((await call("POST", f"/modules/{m}/baselines", 201, json={"name": f"b{i}"}))["id"])

            results["baseline_create_10k"] = await timed(10, baseline)
            diff_body = await call("GET", f"/modules/{m}/baseline-diff?a={baseline_a['id']}&b={created[-1]}", 200)
            results["diff_counts"] = {k: len(diff_body[k]) for k in ("added", "removed", "modified")}
            results["baseline_diff_10k_after_1000_edits"] = await timed(
                20, lambda i: call("GET", f"/modules/{m}/baseline-diff?a={baseline_a['id']}&b={created[-1]}", 200)
            )
            document = reqif_document(5000, rng)
            results["reqif_bytes"] = len(document)

            async def import_reqif(i: int) -> None:
                form = aiohttp.FormData()
                form.add_field("file", document, filename="bench.reqif", content_type="application/xml")
                result = await call("POST", f"/projects/{project['id']}/reqif/import", 201, data=form)
                assert result["objects_created"] == 5000

            results["reqif_import_5000"] = await timed(3 if quick else 5, import_reqif)
            await conn.close()
        await runner.cleanup()
    finally:
        pg.stop()
        remove_tree(root)
    results["machine"] = f"{platform.system()} {platform.release()}, {platform.processor() or platform.machine()}"
    results["load_average_after"] = os.getloadavg()
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="20,000 objects instead of 100,000")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.quick)), indent=2))
