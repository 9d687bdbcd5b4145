"""Views (one default per module) and comments (authorship, mentions, reviewer rules)."""

from __future__ import annotations

from typing import Any

import pytest
from domain_api import Api


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


async def test_views(api: Api) -> None:
    m = (await api.module())["id"]
    first = await api.post(f"/modules/{m}/views", {"name": "All", "is_default": True})
    assert first["column_config"] == [] and first["filter_config"] == {} and first["sort_config"] == []
    second = await api.post(f"/modules/{m}/views", {"name": "Mine", "is_default": True,
                                                    "filter_config": {"classification": "heading"}})
    views = (await api.get(f"/modules/{m}/views"))["items"]
    assert [(v["name"], v["is_default"]) for v in views] == [("All", False), ("Mine", True)]
    await api.patch(f"/modules/{m}/views/{first['id']}", {"is_default": True, "column_config": ["heading"]})
    views = (await api.get(f"/modules/{m}/views"))["items"]
    assert [(v["name"], v["is_default"], v["column_config"]) for v in views] == [
        ("All", True, ["heading"]), ("Mine", False, [])]
    await api.error("POST", f"/modules/{m}/views", {"name": "x", "column_config": "bad"}, status=400)
    other = (await api.module())["id"]
    await api.error("GET", f"/modules/{other}/views/{second['id']}", status=404)
    await api.delete(f"/modules/{m}/views/{second['id']}")


async def test_comments(api: Api, make_user: Any) -> None:
    m = (await api.module())["id"]
    obj = await api.obj(m, heading="o")
    base = f"/objects/{obj['id']}/comments"
    reviewer, reviewer_token = await make_user("reviewer", display_name="Rita Review")
    _, other_token = await make_user("reviewer", display_name="Otto")
    _, viewer_token = await make_user("viewer")
    comment = await api.post(base, {"body": "Please check @rita review and @Otto", "author_id": "ignored"},
                             token=reviewer_token)
    assert comment["author_id"] == reviewer["id"] and comment["resolved"] is False
    assert len(comment["mentioned_user_ids"]) == 1  # the author is never mentioned; Otto is
    await api.error("POST", base, {"body": "  "}, status=400, token=reviewer_token)
    await api.error("POST", base, {"body": "x"}, status=403, token=viewer_token,
                    message="insufficient role: requires reviewer")
    await api.error("PATCH", f"{base}/{comment['id']}", {"body": "hijack"}, status=403, token=other_token,
                    message="insufficient role: requires admin")
    resolved = await api.patch(f"{base}/{comment['id']}", {"resolved": True}, token=other_token)
    assert resolved["resolved"] is True
    edited = await api.patch(f"{base}/{comment['id']}", {"body": "no mentions"}, token=reviewer_token)
    assert edited["mentioned_user_ids"] == [] and edited["body"] == "no mentions"
    await api.error("DELETE", f"{base}/{comment['id']}", status=403, token=other_token)
    assert (await api.get(base, token=viewer_token))["total"] == 1
    await api.delete(f"{base}/{comment['id']}")  # admin may delete any comment
    await api.delete(f"/modules/{m}/objects/{obj['id']}")
    await api.error("GET", base, status=404, message=f"object {obj['id']} not found")
