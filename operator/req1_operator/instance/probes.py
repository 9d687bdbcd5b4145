"""HTTP probes for the kubelet: /healthz (the manager and its postmaster are alive or on their way) and /readyz
(this member serves its role: a primary that holds the lease, a replica that streams and keeps up)."""

from __future__ import annotations

import json
from typing import Protocol

from aiohttp import web


class Health(Protocol):
    def healthz(self) -> tuple[bool, str]: ...

    def readyz(self) -> tuple[bool, str]: ...


def app(health: Health) -> web.Application:
    def answer(result: tuple[bool, str]) -> web.Response:
        ok, reason = result
        body = json.dumps({"ok": ok, "reason": reason})
        return web.Response(status=200 if ok else 503, text=body, content_type="application/json")

    async def healthz(_request: web.Request) -> web.Response:
        return answer(health.healthz())

    async def readyz(_request: web.Request) -> web.Response:
        return answer(health.readyz())

    application = web.Application()
    application.router.add_get("/healthz", healthz)
    application.router.add_get("/readyz", readyz)
    return application


async def serve(health: Health, port: int) -> web.AppRunner:
    runner = web.AppRunner(app(health), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host="0.0.0.0", port=port).start()
    return runner
