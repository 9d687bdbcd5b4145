"""Multipart uploads: the file part of a request (attachments, ReqIF import), read as it streams in."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from typing import IO

from aiohttp import BodyPartReader, web

from req1_server.errors import bad_request, payload_too_large, unsupported_media_type

CHUNK = 256 * 1024
SPOOL_IN_MEMORY = 1024 * 1024  # a spooled upload moves to a temporary file past this size


async def file_part(request: web.Request) -> BodyPartReader:
    """The part named `file`, or a file part seen before it, taken as it arrives (nothing is buffered)."""
    if not request.content_type.startswith("multipart/"):
        raise unsupported_media_type("Content-Type must be multipart/form-data")
    reader = await request.multipart()
    while True:
        part = await reader.next()
        if part is None:
            raise bad_request("missing 'file' field")
        if isinstance(part, BodyPartReader) and (part.name == "file" or part.filename is not None):
            return part


async def chunks_of(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(CHUNK):
        yield chunk


async def spool_file(request: web.Request, limit: int) -> tuple[IO[bytes], str | None]:
    """The file part spooled (in memory up to 1 MiB, then a temporary file), refused past ``limit`` bytes; with
    its file name. The caller closes it."""
    part = await file_part(request)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - returned to the caller
    size = 0
    try:
        async for chunk in chunks_of(part):
            size += len(chunk)
            if size > limit:
                raise payload_too_large(f"upload exceeds {limit} bytes")
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, part.filename
