"""Attachments (spec §4.9): multipart upload streamed to S3 while hashing; downloads verified before the
first byte is sent; a verify endpoint; signed download links for plain `<a href>` use."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import tempfile
import uuid
from typing import IO, Any
from urllib.parse import quote

import asyncpg
from aiohttp import web

from req1_server.apischema import BOOL, MULTIPART_FILE, STR, UUID, array, nullable, obj, ref
from req1_server.auth.links import sign_download
from req1_server.config import SETTINGS
from req1_server.db import database
from req1_server.domain.ids import new_id
from req1_server.errors import integrity_error, payload_too_large
from req1_server.http import json_response, no_content
from req1_server.routing import Routes, user_of
from req1_server.storage import storage
from req1_server.store import attachments as store
from req1_server.store.rows import live_object
from req1_server.typed import ObjectItem, OnObject, QText, QueryModel
from req1_server.uploads import chunks_of, file_part

log = logging.getLogger("req1.attachments")
routes = Routes(tag="attachments")

MEMORY_LIMIT = 8 * 1024 * 1024
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def download_path(object_id: uuid.UUID, attachment_id: uuid.UUID) -> str:
    return f"/api/v1/objects/{object_id}/attachments/{attachment_id}/download"


def attachment_json(row: asyncpg.Record, user_id: uuid.UUID) -> dict[str, Any]:
    out = dict(row)
    out["download_url"] = sign_download(download_path(row["object_id"], row["id"]), user_id=user_id)
    return out


def clean_file_name(raw: str | None) -> str:
    """Last path component, control characters removed, at most 255 characters."""
    name = re.split(r"[\\/]", raw or "")[-1]
    name = CONTROL.sub("", name).strip()[:255]
    return name or "upload"


def content_disposition(file_name: str) -> str:
    ascii_name = file_name.encode("ascii", "replace").decode("ascii").replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name, safe='')}"


class Signed(QueryModel):
    """A signed download link's parameters (checked by the auth gate, before the handler)."""

    expires: QText = None
    signature: QText = None


@routes.get("/api/v1/objects/{object_id}/attachments", params=OnObject, response=array(ref("Attachment")))
async def list_attachments(request: web.Request, path: OnObject) -> web.Response:
    """Attachments of a live object (plain array), with fresh signed download URLs."""
    user = user_of(request)
    async with database(request).acquire() as conn:
        rows = await store.of_object(conn, path.object_id)
    return json_response([attachment_json(r, user.id) for r in rows])


@routes.post("/api/v1/objects/{object_id}/attachments", params=OnObject, body=MULTIPART_FILE, status=201,
             response=ref("Attachment"))
async def upload_attachment(request: web.Request, path: OnObject) -> web.Response:
    """Stream the file part to S3 while hashing, then record it (201)."""
    object_id = path.object_id
    user = user_of(request)
    db = database(request)
    async with db.acquire() as conn:
        await live_object(conn, object_id)
    limit = request.app[SETTINGS].max_upload_bytes
    if request.content_length is not None and request.content_length > limit + 64 * 1024:
        raise payload_too_large(f"upload exceeds {limit} bytes")
    part = await file_part(request)
    attachment_id = new_id()
    key = f"attachments/{object_id}/{attachment_id}"
    file_name = clean_file_name(part.filename)
    content_type = part.headers.get("Content-Type") or "application/octet-stream"
    blobs = storage(request)
    size, sha256 = await blobs.put_stream(key, chunks_of(part), content_type, max_bytes=limit)
    try:
        async with db.acquire() as conn:
            row = await store.insert(conn, attachment_id, object_id, file_name, content_type, size, key, sha256,
                                     user.id)
    except BaseException:
        with contextlib.suppress(Exception):
            await blobs.delete(key)
        raise
    return json_response(attachment_json(row, user.id), status=201)


async def load(request: web.Request, path: ObjectItem) -> asyncpg.Record:
    async with database(request).acquire() as conn:
        return await store.get(conn, path.object_id, path.id)


async def fetch_verified(request: web.Request, row: asyncpg.Record) -> tuple[str | None, bytes | IO[bytes]]:
    """(actual sha256 or None when missing, content in memory or a temp file positioned at 0)."""
    try:
        stored = await storage(request).get(row["storage_path"])
    except KeyError:
        return None, b""
    digest = hashlib.sha256()
    buffer = bytearray()
    spill: IO[bytes] | None = None
    async for chunk in stored.chunks:
        digest.update(chunk)
        if spill is None and len(buffer) + len(chunk) > MEMORY_LIMIT:
            spill = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the caller
            spill.write(buffer)
            buffer.clear()
        if spill is not None:
            spill.write(chunk)
        else:
            buffer.extend(chunk)
    if spill is not None:
        spill.seek(0)
        return digest.hexdigest(), spill
    return digest.hexdigest(), bytes(buffer)


@routes.get("/api/v1/objects/{object_id}/attachments/{id}/download", query_token=True, params=ObjectItem,
            query=Signed)
async def download_attachment(request: web.Request, path: ObjectItem, query: Signed) -> web.StreamResponse:
    """The content, only after its SHA-256 matched the recorded one."""
    row = await load(request, path)
    actual, content = await fetch_verified(request, row)
    if actual is None:
        raise integrity_error(f"attachment {row['id']} content is missing from storage")
    if actual != row["sha256"]:
        if not isinstance(content, bytes):
            content.close()
        log.error("attachment %s failed integrity check (expected %s, got %s)", row["id"], row["sha256"], actual)
        raise integrity_error(f"attachment {row['id']} failed integrity check")
    headers = {
        "Content-Type": row["content_type"],
        "Content-Disposition": content_disposition(row["file_name"]),
        "ETag": f'"{row["sha256"]}"',
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "private, no-store",
    }
    if isinstance(content, bytes):
        return web.Response(body=content, headers=headers)
    response = web.StreamResponse(headers={**headers, "Content-Length": str(row["size_bytes"])})
    await response.prepare(request)
    try:
        while chunk := content.read(256 * 1024):
            await response.write(chunk)
    finally:
        content.close()
    await response.write_eof()
    return response


@routes.get("/api/v1/objects/{object_id}/attachments/{id}/verify", response=obj(
    ["attachment_id", "file_name", "expected_sha256", "actual_sha256", "valid"], attachment_id=UUID, file_name=STR,
    expected_sha256=STR, actual_sha256=nullable(STR), valid=BOOL), params=ObjectItem)
async def verify_attachment(request: web.Request, path: ObjectItem) -> web.Response:
    """Recompute the SHA-256 of the stored content and compare."""
    row = await load(request, path)
    actual, content = await fetch_verified(request, row)
    if not isinstance(content, bytes):
        content.close()
    return json_response({"attachment_id": row["id"], "file_name": row["file_name"], "expected_sha256": row["sha256"],
                          "actual_sha256": actual, "valid": actual == row["sha256"]})


@routes.delete("/api/v1/objects/{object_id}/attachments/{id}", params=ObjectItem)
async def delete_attachment(request: web.Request, path: ObjectItem) -> web.Response:
    """Remove the row, then the S3 content (errors only logged)."""
    row = await load(request, path)
    async with database(request).acquire() as conn:
        await store.delete(conn, row["id"])
    try:
        await storage(request).delete(row["storage_path"])
    except Exception:
        log.warning("could not delete attachment content %s", row["storage_path"], exc_info=True)
    return no_content()
