"""Operational endpoints outside /api/v1 (§3): liveness, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

import asyncio
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from aiohttp import web

from req1_server.apischema import JSON_OBJ, STR, obj
from req1_server.appkeys import ROUTE_SPECS, RUNTIME
from req1_server.config import SETTINGS
from req1_server.db import DATABASE
from req1_server.http import json_response
from req1_server.metrics import CONTENT_TYPE, METRICS
from req1_server.openapi import build
from req1_server.redisstore import REDIS
from req1_server.routing import Role, Routes
from req1_server.storage import STORAGE

routes = Routes(tag="operations")


def with_sha(request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
    sha = request.app[SETTINGS].build_sha
    if sha:
        body["build_sha"] = sha
    return body


@routes.get("/health/live", auth=False, response=obj(["status"], status=STR, build_sha=STR))
async def live(request: web.Request) -> web.Response:
    """Liveness: the process answers; no dependency checks."""
    return json_response(with_sha(request, {"status": "ok"}))


@routes.get("/health/ready", auth=False, response=obj(["status", "checks"], status=STR, build_sha=STR,
                                                                      checks=JSON_OBJ))
async def ready(request: web.Request) -> web.Response:
    """Readiness: PostgreSQL must answer; replica, Redis and S3 are reported (degraded, still 200)."""
    app = request.app
    checks = await backend_checks(app)
    for backend, state in checks.items():
        if state != "disabled":
            app[METRICS].backend_up.labels(backend=backend).set(1 if state == "ok" else 0)
    if app[RUNTIME].shutting_down:
        status, code = "shutting_down", 503
    elif checks["database"] != "ok":
        status, code = "unavailable", 503
    elif any(state == "down" for state in checks.values()):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    body = with_sha(request, {"status": status})
    body["checks"] = checks
    return json_response(body, status=code)


def state(up: bool) -> str:
    return "ok" if up else "down"


async def backend_checks(app: web.Application) -> dict[str, str]:
    """Each backend at once: ok, down, or disabled when it is not configured."""
    db, store, storage = app[DATABASE], app[REDIS], app[STORAGE]

    async def replica() -> str:
        if db.replica is None:
            return "disabled"
        db.replica_up = await db.check_replica()
        return state(db.replica_up)

    async def redis() -> str:
        return state(await store.refresh()) if store.configured else "disabled"

    async def s3() -> str:
        return state(await storage.check()) if storage.configured else "disabled"

    primary_ok, replica_state, redis_state, s3_state = await asyncio.gather(
        db.check_primary(), replica(), redis(), s3()
    )
    return {"database": state(primary_ok), "replica": replica_state, "redis": redis_state, "s3": s3_state}


@routes.get("/metrics", auth=False)
async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics (text exposition format)."""
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


@routes.get("/api/docs/openapi.json", auth=False, role=Role.VIEWER, response=JSON_OBJ)
async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 document of every registered route."""
    try:
        ver = version("req1")
    except PackageNotFoundError:
        ver = "0.0.0"
    doc = build(request.app[ROUTE_SPECS], ver, request.app[SETTINGS].build_sha)
    return json_response(doc)
