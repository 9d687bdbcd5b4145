"""Attachments (spec §4.9): multipart upload streamed to S3 while hashing; downloads verified before the
first byte is sent; a verify endpoint; signed download links for plain `<a href>` use."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import tempfile
import uuid
from collections.abc import AsyncIterator
from typing import IO, Any
from urllib.parse import quote

import asyncpg
from aiohttp import BodyPartReader, web

from req1_server.apischema import BOOL, MULTIPART_FILE, STR, UUID, array, nullable, obj, ref
from req1_server.auth.links import sign_download
from req1_server.config import SETTINGS
from req1_server.db import database
from req1_server.domain.ids import new_id
from req1_server.errors import bad_request, integrity_error, not_found, payload_too_large, unsupported_media_type
from req1_server.http import json_response, no_content, path_uuid
from req1_server.resources.common import require_row
from req1_server.routing import Routes, user_of
from req1_server.storage import storage

log = logging.getLogger("req1.attachments")
routes = Routes(tag="attachments")

MEMORY_LIMIT = 8 * 1024 * 1024
COLUMNS = "id, object_id, file_name, content_type, size_bytes, storage_path, sha256, created_at"
LIVE_OBJECT = "SELECT 1 FROM object WHERE id = $1 AND deleted_at IS NULL"
LIST = f"SELECT {COLUMNS} FROM attachment WHERE object_id = $1 ORDER BY created_at, id"
GET = f"SELECT {COLUMNS} FROM attachment WHERE id = $1 AND object_id = $2"
INSERT = f"""
INSERT INTO attachment (id, object_id, file_name, content_type, size_bytes, storage_path, sha256, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}
"""
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


async def live_object(conn: asyncpg.Connection, object_id: uuid.UUID) -> None:
    if await conn.fetchval(LIVE_OBJECT, object_id) is None:
        raise not_found("object", object_id)


@routes.get("/api/v1/objects/{object_id}/attachments", response=array(ref("Attachment")))
async def list_attachments(request: web.Request) -> web.Response:
    """Attachments of a live object (plain array), with fresh signed download URLs."""
    object_id = path_uuid(request, "object_id")
    user = user_of(request)
    async with database(request).acquire() as conn:
        await live_object(conn, object_id)
        rows = await conn.fetch(LIST, object_id)
    return json_response([attachment_json(r, user.id) for r in rows])


async def file_part(request: web.Request) -> BodyPartReader:
    if not request.content_type.startswith("multipart/"):
        raise unsupported_media_type("Content-Type must be multipart/form-data")
    reader = await request.multipart()
    while True:
        part = await reader.next()
        if part is None:
            raise bad_request("missing 'file' field")
        # streaming: the part named `file`, or a file part seen before it, is taken as it arrives
        if isinstance(part, BodyPartReader) and (part.name == "file" or part.filename is not None):
            return part


async def chunks_of(part: BodyPartReader) -> AsyncIterator[bytes]:
    while True:
        chunk = await part.read_chunk(256 * 1024)
        if not chunk:
            return
        yield chunk


@routes.post("/api/v1/objects/{object_id}/attachments", body=MULTIPART_FILE, status=201, response=ref("Attachment"))
async def upload_attachment(request: web.Request) -> web.Response:
    """Stream the file part to S3 while hashing, then record it (201)."""
    object_id = path_uuid(request, "object_id")
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
    store = storage(request)
    size, sha256 = await store.put_stream(key, chunks_of(part), content_type, max_bytes=limit)
    try:
        async with db.acquire() as conn:
            await live_object(conn, object_id)
            row = await conn.fetchrow(INSERT, attachment_id, object_id, file_name, content_type, size, key, sha256,
                                      user.id)
    except BaseException:
        with contextlib.suppress(Exception):
            await store.delete(key)
        raise
    return json_response(attachment_json(row, user.id), status=201)


async def load(request: web.Request) -> asyncpg.Record:
    object_id, attachment_id = path_uuid(request, "object_id"), path_uuid(request, "id")
    async with database(request).acquire() as conn:
        await live_object(conn, object_id)
        row = await require_row(conn, GET, "attachment", attachment_id, object_id)
    return row


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


@routes.get("/api/v1/objects/{object_id}/attachments/{id}/download", query_token=True,
            query={"expires": {"type": "integer"}, "signature": STR})
async def download_attachment(request: web.Request) -> web.StreamResponse:
    """The content, only after its SHA-256 matched the recorded one."""
    row = await load(request)
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
    expected_sha256=STR, actual_sha256=nullable(STR), valid=BOOL))
async def verify_attachment(request: web.Request) -> web.Response:
    """Recompute the SHA-256 of the stored content and compare."""
    row = await load(request)
    actual, content = await fetch_verified(request, row)
    if not isinstance(content, bytes):
        content.close()
    return json_response({"attachment_id": row["id"], "file_name": row["file_name"], "expected_sha256": row["sha256"],
                          "actual_sha256": actual, "valid": actual == row["sha256"]})


@routes.delete("/api/v1/objects/{object_id}/attachments/{id}")
async def delete_attachment(request: web.Request) -> web.Response:
    """Remove the row, then the S3 content (errors only logged)."""
    row = await load(request)
    async with database(request).acquire() as conn:
        await conn.execute("DELETE FROM attachment WHERE id = $1", row["id"])
    try:
        await storage(request).delete(row["storage_path"])
    except Exception:
        log.warning("could not delete attachment content %s", row["storage_path"], exc_info=True)
    return no_content()
