"""Publish a module (spec §4.16) as HTML, Markdown, CSV, text or YAML; rendering is in domain.publish."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from req1_server.db import database
from req1_server.domain.publish import CONTENT_TYPES, PublishError, render, resolve_format
from req1_server.errors import bad_request
from req1_server.routing import Routes
from req1_server.store import exports
from req1_server.typed import InModule, QText, QueryModel

routes = Routes(tag="publish")

HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"


def rendered(fmt: str, name: str, objects: Any, attribute_names: Any) -> bytes:
    return render(fmt, name, objects, attribute_names).encode("utf-8")


class Format(QueryModel):
    format: QText = None


@routes.get("/api/v1/modules/{module_id}/publish", query_token=True, params=InModule, query=Format)
async def publish(request: web.Request, path: InModule, query: Format) -> web.Response:
    """The module's live objects in document order, rendered in the requested format."""
    try:
        fmt = resolve_format(query.format)
    except PublishError as exc:
        raise bad_request(str(exc)) from None
    name, objects, attribute_names = await database(request).read(
        request, lambda conn: exports.publishable(conn, path.module_id))
    body = await asyncio.to_thread(rendered, fmt, name, objects, attribute_names)  # CPU work off the event loop
    headers = {"Content-Type": CONTENT_TYPES[fmt]}
    if fmt == "html":
        headers["Content-Security-Policy"] = HTML_CSP
    if fmt == "csv":
        headers["Content-Disposition"] = 'attachment; filename="objects.csv"'
    return web.Response(body=body, headers=headers)
