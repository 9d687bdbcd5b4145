"""The audit log (§7) on the real PostgreSQL: who may read it, what every mutation records (actor, time, entity,
before and after, in the change's own transaction), and the hash chain that exposes altered, deleted and
truncated entries."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

import aiohttp
import asyncpg
import pytest
from conftest import ADMIN_PASSWORD
from domain_api import Api

from req1_server.db import DATABASE

NEW_PASSWORD = "another-password-456"


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


async def entries(api: Api, query: str = "") -> list[dict[str, Any]]:
    return list((await api.get("/audit-log" + query))["items"])


async def verify(api: Api) -> dict[str, Any]:
    return dict(await api.get("/audit-log/verify"))


async def test_only_admins_read_the_audit_log(api: Api, make_user: Any) -> None:
    for role in ("viewer", "reviewer", "editor"):
        _, token = await make_user(role)
        for path in ("/audit-log", "/audit-log/verify"):
            await api.error("GET", path, status=403, token=token, message="insufficient role: requires admin")
    await api.call("GET", "/audit-log", expect=401, token="not-a-token")
    body = await api.get("/audit-log")
    assert body["limit"] == 50 and body["offset"] == 0 and body["total"] == len(body["items"]) > 0
    await api.call("POST", "/audit-log", {}, expect=405)
    await api.error("GET", "/audit-log?from=yesterday", status=400,
                    message="query parameter 'from' must be an ISO-8601 time")
    await api.error("GET", "/audit-log?entity_id=nope", status=400)


async def test_every_mutation_records_actor_entity_before_and_after(api: Api, make_user: Any) -> None:
    editor, editor_token = await make_user("editor")
    admin_id = (await api.get("/auth/me"))["id"]
    ws = await api.post("/workspaces", {"name": "Audited"})
    await api.patch(f"/workspaces/{ws['id']}", {"name": "Renamed", "description": "d"})
    project = await api.post(f"/workspaces/{ws['id']}/projects", {"name": "P"})
    module = await api.post("/modules", {"name": "M", "project_id": project["id"]}, token=editor_token)
    view = await api.post(f"/modules/{module['id']}/views", {"name": "V"}, token=editor_token)
    await api.get(f"/modules/{module['id']}/views")  # reads write nothing
    await api.delete(f"/workspaces/{ws['id']}")

    log = await entries(api, f"?entity_id={ws['id']}")
    assert [(e["action"], e["user_id"]) for e in log] == [("delete", admin_id), ("update", admin_id),
                                                         ("create", admin_id)]
    deleted, updated, created = log
    assert created["entity_type"] == "workspace" and created["details"]["after"]["name"] == "Audited"
    assert updated["details"] == {"fields": ["description", "name"], "before": {"description": None,
                                  "name": "Audited"}, "after": {"description": "d", "name": "Renamed"}}
    assert deleted["details"]["before"]["name"] == "Renamed"
    assert created["ip_address"] == "127.0.0.1" and created["created_at"] <= updated["created_at"]
    made = await entries(api, f"?entity_type=module&action=create&user_id={editor['id']}")
    assert [e["entity_id"] for e in made] == [module["id"]]
    # the workspace's cascade removed the project, module and view: each removal is recorded, by the admin
    for entity, row in (("project", project), ("module", module), ("view", view)):
        gone = await entries(api, f"?entity_type={entity}&entity_id={row['id']}&action=delete")
        assert [e["user_id"] for e in gone] == [admin_id]
    assert (await verify(api))["valid"] is True


async def test_bookkeeping_is_left_out(api: Api) -> None:
    module = await api.module()
    m = module["id"]
    definition = await api.post(f"/modules/{m}/attribute-definitions", {"name": "prio", "data_type": "integer"})
    await api.patch(f"/modules/{m}/attribute-definitions/{definition['id']}", {"name": "priority"})
    assert [e["action"] for e in await entries(api, f"?entity_type=module&entity_id={m}")] == ["create"]
    [created] = await entries(api, f"?entity_type=module&entity_id={m}")
    assert "definitions_version" not in created["details"]["after"] and created["details"]["after"]["name"] == "M"
    changes = await entries(api, f"?entity_type=attribute_definition&entity_id={definition['id']}")
    assert [e["action"] for e in changes] == ["update", "create"]


async def test_webhook_secrets_stay_out(api: Api, pg_dsn: str) -> None:
    conn = await asyncpg.connect(pg_dsn)
    try:
        module_id = uuid.UUID((await api.module())["id"])
        hook = await conn.fetchval("INSERT INTO webhook (id, module_id, name, url, secret) VALUES "
                                   "(gen_random_uuid(), $1, 'h', 'https://example.com/h', 'hush-1') RETURNING id",
                                   module_id)
        await conn.execute("UPDATE webhook SET secret = 'hush-2' WHERE id = $1", hook)
    finally:
        await conn.close()
    log = await entries(api, f"?entity_type=webhook&entity_id={hook}")
    assert [e["action"] for e in log] == ["update", "create"] and log[0]["details"]["fields"] == ["secret"]
    assert "hush" not in str(log) and log[1]["details"]["after"]["url"] == "https://example.com/h"


async def test_pooled_connections_forget_the_caller(api: Api, client: Any) -> None:
    """The caller bound to a write's connection never outlives the request (asyncpg resets it on release)."""
    for n in range(10):
        await api.post("/workspaces", {"name": f"w{n}"})
    db = client.app[DATABASE]
    held = [await db.primary.acquire() for _ in range(db.primary.get_max_size())]
    try:
        for conn in held:
            assert await conn.fetchval("SELECT current_setting('req1.actor', true)") in (None, "")
    finally:
        for conn in held:
            await db.primary.release(conn)


async def test_users_and_passwords_never_leak_into_the_log(api: Api, make_user: Any, login: Any) -> None:
    user, token = await make_user("viewer")
    await api.patch(f"/users/{user['id']}", {"role": "reviewer"})
    await api.call("POST", "/auth/change-password", {"old_password": "user-password-123",
                                                     "new_password": NEW_PASSWORD}, expect=204, token=token)
    log = await entries(api, f"?entity_type=app_user&entity_id={user['id']}")
    assert [e["action"] for e in log] == ["change_password", "update", "login", "create"]
    changed, promoted, _, created = log
    assert changed["user_id"] == user["id"] and changed["details"] == {
        "fields": ["password_hash"], "before": None, "after": None}
    assert promoted["details"]["role_from"] == "viewer" and promoted["details"]["role_to"] == "reviewer"
    assert "password_hash" not in created["details"]["after"] and created["details"]["after"]["email"]
    text = str(await entries(api, "?limit=1000"))
    assert "argon2" not in text and NEW_PASSWORD not in text and ADMIN_PASSWORD not in text


async def test_logins_and_logouts(api: Api, client: Any, make_user: Any) -> None:
    user, token = await make_user("viewer")
    bad = await client.post("/api/v1/auth/login", json={"email": user["email"], "password": "wrong-password"})
    assert bad.status == 401
    await client.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": "wrong-password"})
    await api.call("POST", "/auth/logout", expect=204, token=token)
    log = await entries(api, f"?entity_type=app_user&entity_id={user['id']}")
    assert [(e["action"], e["user_id"]) for e in log[:3]] == [
        ("logout", user["id"]), ("login_failed", None), ("login", user["id"])]
    assert log[1]["details"] == {"email": user["email"]} and log[1]["ip_address"] == "127.0.0.1"
    login = await client.post("/api/v1/auth/login", json={"email": user["email"], "password": "user-password-123"})
    first = (await login.json())["refresh_token"]
    assert (await client.post("/api/v1/auth/refresh", json={"refresh_token": first})).status == 200
    assert (await client.post("/api/v1/auth/refresh", json={"refresh_token": first})).status == 401  # replayed
    [reuse] = await entries(api, f"?action=refresh_reuse&entity_id={user['id']}")
    assert reuse["user_id"] == user["id"] and reuse["ip_address"] == "127.0.0.1"
    unknown = await entries(api, "?action=login_failed")
    assert unknown[0]["entity_id"] is None and unknown[0]["details"] == {"email": "nobody@example.com"}
    assert (await verify(api))["valid"] is True


async def test_imports_are_one_entry_each(api: Api) -> None:
    module = await api.module()
    m = module["id"]
    csv = "level,heading\n1,A\n2,B\n"
    await api.call("POST", f"/modules/{m}/import/csv", data=csv.encode(), headers={"Content-Type": "text/csv"},
                   expect=200)
    [entry] = await entries(api, f"?action=import&entity_id={m}")
    assert entry["details"] == {"format": "csv", "objects_created": 2, "objects_updated": 0, "links_created": 0}
    xml = await api.call("GET", f"/modules/{m}/reqif/export", expect=200)
    form = aiohttp.FormData()
    form.add_field("file", xml, filename="m.reqif", content_type="application/xml")
    result = await api.call("POST", f"/projects/{module['project_id']}/reqif/import", data=form, expect=201)
    [entry] = await entries(api, f"?action=import&entity_id={result['module_id']}")
    assert entry["details"]["format"] == "reqif" and entry["details"]["objects_created"] == 2
    assert entry["user_id"] == (await api.get("/auth/me"))["id"]


async def test_a_rolled_back_change_leaves_no_entry(api: Api, pg_dsn: str) -> None:
    before = await verify(api)
    conn = await asyncpg.connect(pg_dsn)
    try:
        with pytest.raises(asyncpg.UniqueViolationError):
            async with conn.transaction():
                await conn.execute("INSERT INTO link_type (id, name) VALUES (gen_random_uuid(), 'x')")
                await conn.execute("INSERT INTO link_type (id, name) "
                                   "VALUES ('00000000-0000-0000-0000-000000000010', 'dup')")
    finally:
        await conn.close()
    after = await verify(api)
    assert after["valid"] is True and after["entries"] == before["entries"] and after["head"] == before["head"]


async def test_many_entries_in_one_transaction_with_a_rolled_back_savepoint(api: Api, pg_dsn: str) -> None:
    before = await verify(api)
    insert = "INSERT INTO link_type (id, name) VALUES (gen_random_uuid(), $1)"
    conn = await asyncpg.connect(pg_dsn)
    try:
        async with conn.transaction():
            for n in range(300):
                await conn.execute(insert, f"kept {n}")
            with pytest.raises(asyncpg.UniqueViolationError):
                async with conn.transaction():  # a savepoint: its two entries go with it
                    await conn.execute(insert, "dropped")
                    await conn.execute("INSERT INTO link_type (id, name) "
                                       "VALUES ('00000000-0000-0000-0000-000000000010', 'dup')")
            await conn.execute(insert, "last")
    finally:
        await conn.close()
    after = await verify(api)
    assert after["valid"] is True and after["entries"] == before["entries"] + 301 == after["head"]["id"]
    names = [e["details"]["after"]["name"] for e in await entries(api, "?entity_type=link_type&limit=2")]
    assert names == ["last", "kept 299"]


async def test_a_snapshot_older_than_the_last_entry_cannot_fork_the_chain(api: Api, pg_dsn: str) -> None:
    insert = "INSERT INTO link_type (id, name) VALUES (gen_random_uuid(), $1)"
    old, new = await asyncpg.connect(pg_dsn), await asyncpg.connect(pg_dsn)
    try:
        stale = old.transaction(isolation="repeatable_read")
        await stale.start()
        await old.fetchval("SELECT count(*) FROM audit_log")  # the snapshot is taken here
        await new.execute(insert, "committed meanwhile")
        with pytest.raises(asyncpg.SerializationError):  # db.transaction retries exactly this
            await old.execute(insert, "would fork")
        await stale.rollback()
    finally:
        await old.close()
        await new.close()
    assert (await verify(api))["valid"] is True


async def test_entries_cannot_be_changed_through_sql(api: Api, pg_dsn: str) -> None:
    await api.post("/workspaces", {"name": "W"})
    conn = await asyncpg.connect(pg_dsn)
    try:
        for sql in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log",
                    "UPDATE audit_chain_head SET last_id = 0", "DELETE FROM audit_chain_head"):
            with pytest.raises(asyncpg.CheckViolationError):
                await conn.execute(sql)
    finally:
        await conn.close()
    assert (await verify(api))["valid"] is True


class Lane:
    """One concurrent writer with its own module, making random API writes across the audited resources."""

    def __init__(self, api: Api, module: dict[str, Any]) -> None:
        self.api, self.m, self.ws = api, module["id"], None
        self.rows: dict[str, list[str]] = {"views": [], "types": [], "models": [], "definitions": [], "objects": []}

    def path(self, kind: str) -> str:
        return {"views": f"/modules/{self.m}/views", "types": "/object-types",
                "models": f"/modules/{self.m}/lifecycle-models",
                "definitions": f"/modules/{self.m}/attribute-definitions"}[kind]

    async def mutate(self, rng: random.Random) -> int:
        """One write; the number of audit entries it must add (object edits add none: object_history has them)."""
        kind = rng.choice(["views", "types", "models", "definitions", "objects"])
        rows, n = self.rows[kind], f"{kind}{rng.random()}"
        if kind == "objects":
            if len(rows) < 2 or rng.random() < 0.5:
                rows.append((await self.api.obj(self.m, heading=n))["id"])
                return 0
            source, target = rng.sample(rows, 2)
            await self.api.post("/links", {"source_object_id": source, "target_object_id": target,
                                           "link_type_id": "00000000-0000-0000-0000-000000000010"},
                                expect=None)  # may repeat a link: 409 and no entry
            return 1 if self.api.last_status == 201 else 0
        choice = rng.random()
        if not rows or choice < 0.4:
            body: dict[str, Any] = {"name": n} | ({"module_id": self.m} if kind == "types" else {})
            body |= {"data_type": "string"} if kind == "definitions" else {}
            rows.append((await self.api.post(self.path(kind), body))["id"])
        elif choice < 0.8:
            await self.api.patch(f"{self.path(kind)}/{rng.choice(rows)}", {"name": n})
        else:
            await self.api.delete(f"{self.path(kind)}/{rows.pop(rng.randrange(len(rows)))}")
        return 1


async def tamper(pg_dsn: str, sql: str) -> None:
    """Change the log as the database's superuser could: with its triggers off."""
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(sql)
    finally:
        await conn.close()


async def test_chain_holds_after_1000_concurrent_mutations_and_exposes_tampering(api: Api, pg_dsn: str) -> None:
    rng = random.Random(13)
    lanes = [Lane(api, await api.module()) for _ in range(10)]
    start = (await verify(api))["entries"]
    expected = 0
    for _ in range(100):  # 1,000 writes, ten at a time from concurrent requests contending for the chain
        added = await asyncio.gather(*(lane.mutate(random.Random(rng.random())) for lane in lanes))
        expected += sum(added)
    result = await verify(api)
    assert result["valid"] is True and result["first_invalid"] is None
    last = result["head"]["id"]
    assert result["entries"] == start + expected == last and expected > 700
    kinds = {e["entity_type"] for e in await entries(api, "?limit=1000")}  # newest first: these writes
    assert {"view", "object_type", "lifecycle_model", "attribute_definition", "link"} <= kinds

    await tamper(pg_dsn, f"DELETE FROM audit_log WHERE id = {last}")
    assert (await verify(api))["first_invalid"] == {"id": last, "problem": "the last entries are missing"}
    await tamper(pg_dsn, "UPDATE audit_log SET details = '{\"after\": {\"name\": \"forged\"}}' WHERE id = 500")
    assert (await verify(api))["first_invalid"] == {"id": 500, "problem": "content does not match its hash"}
    # re-hashing the forged entry only moves the break to the entry after it
    await tamper(pg_dsn, "UPDATE audit_log SET hash = req1_audit_hash(prev_hash, audit_log) WHERE id = 500")
    assert (await verify(api))["first_invalid"] == {"id": 501, "problem": "does not link to the entry before it"}
    await tamper(pg_dsn, "DELETE FROM audit_log WHERE id BETWEEN 300 AND 301")
    broken = await verify(api)
    assert broken == {"valid": False, "entries": last - 3, "head": result["head"],
                      "first_invalid": {"id": 302, "problem": "missing entries before this one"}}
