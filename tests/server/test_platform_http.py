"""Health, metrics, OpenAPI, security headers, CORS and the static web UI (§3, §6.2-6.4)."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest

from req1_server.appkeys import ROUTE_SPECS
from req1_server.config import SPA_CSP

API_CSP = "default-src 'none'; frame-ancestors 'none'"


async def test_health_with_build_sha(server_env: dict[str, str], client_for: Any) -> None:
    client = await client_for({**server_env, "BUILD_SHA": "abc123"})
    assert await (await client.get("/health/live")).json() == {"status": "ok", "build_sha": "abc123"}
    ready = await (await client.get("/health/ready")).json()
    assert ready["build_sha"] == "abc123" and ready["status"] == "ok"


async def test_ready_degraded_without_s3(server_env: dict[str, str], client_for: Any) -> None:
    env = {**server_env, "S3_ENDPOINT": "http://127.0.0.1:9"}  # nothing listens on the discard port
    client = await client_for(env)
    resp = await client.get("/health/ready")
    body = await resp.json()
    assert resp.status == 200
    assert body["status"] == "degraded" and body["checks"]["s3"] == "down" and body["checks"]["database"] == "ok"


async def test_ready_without_optional_backends(server_env: dict[str, str], client_for: Any) -> None:
    env = {k: v for k, v in server_env.items() if not k.startswith(("S3_", "REDIS_"))}
    client = await client_for(env)
    body = await (await client.get("/health/ready")).json()
    assert body == {"status": "ok", "checks": {"database": "ok", "replica": "disabled", "redis": "disabled",
                                               "s3": "disabled"}}


async def test_metrics(client: Any, admin_token: str, auth: Any) -> None:
    await client.get("/api/v1/auth/me", headers=auth(admin_token))
    await client.get("/api/v1/nope")
    resp = await client.get("/metrics")
    assert resp.status == 200 and resp.content_type == "text/plain"
    text = await resp.text()
    assert 'req1_http_requests_total{method="GET",route="/api/v1/auth/me",status="200"}' in text
    assert 'route="unmatched",status="404"' in text
    assert "req1_http_request_duration_seconds_bucket" in text
    assert 'req1_db_pool_connections{pool="primary",state="max"} 5.0' in text
    assert 'req1_backend_up{backend="redis"} 1.0' in text
    assert "req1_rate_limit_skipped_total" in text and "req1_revocation_checks_skipped_total" in text
    assert 'req1_build_info{build_sha="unknown"} 1.0' in text


async def test_openapi_lists_every_route(client: Any, app: Any) -> None:
    resp = await client.get("/api/docs/openapi.json")
    doc = await resp.json()
    assert resp.status == 200 and doc["openapi"].startswith("3.1")
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    registered = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        if route.method != "HEAD" and path:
            registered.add((route.method, path))
    assert registered, "no routes registered"
    assert registered <= documented, registered - documented
    assert {(s.method, s.path) for s in app[ROUTE_SPECS]} <= documented
    me = doc["paths"]["/api/v1/users/{id}"]["patch"]
    assert me["security"] == [{"bearer": []}] and me["parameters"][0]["name"] == "id"
    assert doc["paths"]["/health/live"]["get"]["security"] == []


async def test_security_headers_everywhere(client: Any) -> None:
    for path in ("/health/live", "/api/v1/nope", "/api/v1/auth/me"):
        resp = await client.get(path)
        h = resp.headers
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["X-Frame-Options"] == "DENY"
        assert h["Referrer-Policy"] == "no-referrer"
        assert h["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        assert h["Content-Security-Policy"] == API_CSP
        assert h["Cache-Control"] == "no-store"


async def test_hsts_zero_omits_header(server_env: dict[str, str], client_for: Any) -> None:
    client = await client_for({**server_env, "HSTS_MAX_AGE": "0"})
    assert "Strict-Transport-Security" not in (await client.get("/health/live")).headers


async def test_cors_permissive_by_default(client: Any) -> None:
    resp = await client.get("/health/live", headers={"Origin": "https://anywhere.example"})
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Request-Id" in resp.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in resp.headers
    pre = await client.options("/api/v1/users", headers={
        "Origin": "https://anywhere.example", "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert pre.status == 204
    assert pre.headers["Access-Control-Allow-Origin"] == "*"
    assert "PATCH" in pre.headers["Access-Control-Allow-Methods"]
    assert pre.headers["Access-Control-Allow-Headers"] == "authorization, content-type"
    assert pre.headers["Access-Control-Max-Age"] == "600"


async def test_cors_restrictive(server_env: dict[str, str], client_for: Any) -> None:
    client = await client_for({**server_env, "CORS_ORIGIN": "https://a.example, https://b.example"})
    ok = await client.get("/health/live", headers={"Origin": "https://b.example"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://b.example"
    assert "Origin" in ok.headers["Vary"]
    other = await client.get("/health/live", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    pre = await client.options("/api/v1/users", headers={"Origin": "https://a.example",
                                                         "Access-Control-Request-Method": "POST"})
    assert pre.status == 204 and pre.headers["Access-Control-Allow-Origin"] == "https://a.example"
    bad = await client.options("/api/v1/users", headers={"Origin": "https://evil.example",
                                                         "Access-Control-Request-Method": "POST"})
    assert bad.status == 204 and "Access-Control-Allow-Origin" not in bad.headers


@pytest.fixture
def web_dist(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><html><body><div id=app></div>"
                                     + "<!-- padding -->" * 100 + "</body></html>")
    (dist / "assets" / "app-1234.js").write_text("console.log('req1');\n" * 200)
    (dist / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text("outside the static dir")
    return dist


async def test_static_spa(server_env: dict[str, str], client_for: Any, web_dist: Path) -> None:
    client = await client_for({**server_env, "STATIC_DIR": str(web_dist)})
    index = await client.get("/")
    assert index.status == 200 and index.content_type == "text/html"
    assert index.headers["Cache-Control"] == "no-cache"
    assert index.headers["Content-Security-Policy"] == SPA_CSP
    assert index.headers["X-Frame-Options"] == "DENY"
    html = await index.text()
    assert "<div id=app>" in html
    for client_route in ("/login", "/w/1/p/2/m/3", "/index.html"):
        resp = await client.get(client_route)
        assert resp.status == 200 and await resp.text() == html, client_route
    asset = await client.get("/assets/app-1234.js", headers={"Accept-Encoding": "gzip"})
    assert asset.status == 200
    assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert asset.headers["Content-Encoding"] == "gzip"
    assert "javascript" in asset.content_type
    etag = asset.headers["ETag"]
    assert "console.log" in await asset.text()  # the client decompresses
    again = await client.get("/assets/app-1234.js", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status == 304
    raw = await client.get("/assets/app-1234.js", headers={"Accept-Encoding": "identity"}, auto_decompress=False)
    assert "Content-Encoding" not in raw.headers and raw.headers["ETag"] != etag
    assert raw.headers["Last-Modified"]
    gz = await client.get("/", headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    assert gzip.decompress(await gz.read()).decode() == html
    missing = await client.get("/assets/nope.js")
    assert missing.status == 404 and missing.content_type == "application/json"
    api = await client.get("/api/v1/nope")
    assert api.status == 404 and (await api.json())["error"]["message"] == "no route for GET /api/v1/nope"
    post = await client.post("/login")
    assert post.status == 405 and post.content_type == "application/json" and "GET" in post.headers["Allow"]
    head = await client.head("/some/client/route")
    assert head.status == 200
    for sneaky in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt", "/.env"):
        resp = await client.get(sneaky)
        assert "outside the static dir" not in await resp.text(), sneaky
    svg = await client.get("/favicon.svg")
    assert svg.status == 200 and svg.headers["Cache-Control"] == "no-cache"


async def test_vary_keeps_accept_encoding_with_cors(server_env: dict[str, str], client_for: Any,
                                                    web_dist: Path) -> None:
    client = await client_for({**server_env, "STATIC_DIR": str(web_dist), "CORS_ORIGIN": "https://a.example"})
    resp = await client.get("/assets/app-1234.js", headers={"Origin": "https://a.example", "Accept-Encoding": "gzip"})
    assert resp.status == 200
    assert {v.strip() for v in resp.headers["Vary"].split(",")} == {"Accept-Encoding", "Origin"}


async def test_no_static_dir_means_json_404(client: Any) -> None:
    resp = await client.get("/login")
    assert resp.status == 404 and resp.content_type == "application/json"
