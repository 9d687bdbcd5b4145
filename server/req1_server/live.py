"""Live updates: ``GET /api/v1/modules/{module_id}/events`` streams server-sent events of object changes.

Changes come from PostgreSQL, not from this process: migration 0013's triggers ``pg_notify`` on the
``req1_changes`` channel at commit, and one LISTEN connection per server process (to the primary: a
replica never sees NOTIFY) fans them out to the streams of that module. So an edit through any API
replica reaches every browser on every replica. The listener starts with the first stream and stops
with the last one, so a server without open streams holds no extra connection. When the listener
loses its connection it reconnects and sends ``resync`` to every stream (it may have missed events);
a browser that lost its stream reconnects and resyncs by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
import weakref
from typing import Any

from aiohttp import web

from req1_server.appkeys import RUNTIME, Runtime
from req1_server.config import SETTINGS
from req1_server.db import DATABASE
from req1_server.errors import api_error, not_found
from req1_server.listen import listen_forever
from req1_server.routing import Routes

log = logging.getLogger("req1.live")
routes = Routes(tag="live")

CHANNEL = "req1_changes"
HEARTBEAT_SECONDS = 15.0
TICK_SECONDS = 1.0  # how soon a stream notices shutdown
RECONNECT_SECONDS = 2.0
QUEUE_SIZE = 256  # a slower consumer gets `resync` instead of an ever-growing backlog


class Hub:
    """One LISTEN connection per process; subscribers are queues keyed by module id."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.subscribers: dict[uuid.UUID, set[asyncio.Queue[dict[str, Any]]]] = {}
        self.task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    def subscribe(self, module_id: uuid.UUID) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self.subscribers.setdefault(module_id, set()).add(queue)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run(), name="req1-live-listener")
        return queue

    def unsubscribe(self, module_id: uuid.UUID, queue: asyncio.Queue[dict[str, Any]]) -> None:
        queues = self.subscribers.get(module_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self.subscribers[module_id]
        if not self.subscribers and self.task is not None:
            self.task.cancel()
            self.task = None
            self.connected.clear()

    def _deliver(self, queue: asyncio.Queue[dict[str, Any]], event: dict[str, Any]) -> None:
        try:
            queue.put_nowait(event)
        except asyncio.QueueFull:
            with contextlib.suppress(asyncio.QueueEmpty):
                while True:
                    queue.get_nowait()
            queue.put_nowait({"kind": "resync"})

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            event = json.loads(payload)
            module_id = uuid.UUID(str(event["module_id"]))
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed %s notification", CHANNEL)
            return
        for queue in self.subscribers.get(module_id, ()):
            self._deliver(queue, {"kind": "change", **event})

    def _broadcast_resync(self) -> None:
        for queues in self.subscribers.values():
            for queue in queues:
                self._deliver(queue, {"kind": "resync"})

    def _connected(self, first: bool) -> None:
        self.connected.set()
        if not first:
            self._broadcast_resync()  # whatever happened while we were away

    async def _run(self) -> None:
        await listen_forever(self.dsn, CHANNEL, self._on_notify, on_connect=self._connected,
                             on_disconnect=self.connected.clear, reconnect=RECONNECT_SECONDS,
                             what="live-update listener")


_hubs: weakref.WeakKeyDictionary[web.Application, Hub] = weakref.WeakKeyDictionary()


def hub_of(app: web.Application) -> Hub:
    hub = _hubs.get(app)
    if hub is None:
        hub = _hubs[app] = Hub(app[SETTINGS].database_url)
    return hub


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'), default=str)}\n\n".encode()


async def pump(response: web.StreamResponse, queue: asyncio.Queue[dict[str, Any]], runtime: Runtime) -> None:
    """Write queued events until shutdown, with a comment every HEARTBEAT_SECONDS of silence."""
    idle = 0.0
    while not runtime.shutting_down:
        try:
            event = await asyncio.wait_for(queue.get(), TICK_SECONDS)
        except TimeoutError:
            idle += TICK_SECONDS
            if idle >= HEARTBEAT_SECONDS:
                await response.write(b": ping\n\n")
                idle = 0.0
            continue
        idle = 0.0
        kind = event.pop("kind")
        await response.write(sse(kind, event))


@routes.get("/api/v1/modules/{module_id}/events",
            summary="Server-sent events: changes to the module's objects by anyone, through any replica")
async def module_events(request: web.Request) -> web.StreamResponse:
    """A ``text/event-stream``: ``ready`` once listening, then ``change`` ({module_id, op, n, items:
    [[id, version]…] or null when many}) per committed statement, ``resync`` when events may have
    been missed, and a comment every 15 s to keep proxies from closing the stream."""
    if "text/event-stream" not in request.headers.get("Accept", ""):
        # a plain HTTP client would wait on the endless stream; only event-stream readers get one
        raise api_error(406, "this endpoint streams text/event-stream; send Accept: text/event-stream")
    try:
        module_id = uuid.UUID(request.match_info["module_id"])
    except ValueError:
        raise not_found("module", request.match_info["module_id"]) from None
    async with request.app[DATABASE].acquire() as conn:
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM module WHERE id = $1)", module_id):
            raise not_found("module", module_id)
    hub = hub_of(request.app)
    queue = hub.subscribe(module_id)
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(hub.connected.wait(), 10)
        response = web.StreamResponse(headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # nginx: pass events through unbuffered
        })
        await response.prepare(request)
        await response.write(b"retry: 2000\n" + sse("ready", {"module_id": str(module_id)}))
        await pump(response, queue, request.app[RUNTIME])
        return response
    except ConnectionResetError:  # the browser went away (aiohttp's ClientConnectionResetError too)
        return web.Response(status=204)
    finally:
        hub.unsubscribe(module_id, queue)
