"""Bad input of every kind gets the right status and the JSON error envelope, never a 500 (§1.7)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest

SECRET = "test-secret-that-is-long-enough-for-hs256-use"
ADMIN_ID = "00000000-0000-0000-0000-000000000002"


def forged(claims: dict[str, Any], secret: str = SECRET, alg: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=alg)


NOW = int(time.time())
GOOD_CLAIMS = {"sub": ADMIN_ID, "email": "admin@localhost", "role": "admin", "iat": NOW, "exp": NOW + 3600,
               "sid": "0" * 32}
UNSIGNED = (
    base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    + "."
    + base64.urlsafe_b64encode(json.dumps(GOOD_CLAIMS).encode()).rstrip(b"=").decode()
    + "."
)

# (name, method, path, kwargs, status, message-or-None); "{admin}" in headers is replaced by a real token
CASES: list[tuple[str, str, str, dict[str, Any], int, str | None]] = [
    # bodies
    ("malformed json", "POST", "/api/v1/auth/login",
     {"data": b"{not json", "headers": {"Content-Type": "application/json"}}, 400, "malformed JSON body"),
    ("truncated json", "POST", "/api/v1/auth/login",
     {"data": b'{"email": "a@b", ', "headers": {"Content-Type": "application/json"}}, 400, "malformed JSON body"),
    ("invalid utf-8", "POST", "/api/v1/auth/login",
     {"data": b'{"email": "\xff\xfe"}', "headers": {"Content-Type": "application/json"}}, 400,
     "malformed JSON body"),
    ("json array", "POST", "/api/v1/auth/login", {"json": [1, 2]}, 400, "request body must be a JSON object"),
    ("json string", "POST", "/api/v1/auth/login", {"json": "hello"}, 400, "request body must be a JSON object"),
    ("json null", "POST", "/api/v1/auth/login", {"data": b"null", "headers": {"Content-Type": "application/json"}},
     400, "request body must be a JSON object"),
    ("empty body", "POST", "/api/v1/auth/login", {"data": b"", "headers": {"Content-Type": "application/json"}},
     400, "malformed JSON body"),
    ("missing field", "POST", "/api/v1/auth/login", {"json": {"email": "a@b"}}, 400,
     "missing required field 'password'"),
    ("wrong field type", "POST", "/api/v1/auth/login", {"json": {"email": 5, "password": "x"}}, 400,
     "field 'email' must be a string"),
    ("wrong content type", "POST", "/api/v1/auth/login",
     {"data": b'{"email":"a@b","password":"x"}', "headers": {"Content-Type": "text/plain"}}, 415,
     "Content-Type must be application/json"),
    ("form content type", "POST", "/api/v1/auth/login",
     {"data": {"email": "a@b"}}, 415, "Content-Type must be application/json"),
    ("no content type", "POST", "/api/v1/auth/login", {"data": b'{"a":1}', "headers": {"Content-Type": ""}}, 415,
     "Content-Type must be application/json"),
    ("oversized body", "POST", "/api/v1/auth/login",
     {"data": b'{"x":"' + b"a" * (2 * 1024 * 1024 + 10) + b'"}', "headers": {"Content-Type": "application/json"}},
     413, None),
    ("bad role value", "POST", "/api/v1/users",
     {"json": {"email": "r@x", "display_name": "R", "role": "boss"}, "headers": {"Authorization": "{admin}"}},
     400, "invalid role 'boss', must be one of: admin, editor, reviewer, viewer"),
    ("bad email", "POST", "/api/v1/auth/register",
     {"json": {"email": "not-an-email", "password": "longenough", "display_name": "X"}}, 400, None),
    ("short password", "POST", "/api/v1/auth/register",
     {"json": {"email": "s@x", "password": "short", "display_name": "X"}}, 400,
     "password must be at least 8 characters"),
    ("boolean as string", "POST", "/api/v1/users",
     {"json": {"email": "b@x", "display_name": "B", "active": "yes"}, "headers": {"Authorization": "{admin}"}},
     400, "field 'active' must be a boolean"),
    # paths
    ("bad uuid", "GET", "/api/v1/users/abc", {"headers": {"Authorization": "{admin}"}}, 400,
     "invalid UUID 'abc' for parameter 'id'"),
    ("uuid with junk", "GET", "/api/v1/users/00000000-0000-0000-0000-00000000000g",
     {"headers": {"Authorization": "{admin}"}}, 400, None),
    ("unknown user", "GET", "/api/v1/users/00000000-0000-0000-0000-0000000000ff",
     {"headers": {"Authorization": "{admin}"}}, 404, "user 00000000-0000-0000-0000-0000000000ff not found"),
    ("unknown api route", "GET", "/api/v1/nope", {}, 404, "no route for GET /api/v1/nope"),
    ("unknown api route POST", "POST", "/api/v1/nope", {"json": {}}, 404, "no route for POST /api/v1/nope"),
    ("unknown non-api path", "GET", "/definitely/not/here", {}, 404, None),
    ("wrong method", "DELETE", "/api/v1/auth/me", {"headers": {"Authorization": "{admin}"}}, 405,
     "method DELETE not allowed on /api/v1/auth/me"),
    ("wrong method on health", "POST", "/health/live", {}, 405, None),
    ("encoded traversal", "GET", "/api/v1/users/..%2F..%2Fetc%2Fpasswd", {"headers": {"Authorization": "{admin}"}},
     400, None),
    # query strings
    ("limit zero", "GET", "/api/v1/users?limit=0", {"headers": {"Authorization": "{admin}"}}, 400,
     "limit must be an integer between 1 and 1000"),
    ("limit text", "GET", "/api/v1/users?limit=ten", {"headers": {"Authorization": "{admin}"}}, 400,
     "limit must be an integer between 1 and 1000"),
    ("negative offset", "GET", "/api/v1/users?offset=-1", {"headers": {"Authorization": "{admin}"}}, 400, None),
    ("bad boolean query", "GET", "/api/v1/users?active=maybe", {"headers": {"Authorization": "{admin}"}}, 400,
     "query parameter 'active' must be true or false"),
    ("object-types without module", "GET", "/api/v1/object-types", {"headers": {"Authorization": "{admin}"}}, 400,
     None),
    # headers and tokens
    ("no auth header", "GET", "/api/v1/auth/me", {}, 401, "missing or invalid Authorization header"),
    ("basic auth", "GET", "/api/v1/auth/me", {"headers": {"Authorization": "Basic YWRtaW46YWRtaW4="}}, 401,
     "missing or invalid Authorization header"),
    ("bearer without token", "GET", "/api/v1/auth/me", {"headers": {"Authorization": "Bearer "}}, 401,
     "missing or invalid Authorization header"),
    ("garbage token", "GET", "/api/v1/auth/me", {"headers": {"Authorization": "Bearer abc.def.ghi"}}, 401,
     "invalid or expired token"),
    ("wrong secret", "GET", "/api/v1/auth/me",
     {"headers": {"Authorization": "Bearer " + forged(GOOD_CLAIMS, "another-secret-of-enough-length-000")}}, 401,
     "invalid or expired token"),
    ("alg none", "GET", "/api/v1/auth/me", {"headers": {"Authorization": "Bearer " + UNSIGNED}}, 401,
     "invalid or expired token"),
    ("expired token", "GET", "/api/v1/auth/me",
     {"headers": {"Authorization": "Bearer " + forged({**GOOD_CLAIMS, "exp": NOW - 3600})}}, 401,
     "invalid or expired token"),
    ("token without sid", "GET", "/api/v1/auth/me",
     {"headers": {"Authorization": "Bearer " + forged({k: v for k, v in GOOD_CLAIMS.items() if k != "sid"})}}, 401,
     "invalid or expired token"),
    ("token without exp", "GET", "/api/v1/auth/me",
     {"headers": {"Authorization": "Bearer " + forged({k: v for k, v in GOOD_CLAIMS.items() if k != "exp"})}}, 401,
     "invalid or expired token"),
    ("token for unknown user", "GET", "/api/v1/auth/me",
     {"headers": {"Authorization": "Bearer " + forged({**GOOD_CLAIMS, "sub": "00000000-0000-0000-0000-0000000000aa"})}},
     401, "invalid or expired token"),
    ("token with bad sub", "GET", "/api/v1/auth/me",
     {"headers": {"Authorization": "Bearer " + forged({**GOOD_CLAIMS, "sub": "nobody"})}}, 401,
     "invalid or expired token"),
    ("link token as bearer", "GET", "/api/v1/auth/me",
     {"headers": {"Authorization": "Bearer " + forged({**GOOD_CLAIMS, "scope": "link"})}}, 401,
     "invalid or expired token"),
    ("query token on normal route", "GET", "/api/v1/auth/me?token=" + forged(GOOD_CLAIMS), {}, 401,
     "missing or invalid Authorization header"),
    ("huge header", "GET", "/api/v1/auth/me", {"headers": {"Authorization": "Bearer " + "a" * 9000}}, 400, None),
    ("bad refresh token", "POST", "/api/v1/auth/refresh", {"json": {"refresh_token": "garbage"}}, 401,
     "invalid or expired refresh token"),
    ("wrong credentials", "POST", "/api/v1/auth/login", {"json": {"email": "admin@localhost", "password": "nope"}},
     401, "invalid credentials"),
    ("unknown email", "POST", "/api/v1/auth/login", {"json": {"email": "ghost@localhost", "password": "whatever1"}},
     401, "invalid credentials"),
    ("stub not implemented", "GET", "/api/v1/dashboards", {"headers": {"Authorization": "{admin}"}}, 501,
     "dashboards is not supported"),
]


async def check_case(client: Any, admin_token: str, case: tuple[str, str, str, dict[str, Any], int, str | None]
                     ) -> str | None:
    """None when the case behaves, else a description of what went wrong."""
    name, method, path, kwargs, status, message = case
    kwargs = dict(kwargs)
    headers = {k: (f"Bearer {admin_token}" if v == "{admin}" else v) for k, v in kwargs.pop("headers", {}).items()}
    resp = await client.request(method, path, headers=headers, **kwargs)
    text = await resp.text()
    problems = []
    if resp.status != status:
        problems.append(f"status {resp.status} != {status}")
    try:
        body = json.loads(text)
    except ValueError:
        return f"{name}: not JSON ({resp.status}): {text[:200]}"
    if not (isinstance(body, dict) and set(body) == {"error"} and set(body["error"]) == {"code", "message"}):
        problems.append("not the envelope")
    elif message is not None and body["error"]["message"] != message:
        problems.append(f"message {body['error']['message']!r} != {message!r}")
    if resp.headers.get("X-Content-Type-Options") != "nosniff" or not resp.headers.get("X-Request-Id"):
        problems.append("missing security or request-id headers")
    if status == 405 and not resp.headers.get("Allow"):
        problems.append("405 without Allow")
    return f"{name}: {'; '.join(problems)} -- {text[:200]}" if problems else None


async def test_bad_input_gets_envelope(client: Any, admin_token: str) -> None:
    failures = [f for f in [await check_case(client, admin_token, case) for case in CASES] if f]
    assert not failures, "\n".join(failures)


async def test_unhandled_exception_is_logged_500(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    resp = await client.get("/api/v1/_test/boom", headers={"X-Request-Id": "trace-me-123"})
    assert resp.status == 500
    assert await resp.json() == {"error": {"code": "INTERNAL_ERROR", "message": "internal server error"}}
    assert resp.headers["X-Request-Id"] == "trace-me-123"
    records = [r for r in caplog.records if r.getMessage() == "unhandled exception"]
    assert records and getattr(records[0], "request_id", None) == "trace-me-123"
    assert "deliberate test failure" in (caplog.text or "")


async def test_unsafe_request_id_is_replaced(client: Any) -> None:
    resp = await client.get("/health/live", headers={"X-Request-Id": "bad id\twith spaces"})
    assert resp.headers["X-Request-Id"] != "bad id\twith spaces"
    assert len(resp.headers["X-Request-Id"]) == 32


def test_case_count() -> None:
    assert len(CASES) >= 30


async def test_deeply_nested_json_is_a_400(client: Any, admin_token: str) -> None:
    """#13.10: nesting deep enough to recurse Python's parser is a 400 before any authentication, not a 500."""
    deep = b'{"email": ' + b"[" * 100_000 + b"]" * 100_000 + b', "password": "x"}'
    resp = await client.post("/api/v1/auth/login", data=deep, headers={"Content-Type": "application/json"})
    assert resp.status == 400, await resp.text()
    assert (await resp.json())["error"]["message"].startswith("malformed JSON body")
    # deeper than serde_json's 128 levels (the original server's limit) is refused too, also where it parses
    nested: Any = "x"
    for _ in range(200):
        nested = {"a": nested}
    resp = await client.post("/api/v1/workspaces", json={"name": "deep", "description": json.dumps(nested)},
                             headers={"Authorization": f"Bearer {admin_token}"})
    assert resp.status == 201  # a string that looks nested is fine
    resp = await client.post("/api/v1/auth/login", json={"email": nested, "password": "x"})
    assert resp.status == 400, await resp.text()
    assert (await resp.json())["error"]["message"].startswith("malformed JSON body")


@pytest.mark.parametrize("name", ["nul\u0000byte", "lone\ud800surrogate"])
async def test_text_postgres_cannot_store_is_a_clean_400(client: Any, admin_token: str, name: str) -> None:
    """#13.10: a NUL or an unpaired surrogate is refused with our message; PostgreSQL's text never leaks."""
    body = json.dumps({"name": name}).encode()  # ensure_ascii: \\u0000 / \\ud800 escapes
    resp = await client.post("/api/v1/workspaces", data=body, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {admin_token}"})
    assert resp.status == 400, await resp.text()
    message = (await resp.json())["error"]["message"]
    assert message.startswith("malformed JSON body"), message
    for leak in ("UTF8", "0x00", "encoding", "codec"):
        assert leak not in message, message


async def test_postgres_messages_do_not_leak(pg_dsn: str) -> None:
    """#13.10: a constraint that catches a client mistake answers 400 without PostgreSQL's wording."""
    import asyncpg
    from aiohttp.test_utils import make_mocked_request

    from req1_server.errors import from_postgres

    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute("CREATE TEMP TABLE leak (name text CHECK (btrim(name) <> ''), n smallint)")
        errors = []
        for sql, args in (("INSERT INTO leak (name) VALUES ($1)", [" "]),
                          ("INSERT INTO leak (n) VALUES ($1::int)", [99999])):
            try:
                await conn.execute(sql, *args)
            except asyncpg.PostgresError as err:
                errors.append(err)
    finally:
        await conn.close()
    request = make_mocked_request("POST", "/api/v1/workspaces")
    assert len(errors) == 2
    for err in errors:
        mapped = from_postgres(err, request)
        assert mapped.status == 400, mapped.message
        for leak in ("leak", "constraint", "relation", "smallint", "out of range"):
            assert leak not in mapped.message, mapped.message
