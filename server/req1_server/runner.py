"""An AppRunner whose protocol-level errors (unparsable request line, header too long, bad chunking)
are JSON envelopes with the security headers too: aiohttp answers those before any middleware runs,
with text/plain. ``cli.serve``, the tests and the benchmark all use this runner.
"""

from __future__ import annotations

import json
import uuid
from http import HTTPStatus

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_server import Server

from req1_server.errors import CODES
from req1_server.middleware import DEFAULT_CSP


class JsonErrorRequestHandler(RequestHandler):
    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        super().handle_error(request, status, exc, message)  # logs, and raises if a response is under way
        text = "internal server error" if status >= 500 else f"malformed HTTP request: {HTTPStatus(status).phrase}"
        if status == 400 and message and "more than" in message:
            text = "request line or header too large"
        body = json.dumps({"error": {"code": CODES.get(status, "BAD_REQUEST"), "message": text}})
        resp = web.Response(status=status, text=body, content_type="application/json")
        resp.headers.update({
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": DEFAULT_CSP,
            "Cache-Control": "no-store",
            "X-Request-Id": uuid.uuid4().hex,
        })
        resp.force_close()
        return resp


class JsonErrorServer(Server):
    def __call__(self) -> RequestHandler:
        return JsonErrorRequestHandler(self, loop=self._loop, **self._kwargs)


class Req1Runner(web.AppRunner):
    async def _make_server(self) -> Server:
        server = await super()._make_server()
        server.__class__ = JsonErrorServer
        return server
