"""Routes for the platform's own tests, registered only with REQ1_TEST_ROUTES=true outside production."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

from aiohttp import web

from req1_server.auth.links import sign_download
from req1_server.db import database
from req1_server.http import json_response
from req1_server.routing import Routes, user_of
from req1_server.typed import QueryModel, query_int

routes = Routes(tag="testing")


class Sleep(QueryModel):
    ms: Annotated[int, query_int(0, 120_000)] = 1000


@routes.get("/api/v1/_test/slow", auth=False, query=Sleep)
async def slow(request: web.Request, query: Sleep) -> web.Response:
    """Sleep ``ms`` milliseconds, then answer (graceful-shutdown tests)."""
    await asyncio.sleep(query.ms / 1000)
    return json_response({"slept_ms": query.ms})


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


@routes.get("/api/v1/_test/pid", auth=False)
async def pid(request: web.Request) -> web.Response:
    """Which process answered (the worker tests)."""
    return json_response({"pid": os.getpid()})
