"""Notifications and @mentions (extended contract §6) on the real PostgreSQL: who is notified of a comment, what
the notification says, the caller's own rows only, unread counts, and marking read."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from domain_api import Api


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


async def test_mentions_notify_each_mentioned_user_once_with_where_it_was(api: Api, make_user: Any) -> None:
    ann, ann_token = await make_user("reviewer", display_name="Ann Lee")
    bob, bob_token = await make_user("viewer", display_name="Bob")
    _, carl_token = await make_user("reviewer", display_name="Carl")
    m = await api.module()
    obj = await api.obj(m["id"], heading="Brakes")
    long_text = "é" * 120  # characters, not bytes: the cut never splits one
    comment = await api.post(f"/objects/{obj['id']}/comments",
                             {"body": f"@ann lee and @Bob please check; also @Carl {long_text}"}, token=carl_token)
    assert sorted(comment["mentioned_user_ids"]) == sorted([ann["id"], bob["id"]])  # never the author

    for token in (ann_token, bob_token):
        page = await api.get("/notifications", token=token)
        assert page["total"] == 1 and page["limit"] == 50
        note = page["items"][0]
        assert note["notification_type"] == "mention" and note["title"] == "You were mentioned in a comment"
        assert note["entity_type"] == "comment" and note["entity_id"] == comment["id"] and note["read"] is False
        assert note["body"] == comment["body"][:100] + "..." and note["body"][-4] == "é"
        assert note["target"] == {"workspace_id": note["target"]["workspace_id"], "project_id": m["project_id"],
                                  "module_id": m["id"], "object_id": obj["id"]}
    assert (await api.get("/notifications/unread-count", token=carl_token)) == {"count": 0}

    # an edit notifies only the users it newly mentions
    dora, dora_token = await make_user("viewer", display_name="Dora")
    await api.patch(f"/objects/{obj['id']}/comments/{comment['id']}",
                    {"body": "@Ann Lee @Bob @Dora short now"}, token=carl_token)
    assert (await api.get("/notifications/unread-count", token=ann_token)) == {"count": 1}
    dora_note = (await api.get("/notifications", token=dora_token))["items"]
    assert [n["body"] for n in dora_note] == ["@Ann Lee @Bob @Dora short now"]
    assert dora["id"] == dora_note[0]["user_id"]


async def test_each_user_sees_and_marks_only_their_own(api: Api, make_user: Any) -> None:
    _, ann_token = await make_user("reviewer", display_name="Ann")
    _, bob_token = await make_user("reviewer", display_name="Bob")
    m = await api.module()
    obj = await api.obj(m["id"], heading="x")
    for i in range(3):
        await api.post(f"/objects/{obj['id']}/comments", {"body": f"@Ann look {i}"}, token=bob_token)
    await api.post(f"/objects/{obj['id']}/comments", {"body": "@Bob yours"}, token=ann_token)

    mine = (await api.get("/notifications", token=ann_token))["items"]
    assert [n["body"] for n in mine] == ["@Ann look 2", "@Ann look 1", "@Ann look 0"]  # newest first
    bobs = (await api.get("/notifications", token=bob_token))["items"]
    await api.error("POST", f"/notifications/{bobs[0]['id']}/read", status=404, token=ann_token,
                    message=f"notification {bobs[0]['id']} not found")
    assert (await api.get("/notifications/unread-count", token=bob_token)) == {"count": 1}

    read = await api.post(f"/notifications/{mine[1]['id']}/read", expect=200, token=ann_token)
    assert read["read"] is True and read["id"] == mine[1]["id"]
    again = await api.post(f"/notifications/{mine[1]['id']}/read", expect=200, token=ann_token)  # idempotent
    assert again["read"] is True
    unread = await api.get("/notifications?unread_only=true", token=ann_token)
    assert [n["id"] for n in unread["items"]] == [mine[0]["id"], mine[2]["id"]] and unread["total"] == 2
    assert await api.post("/notifications/read-all", expect=200, token=ann_token) == {"updated": 2}
    assert await api.post("/notifications/read-all", expect=200, token=ann_token) == {"updated": 0}
    assert (await api.get("/notifications/unread-count", token=ann_token)) == {"count": 0}
    assert (await api.get("/notifications/unread-count", token=bob_token)) == {"count": 1}
    await api.error("GET", "/notifications?unread_only=maybe", status=400, token=ann_token)
    await api.error("POST", "/notifications/nope/read", status=400, token=ann_token)


async def test_inactive_users_and_rolled_back_comments_notify_nobody(
    api: Api, make_user: Any, pg_dsn: str
) -> None:
    gone, _ = await make_user("viewer", display_name="Gone")
    _, ann_token = await make_user("reviewer", display_name="Ann")
    m = await api.module()
    obj = await api.obj(m["id"], heading="x")
    await api.patch(f"/users/{gone['id']}", {"active": False})
    await api.post(f"/objects/{obj['id']}/comments", {"body": "@Gone @Ann hello"})
    conn = await asyncpg.connect(pg_dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM notification WHERE user_id = $1", gone["id"]) == 0
        before = await conn.fetchval("SELECT count(*) FROM notification")
        with pytest.raises(asyncpg.RaiseError):
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO comment (id, object_id, author_id, body, mentioned_user_ids) "
                    "VALUES (gen_random_uuid(), $1, NULL, '@Ann', (SELECT array_agg(id) FROM app_user))", obj["id"])
                assert await conn.fetchval("SELECT count(*) FROM notification") > before
                await conn.execute("DO $$ BEGIN RAISE EXCEPTION 'abort'; END $$")
        assert await conn.fetchval("SELECT count(*) FROM notification") == before
    finally:
        await conn.close()
    assert (await api.get("/notifications/unread-count", token=ann_token)) == {"count": 1}
