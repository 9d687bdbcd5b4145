"""Request parsing and response helpers shared by every resource, with the contract's messages (§1.5, §1.7).

Handlers call these instead of touching ``request.json()`` or ``uuid.UUID`` directly, so a client
mistake always becomes a 400/413/415 envelope with the same wording everywhere.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NoReturn

import asyncpg
from aiohttp import web

from req1_server.errors import bad_request, payload_too_large, unsupported_media_type

JSON_LIMIT = 2 * 1024 * 1024


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


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
    except (UnicodeDecodeError, ValueError):
        raise bad_request("malformed JSON body") from None
    if not isinstance(body, dict):
        raise bad_request("request body must be a JSON object")
    return body


async def read_json_optional(request: web.BaseRequest) -> dict[str, Any]:
    """Like :func:`read_json`, but an empty body (no Content-Length / 0 bytes) is ``{}``."""
    if not request.body_exists or request.content_length == 0:
        return {}
    return await read_json(request)


# ---- UUIDs -----------------------------------------------------------------------------------


def parse_uuid(value: str, param: str) -> uuid.UUID:
    try:
        text = value.strip()
        if len(text) in (32, 36):
            return uuid.UUID(text)
    except (ValueError, AttributeError, TypeError):
        pass
    _bad_uuid(value, param)


def _bad_uuid(value: object, param: str) -> NoReturn:
    shown = value if isinstance(value, str) else json.dumps(value)
    if len(shown) > 80:
        shown = shown[:80] + "…"
    raise bad_request(f"invalid UUID '{shown}' for parameter '{param}'")


def path_uuid(request: web.Request, name: str) -> uuid.UUID:
    return parse_uuid(request.match_info[name], name)


# ---- body fields -----------------------------------------------------------------------------


def has(body: Mapping[str, Any], name: str) -> bool:
    """Present in the body (even as null): PATCH uses this to tell absent from clear."""
    return name in body


def _missing(name: str) -> NoReturn:
    raise bad_request(f"missing required field '{name}'")


def _type(name: str, what: str) -> Exception:
    return bad_request(f"field '{name}' must be {what}")


def req_str(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        _missing(name)
    if not isinstance(value, str):
        raise _type(name, "a string")
    return value


def opt_str(body: Mapping[str, Any], name: str, default: str | None = None) -> str | None:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise _type(name, "a string")
    return value


def req_uuid(body: Mapping[str, Any], name: str) -> uuid.UUID:
    value = body.get(name)
    if value is None:
        _missing(name)
    if not isinstance(value, str):
        _bad_uuid(value, name)
    return parse_uuid(value, name)


def opt_uuid(body: Mapping[str, Any], name: str) -> uuid.UUID | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        _bad_uuid(value, name)
    return parse_uuid(value, name)


def opt_int(body: Mapping[str, Any], name: str, default: int | None = None) -> int | None:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type(name, "an integer")
    return value


def opt_float(body: Mapping[str, Any], name: str, default: float | None = None) -> float | None:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _type(name, "a number")
    return float(value)


def opt_bool(body: Mapping[str, Any], name: str, default: bool | None = None) -> bool | None:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _type(name, "a boolean")
    return value


def opt_list_str(body: Mapping[str, Any], name: str, default: list[str] | None = None) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _type(name, "an array of strings")
    return list(value)


def opt_dict(body: Mapping[str, Any], name: str, default: dict[str, Any] | None = None) -> dict[str, Any] | None:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, dict):
        raise _type(name, "a JSON object")
    return value


# ---- query parameters ------------------------------------------------------------------------


def query_str(request: web.Request, name: str, required: bool = False) -> str | None:
    value = request.query.get(name)
    if value is None or value == "":
        if required:
            raise bad_request(f"missing required query parameter '{name}'")
        return None
    return value


def query_uuid(request: web.Request, name: str, required: bool = False) -> uuid.UUID | None:
    value = query_str(request, name, required)
    return None if value is None else parse_uuid(value, name)


def query_bool(request: web.Request, name: str, default: bool = False) -> bool:
    value = query_str(request, name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise bad_request(f"query parameter '{name}' must be true or false")


def query_int(
    request: web.Request,
    name: str,
    default: int,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    value = query_str(request, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise bad_request(f"query parameter '{name}' must be an integer") from None
    if minimum is not None and number < minimum:
        raise bad_request(f"query parameter '{name}' must be at least {minimum}")
    if maximum is not None and number > maximum:
        raise bad_request(f"query parameter '{name}' must be at most {maximum}")
    return number


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int


MAX_LIMIT = 1000


def page_params(request: web.Request, default_limit: int = 50) -> Page:
    """``offset``/``limit`` per §1.5: limit clamped at 1000, 0/negative/non-integer → 400."""
    limit = default_limit
    raw_limit = request.query.get("limit")
    if raw_limit is not None and raw_limit != "":
        try:
            limit = int(raw_limit)
        except ValueError:
            limit = 0
        if limit < 1:
            raise bad_request("limit must be an integer between 1 and 1000")
    offset = 0
    raw_offset = request.query.get("offset")
    if raw_offset is not None and raw_offset != "":
        try:
            offset = int(raw_offset)
        except ValueError:
            offset = -1
        if offset < 0:
            raise bad_request("offset must be a non-negative integer")
    return Page(offset=offset, limit=min(limit, MAX_LIMIT))


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


def dumps(data: Any) -> str:
    return json.dumps(data, default=_default, ensure_ascii=False, separators=(",", ":"))


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=dumps(data).encode("utf-8"),
        content_type="application/json",
        headers=headers,
    )


def no_content() -> web.Response:
    return web.Response(status=204)
