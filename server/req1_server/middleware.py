"""The outermost middleware: request ID, access log, metrics and preflights; and the response-prepare hook
that stamps every response — API, error, static and streamed alike — with the same security, CORS and
request-id headers (§1.1, §6.2, §6.4).

The middleware wraps the error middleware, so it always sees a response (errors already rendered as
envelopes); the headers are added in ``on_response_prepare`` because a streamed response (a large download,
the event stream) sends its headers inside the handler, before the middleware sees it.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from req1_server.config import CURRENT_SETTINGS, SETTINGS, Settings
from req1_server.errors import REQUEST_ID
from req1_server.logs import access_log
from req1_server.metrics import METRICS
from req1_server.net import client_ip
from req1_server.routing import ROUTE, USER, CurrentUser, RouteSpec
from req1_server.static import SPA_RESPONSE

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'"
CORS_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
CORS_EXPOSE = "Content-Disposition, Retry-After, X-Request-Id"
IN_FLIGHT: web.AppKey[set[asyncio.Task[object]]] = web.AppKey("in_flight", set)


def route_label(request: web.Request) -> str:
    """The route template for metrics and logs (never the raw path: unbounded label values)."""
    spec: RouteSpec | None = request.get(ROUTE)
    if spec is not None:
        return spec.path
    if request.get(SPA_RESPONSE):
        return "static"
    info = request.match_info
    if info.http_exception is not None:
        return "unmatched"
    resource = info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def cors_headers(settings: Settings, origin: str | None) -> dict[str, str]:
    if origin is None and settings.cors_origins is not None:
        return {}
    if settings.cors_origins is None:
        return {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": CORS_EXPOSE}
    if origin is not None and origin.rstrip("/") in settings.cors_origins:
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": CORS_EXPOSE,
            "Vary": "Origin",
        }
    return {}


def preflight(request: web.Request, settings: Settings) -> web.Response:
    headers = cors_headers(settings, request.headers.get("Origin"))
    if headers:
        headers.pop("Access-Control-Expose-Headers", None)
        headers["Access-Control-Allow-Methods"] = CORS_METHODS
        requested = request.headers.get("Access-Control-Request-Headers")
        headers["Access-Control-Allow-Headers"] = requested or "*"
        headers["Access-Control-Max-Age"] = "600"
    return web.Response(status=204, headers=headers)


def security_headers(response: web.StreamResponse, settings: Settings, is_api: bool) -> None:
    h = response.headers
    h["X-Content-Type-Options"] = "nosniff"
    h["X-Frame-Options"] = "DENY"
    h["Referrer-Policy"] = "no-referrer"
    if settings.hsts_max_age > 0:
        h["Strict-Transport-Security"] = f"max-age={settings.hsts_max_age}; includeSubDomains"
    h.setdefault("Content-Security-Policy", DEFAULT_CSP)
    if is_api:
        h.setdefault("Cache-Control", "no-store")


async def stamp_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Security, CORS and request-id headers on every response, just before its headers are sent
    (``on_response_prepare``), so responses a handler streams itself get them too."""
    settings = request.app[SETTINGS]
    path = request.path
    is_api = not request.get(SPA_RESPONSE) and (
        path.startswith("/api/") or path.startswith("/health/") or path == "/metrics"
        or response.content_type == "application/json"
    )
    security_headers(response, settings, is_api)
    for key, value in cors_headers(settings, request.headers.get("Origin")).items():
        if key == "Vary" and response.headers.get("Vary"):
            value = f"{response.headers['Vary']}, {value}"
        response.headers[key] = value
    request_id = request.get(REQUEST_ID)
    if request_id is not None:
        response.headers["X-Request-Id"] = request_id


@web.middleware
async def request_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    app = request.app
    settings = app[SETTINGS]
    metrics = app[METRICS]
    CURRENT_SETTINGS.set(settings)
    incoming = request.headers.get("X-Request-Id", "")
    request_id = incoming if SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    started = time.perf_counter()
    task = asyncio.current_task()
    tasks = app[IN_FLIGHT]
    if task is not None:
        tasks.add(task)
    metrics.in_flight.inc()
    status = 500
    try:
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response: web.StreamResponse = preflight(request, settings)
        else:
            response = await handler(request)
        status = response.status
        return response
    finally:
        metrics.in_flight.dec()
        if task is not None:
            tasks.discard(task)
        elapsed = time.perf_counter() - started
        route = route_label(request)
        metrics.requests.labels(method=request.method, route=route, status=str(status)).inc()
        metrics.duration.labels(method=request.method, route=route).observe(elapsed)
        user: CurrentUser | None = request.get(USER)
        access_log.info(
            "%s %s %s", request.method, route, status,
            extra={
                "request_id": request_id,
                "method": request.method,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                "user": str(user.id) if user else None,
                "client_ip": client_ip(request, settings.trust_proxy),
            },
        )
