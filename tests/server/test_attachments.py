"""Attachments: streamed upload with SHA-256, verified download, corruption in S3 detected, signed links."""

from __future__ import annotations

import hashlib
from typing import Any

import aiohttp
import pytest
from domain_api import Api


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


def form(content: bytes, name: str = "report.txt", field: str = "file", ctype: str = "text/plain") -> aiohttp.FormData:
    data = aiohttp.FormData(quote_fields=False)
    data.add_field("note", "ignored")
    data.add_field(field, content, filename=name, content_type=ctype)
    return data


async def test_upload_download_verify_and_corruption(api: Api, client: Any, s3_bucket: Any, make_user: Any) -> None:
    m = (await api.module())["id"]
    obj = await api.obj(m, heading="with files")
    base = f"/objects/{obj['id']}/attachments"
    content = b"hello attachment\n" * 1000
    att = await api.call("POST", base, data=form(content, "dir/../Bericht \u00fcber.txt"), expect=201)
    assert att["file_name"] == "Bericht \u00fcber.txt" and att["size_bytes"] == len(content)
    assert att["sha256"] == hashlib.sha256(content).hexdigest()
    assert att["storage_path"] == f"attachments/{obj['id']}/{att['id']}" and att["content_type"] == "text/plain"
    assert att["download_url"].startswith(f"/api/v1/objects/{obj['id']}/attachments/{att['id']}/download?")
    listing = await api.get(base)
    assert [a["id"] for a in listing] == [att["id"]]

    resp = await client.get(f"/api/v1{base}/{att['id']}/download", headers={"Authorization": f"Bearer {api.token}"})
    assert resp.status == 200 and await resp.read() == content
    assert resp.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert resp.headers["ETag"] == f'"{att["sha256"]}"'
    assert "filename*=UTF-8''Bericht%20%C3%BCber.txt" in resp.headers["Content-Disposition"]
    # the signed link works without any header; a tampered one does not
    resp = await client.get(att["download_url"])
    assert resp.status == 200 and await resp.read() == content
    resp = await client.get(att["download_url"].replace("signature=", "signature=0"))
    assert resp.status == 401

    verify = await api.get(f"{base}/{att['id']}/verify")
    assert verify == {"attachment_id": att["id"], "file_name": att["file_name"], "expected_sha256": att["sha256"],
                      "actual_sha256": att["sha256"], "valid": True}
    # corrupt the object directly in S3
    s3 = s3_bucket.server.client()
    s3.put_object(Bucket=s3_bucket.name, Key=att["storage_path"], Body=content[:-1] + b"X")
    verify = await api.get(f"{base}/{att['id']}/verify")
    assert verify["valid"] is False and verify["actual_sha256"] != att["sha256"]
    await api.error("GET", f"{base}/{att['id']}/download", status=500,
                    message=f"attachment {att['id']} failed integrity check")
    s3.delete_object(Bucket=s3_bucket.name, Key=att["storage_path"])
    await api.error("GET", f"{base}/{att['id']}/download", status=500,
                    message=f"attachment {att['id']} content is missing from storage")
    assert (await api.get(f"{base}/{att['id']}/verify"))["actual_sha256"] is None

    # roles, validation and deletion
    _, viewer = await make_user("viewer")
    await api.call("POST", base, data=form(b"x"), expect=403, token=viewer)
    await api.error("POST", base, None, status=415)
    empty = aiohttp.MultipartWriter("form-data")
    empty.append("no file").set_content_disposition("form-data", name="note")
    await api.call("POST", base, data=empty, expect=400)
    await api.delete(f"{base}/{att['id']}")
    assert await api.get(base) == []
    await api.delete(f"/modules/{m}/objects/{obj['id']}")
    await api.call("POST", base, data=form(b"x"), expect=404)


async def test_large_upload_streams_and_spills_to_disk(api: Api, client: Any) -> None:
    m = (await api.module())["id"]
    obj = await api.obj(m, heading="big")
    content = bytes(range(256)) * (40 * 1024 + 7)  # ~10 MiB: multipart upload and a temp-file download
    att = await api.call("POST", f"/objects/{obj['id']}/attachments", data=form(content, "big.bin", ctype=""),
                         expect=201)
    assert att["sha256"] == hashlib.sha256(content).hexdigest()
    resp = await client.get(att["download_url"])
    assert resp.status == 200 and hashlib.sha256(await resp.read()).hexdigest() == att["sha256"]


async def test_missing_bucket_is_503(api: Api, s3_bucket: Any) -> None:
    """#13.10: the bucket gone under a running server is storage unavailable (503), not a 500."""
    m = (await api.module())["id"]
    obj = await api.obj(m, heading="bucket gone")
    base = f"/objects/{obj['id']}/attachments"
    att = await api.call("POST", base, data=form(b"content"), expect=201)
    s3 = s3_bucket.server.client()
    s3.delete_object(Bucket=s3_bucket.name, Key=att["storage_path"])
    s3.delete_bucket(Bucket=s3_bucket.name)
    await api.error("GET", f"{base}/{att['id']}/download", status=503, message="attachment storage unavailable")
    await api.error("GET", f"{base}/{att['id']}/verify", status=503, message="attachment storage unavailable")


async def test_large_download_has_the_common_headers(api: Api, client: Any) -> None:
    """#13.6: a download streamed from a temp file (> 8 MiB) carries the security, CORS and request-id headers."""
    m = (await api.module())["id"]
    obj = await api.obj(m, heading="big headers")
    content = b"z" * (9 * 1024 * 1024)
    att = await api.call("POST", f"/objects/{obj['id']}/attachments", data=form(content, "big.bin"), expect=201)
    for size, url in ((len(content), att["download_url"]),):
        resp = await client.get(url, headers={"X-Request-Id": "dl-trace-1", "Origin": "https://ui.example"})
        assert resp.status == 200 and len(await resp.read()) == size
        h = resp.headers
        assert h["X-Request-Id"] == "dl-trace-1"
        assert h["X-Content-Type-Options"] == "nosniff" and h["X-Frame-Options"] == "DENY"
        assert h["Referrer-Policy"] == "no-referrer" and "Strict-Transport-Security" in h
        assert h["Access-Control-Allow-Origin"] == "*"
        assert h["Content-Security-Policy"] == "sandbox; default-src 'none'"
        assert h["Cache-Control"] == "private, no-store"


async def test_each_attachment_request_reads_its_object_once(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """#13: no repeated live-object queries: the liveness check is part of the statement that needs it."""
    import asyncpg

    m = (await api.module())["id"]
    obj = await api.obj(m, heading="counted")
    base = f"/objects/{obj['id']}/attachments"
    att = await api.call("POST", base, data=form(b"counted"), expect=201)
    statements: list[str] = []
    for name in ("fetch", "fetchrow", "fetchval", "execute"):
        original = getattr(asyncpg.Connection, name)

        async def counted(self: Any, query: str, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            statements.append(query)
            return await _original(self, query, *args, **kwargs)

        monkeypatch.setattr(asyncpg.Connection, name, counted)

    async def count(method: str, path: str, **kwargs: Any) -> int:
        statements.clear()
        await api.call(method, path, **kwargs)
        # the gate's user row may be re-read; the pool resets a connection it takes back; a write's connection is
        # told who is acting (actor.py, for the audit log)
        infrastructure = ("app_user", "pg_advisory_unlock_all", "set_config('req1.actor'")
        return len([s for s in statements if not any(marker in s for marker in infrastructure)])

    assert await count("GET", base, expect=200) == 1
    assert await count("GET", f"{base}/{att['id']}/verify", expect=200) == 1
    assert await count("POST", base, data=form(b"again"), expect=201) == 2  # before streaming; with the insert
    await api.delete(f"/modules/{m}/objects/{obj['id']}")
    await api.error("GET", base, status=404, message=f"object {obj['id']} not found")
    await api.error("GET", f"{base}/{att['id']}/verify", status=404, message=f"object {obj['id']} not found")
