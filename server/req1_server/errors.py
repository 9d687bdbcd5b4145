"""The one error type and the one middleware that renders every error as the JSON envelope (§1.7).

Handlers raise :class:`ApiError` (through the constructors below). The middleware also turns
aiohttp's own HTTP exceptions (unknown route, wrong method, oversized body), database constraint
violations (a safety net: handlers check referenced rows first) and anything unexpected into
``{"error": {"code": ..., "message": ...}}``, so a client never sees text/plain or an HTML page.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable, Mapping

import asyncpg
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

log = logging.getLogger("req1.errors")

CODES: dict[int, str] = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    501: "NOT_IMPLEMENTED",
    503: "SERVICE_UNAVAILABLE",
}
REQUEST_ID: web.RequestKey[str] = web.RequestKey("req1.request_id", str)


class ApiError(Exception):
    """An error with its HTTP status, envelope code and client-facing message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def api_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> ApiError:
    return ApiError(status, CODES.get(status, "INTERNAL_ERROR" if status >= 500 else "BAD_REQUEST"), message, headers)


def _with_status(status: int) -> Callable[[str], ApiError]:
    def make(message: str) -> ApiError:
        return api_error(status, message)

    return make


bad_request = _with_status(400)
unauthorized = _with_status(401)
forbidden = _with_status(403)
not_found_message = _with_status(404)
conflict = _with_status(409)
payload_too_large = _with_status(413)
unsupported_media_type = _with_status(415)
unavailable = _with_status(503)


def not_found(entity: str, id: object) -> ApiError:
    return api_error(404, f"{entity} {id} not found")


def method_not_allowed(method: str, path: str, allowed: set[str] | frozenset[str]) -> ApiError:
    return api_error(405, f"method {method} not allowed on {path}", {"Allow": ", ".join(sorted(allowed))})


def rate_limited(retry_after: int) -> ApiError:
    return api_error(429, f"rate limit exceeded, retry in {retry_after} seconds", {"Retry-After": str(retry_after)})


#: Seconds a client should wait before retrying while the database primary is unreachable (a failover takes seconds).
DB_RETRY_AFTER = 2


def database_unavailable() -> ApiError:
    """503 with Retry-After: the primary is briefly gone (failover, switchover) or read-only (being demoted)."""
    return api_error(503, "database unavailable", {"Retry-After": str(DB_RETRY_AFTER)})


def internal_error() -> ApiError:
    return api_error(500, "internal server error")


def db_error() -> ApiError:
    return ApiError(500, "DB_ERROR", "database error")


def integrity_error(message: str) -> ApiError:
    return ApiError(500, "INTEGRITY_ERROR", message)


def not_implemented(feature: str) -> ApiError:
    return api_error(501, f"{feature} is not supported")


def envelope(err: ApiError) -> web.Response:
    body = json.dumps({"error": {"code": err.code, "message": err.message}})
    return web.Response(status=err.status, text=body, content_type="application/json", headers=err.headers)


DB_UNAVAILABLE = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.ConnectionFailureError,
    asyncpg.exceptions.AdminShutdownError,
)


def from_postgres(err: asyncpg.PostgresError, request: web.Request) -> ApiError:
    """Map a database error that escaped a handler to the status the contract promises."""
    if isinstance(err, asyncpg.ForeignKeyViolationError):
        if request.method == "DELETE":
            entity = (getattr(err, "table_name", None) or "record").replace("_", " ")
            ident = next(iter(request.match_info.values()), "")
            return conflict(f"{entity} {ident} is still referenced".replace("  ", " "))
        return bad_request("referenced record does not exist")
    if isinstance(err, asyncpg.UniqueViolationError):
        return conflict("a record with these values already exists")
    if isinstance(err, asyncpg.SerializationError | asyncpg.DeadlockDetectedError):
        return conflict("concurrent update, please retry")
    if isinstance(
        err,
        asyncpg.CheckViolationError
        | asyncpg.NotNullViolationError
        | asyncpg.InvalidTextRepresentationError
        | asyncpg.NumericValueOutOfRangeError
        | asyncpg.DataError,
    ):
        return bad_request("invalid value")  # PostgreSQL's wording names tables and constraints: not for clients
    return db_error()


def from_http_exception(exc: web.HTTPException, request: web.Request) -> ApiError:
    """aiohttp's routing and body-size errors, reworded per the contract."""
    if exc.status == 404:
        return not_found_message(f"no route for {request.method} {request.path}")
    if exc.status == 405:
        allowed: set[str] = set(getattr(exc, "allowed_methods", None) or ())
        return method_not_allowed(request.method, request.path, set(allowed))
    if exc.status == 413:
        return payload_too_large("request body too large")
    message = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
    return ApiError(exc.status, CODES.get(exc.status, "BAD_REQUEST"), message or exc.reason, None)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MULTIPART_SOURCE = os.path.join("aiohttp", "multipart.py")


def from_multipart_parser(exc: BaseException) -> bool:
    """True when aiohttp's multipart reader raised it: a client's malformed upload is a 400, not our bug.

    aiohttp reports bad boundaries, part headers or encodings with ValueError, KeyError, RuntimeError or
    BadHttpMessage while the handler reads the parts; only those raised from inside the reader qualify.
    """
    if not isinstance(exc, ValueError | KeyError | TypeError | RuntimeError | HttpProcessingError):
        return False
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(MULTIPART_SOURCE):
            return True
        tb = tb.tb_next
    return False


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render every failure as the JSON envelope; log the unexpected ones with the request ID."""
    try:
        return await handler(request)
    except ApiError as err:
        return envelope(err)
    except web.HTTPException as exc:
        if exc.status < 400:
            return exc  # redirects and the like pass through untouched
        mapped = from_http_exception(exc, request)
        for name in ("Allow", "Retry-After"):
            if name in exc.headers and name not in mapped.headers:
                mapped.headers[name] = exc.headers[name]
        return envelope(mapped)
    except asyncpg.ReadOnlySQLTransactionError:
        # The -rw Service still led to a primary that is being demoted: as unavailable as a dead one.
        log.warning("database primary is read-only", extra={"request_id": request.get(REQUEST_ID)})
        return envelope(database_unavailable())
    except asyncpg.PostgresError as exc:
        db_err = from_postgres(exc, request)
        if db_err.status >= 500:
            log.exception("database error", extra={"request_id": request.get(REQUEST_ID)})
        return envelope(db_err)
    except DB_UNAVAILABLE:
        log.warning("database unavailable", exc_info=True, extra={"request_id": request.get(REQUEST_ID)})
        return envelope(database_unavailable())
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        if from_multipart_parser(exc):
            return envelope(bad_request("malformed multipart body"))
        log.exception("unhandled exception", extra={"request_id": request.get(REQUEST_ID)})
        return envelope(internal_error())
