"""?token= and signed URLs on download-style routes (§2.1, §2.3), and the Redis read cache."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from req1_server.auth import links


async def test_query_tokens_and_signed_urls(client: Any, admin_token: str, make_user: Any, auth: Any) -> None:
    user, token = await make_user("viewer")
    link = (await (await client.post("/api/v1/auth/link-token", headers=auth(token))).json())["token"]
    for query_token in (link, token):
        resp = await client.get(f"/api/v1/_test/download?token={query_token}")
        body = await resp.json()
        assert resp.status == 200, body
        assert body["user"] == user["id"]
    signed = body["signed_url"]
    assert signed.startswith("/api/v1/_test/download?")
    resp = await client.get(signed)
    assert resp.status == 200 and (await resp.json())["user"] == user["id"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(signed).query).items()}
    for tampered in ({**query, "uid": "00000000-0000-0000-0000-000000000002"},
                     {**query, "expires": str(int(query["expires"]) + 100)},
                     {**query, "signature": "0" * 64},
                     {**query, "expires": "1"}):
        resp = await client.get("/api/v1/_test/download?" + urlencode(tampered))
        assert resp.status == 401, tampered
        assert (await resp.json())["error"]["message"] == "invalid or expired download link"
    # a signature for another path is worthless here
    other = links.sign("test-secret-that-is-long-enough-for-hs256-use", "/api/v1/other", 30, None)
    resp = await client.get("/api/v1/_test/download?" + other.split("?", 1)[1])
    assert resp.status == 401
    # a link token dies with its login session
    assert (await client.post("/api/v1/auth/logout", headers=auth(token))).status == 204
    assert (await client.get(f"/api/v1/_test/download?token={link}")).status == 401
