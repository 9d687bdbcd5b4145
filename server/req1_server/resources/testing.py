"""Routes for the platform's own tests, registered only with REQ1_TEST_ROUTES=true outside production."""

from __future__ import annotations

import asyncio

from aiohttp import web

from req1_server.apischema import Q
from req1_server.auth.links import sign_download
from req1_server.db import database
from req1_server.http import json_response, query_int
from req1_server.routing import Routes, user_of

routes = Routes(tag="testing")


@routes.get("/api/v1/_test/slow", auth=False, query={"ms": Q({"type": "integer", "minimum": 0, "maximum": 120000})})
async def slow(request: web.Request) -> web.Response:
    """Sleep ``ms`` milliseconds, then answer (graceful-shutdown tests)."""
    ms = query_int(request, "ms", 1000, minimum=0, maximum=120_000)
    await asyncio.sleep(ms / 1000)
    return json_response({"slept_ms": ms})


@routes.get("/api/v1/_test/boom", auth=False)
async def boom(request: web.Request) -> web.Response:
    """Raise an unexpected exception (the 500 envelope test)."""
    raise RuntimeError("boom: deliberate test failure")


@routes.get("/api/v1/_test/read")
async def read(request: web.Request) -> web.Response:
    """Which server answered a routed read: replica (in recovery) or primary."""
    async with database(request).acquire_read(request) as conn:
        in_recovery = await conn.fetchval("SELECT pg_is_in_recovery()")
    return json_response({"server": "replica" if in_recovery else "primary"})


@routes.get("/api/v1/_test/read-fn")
async def read_fn(request: web.Request) -> web.Response:
    """Like /_test/read through Database.read (reruns on the primary if the replica fails mid-query)."""
    in_recovery = await database(request).read(request, lambda conn: conn.fetchval("SELECT pg_is_in_recovery()"))
    return json_response({"server": "replica" if in_recovery else "primary"})


@routes.get("/api/v1/_test/download", query_token=True)
async def download(request: web.Request) -> web.Response:
    """A download-style route: accepts ?token= (access or link token) and signed URLs."""
    user = user_of(request)
    return json_response({"user": user.id, "signed_url": sign_download(request.path, 30, user.id)})
