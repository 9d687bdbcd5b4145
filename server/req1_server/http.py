"""Request bodies and responses at the byte level, with the contract's messages (§1.5, §1.7).

Reading a JSON body (415/413/400 before any field is looked at) and writing JSON (UUIDs, times, decimals)
happen here; what the fields of a body, query or path must be is said by the route's models (``typed.py``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
from aiohttp import web

from req1_server.errors import bad_request, payload_too_large, unsupported_media_type

JSON_LIMIT = 2 * 1024 * 1024


# ---- JSON bodies -----------------------------------------------------------------------------


def is_json_content_type(request: web.BaseRequest) -> bool:
    ctype = request.headers.get("Content-Type", "")
    return ctype.split(";", 1)[0].strip().lower() == "application/json"


async def read_body_limited(request: web.BaseRequest, limit: int) -> bytes:
    """The raw body, refusing anything larger than ``limit`` without reading it all."""
    if request.content_length is not None and request.content_length > limit:
        raise payload_too_large(f"request body exceeds {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(65536):
        size += len(chunk)
        if size > limit:
            raise payload_too_large(f"request body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: web.BaseRequest) -> dict[str, Any]:
    """The JSON object body: 415 wrong type, 413 over 2 MiB, 400 malformed or not an object."""
    if not is_json_content_type(request):
        raise unsupported_media_type("Content-Type must be application/json")
    raw = await read_body_limited(request, JSON_LIMIT)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad_request("malformed JSON body") from None
    if not isinstance(body, dict):
        raise bad_request("request body must be a JSON object")
    problem = json_problem(body)
    if problem is not None:
        raise bad_request(f"malformed JSON body: {problem}")
    return body


MAX_JSON_DEPTH = 128  # serde_json's limit, so the original server refused the same bodies


def json_problem(value: Any) -> str | None:
    """What makes a parsed body unusable: nesting deeper than MAX_JSON_DEPTH, or text PostgreSQL cannot store
    (NUL, unpaired surrogates from ``\\u`` escapes). Iterative, so the check itself cannot recurse."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > MAX_JSON_DEPTH:
                return f"nested deeper than {MAX_JSON_DEPTH} levels"
            for key, child in item.items():
                if not _storable(key):
                    return "text must not contain NUL characters or unpaired surrogates"
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth > MAX_JSON_DEPTH:
                return f"nested deeper than {MAX_JSON_DEPTH} levels"
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str) and not _storable(item):
            return "text must not contain NUL characters or unpaired surrogates"
    return None


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def read_json_optional(request: web.BaseRequest) -> dict[str, Any]:
    """Like :func:`read_json`, but an empty body (no Content-Length / 0 bytes) is ``{}``."""
    if not request.body_exists or request.content_length == 0:
        return {}
    return await read_json(request)


# ---- paging ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int


MAX_LIMIT = 1000


def page_envelope(items: list[Any], total: int, page: Page) -> dict[str, Any]:
    return {"items": items, "total": total, "offset": page.offset, "limit": page.limit}


# ---- responses -------------------------------------------------------------------------------


def iso(value: dt.datetime | None) -> str | None:
    """ISO-8601 in UTC with offset; fraction dropped when zero (§1.2)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat()


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, asyncpg.Record):
        return dict(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "hex") and type(value).__name__ == "UUID":  # uuid_utils.UUID
        return str(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


# orjson writes what json.dumps(ensure_ascii=False, separators=(",", ":")) writes for our values (UUIDs as
# strings, non-ASCII as is); datetimes go through iso() like before (UTC, fraction dropped when zero).
ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def dumps_bytes(data: Any) -> bytes:
    """Compact UTF-8 JSON. What orjson refuses (integers beyond 64 bits, keys of odd types) goes through
    the standard library, so the output never depends on which encoder wrote it."""
    try:
        return orjson.dumps(data, default=_default, option=ORJSON_OPTIONS)
    except orjson.JSONEncodeError:
        return json.dumps(data, default=_default, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def dumps(data: Any) -> str:
    return dumps_bytes(data).decode("utf-8")


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=dumps_bytes(data),
        content_type="application/json",
        headers=headers,
    )


def raw_page_response(items_json: str, total: int, page: Page) -> web.Response:
    """A page envelope around items that PostgreSQL already wrote as a JSON array (``page_envelope``'s keys)."""
    body = f'{{"items":{items_json},"total":{total},"offset":{page.offset},"limit":{page.limit}}}'
    return web.Response(body=body.encode("utf-8"), content_type="application/json")


def no_content() -> web.Response:
    return web.Response(status=204)
