"""Test helper for the domain resources: a thin JSON client with a default token and status checks."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient


class Api:
    """`await api.post("/modules", {...})` → parsed body, asserting the expected status."""

    def __init__(self, client: TestClient[web.Request, web.Application], token: str) -> None:
        self.client = client
        self.token = token

    def as_(self, token: str) -> Api:
        return Api(self.client, token)

    async def call(self, method: str, path: str, json: Any = None, *, expect: int | None = None,
                   token: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token or self.token}", **kwargs.pop("headers", {})}
        url = path if path.startswith("/api/") else "/api/v1" + path
        resp = await self.client.request(method, url, json=json, headers=headers, **kwargs)
        if resp.content_type == "application/json":
            body = await resp.json()
        elif resp.status == 204:
            body = None
        else:
            body = await resp.read()
        if expect is not None:
            assert resp.status == expect, (method, path, resp.status, body)
        self.last_status = resp.status
        self.last_headers = resp.headers
        return body

    async def get(self, path: str, *, expect: int = 200, **kw: Any) -> Any:
        return await self.call("GET", path, expect=expect, **kw)

    async def post(self, path: str, json: Any = None, *, expect: int = 201, **kw: Any) -> Any:
        return await self.call("POST", path, json, expect=expect, **kw)

    async def patch(self, path: str, json: Any, *, expect: int = 200, **kw: Any) -> Any:
        return await self.call("PATCH", path, json, expect=expect, **kw)

    async def delete(self, path: str, *, expect: int = 204, **kw: Any) -> Any:
        return await self.call("DELETE", path, expect=expect, **kw)

    async def error(self, method: str, path: str, json: Any = None, *, status: int, message: str | None = None,
                    token: str | None = None) -> str:
        body = await self.call(method, path, json, expect=status, token=token)
        assert set(body) == {"error"}, body
        if message is not None:
            assert body["error"]["message"] == message, body
        return str(body["error"]["message"])

    async def module(self, **settings: Any) -> dict[str, Any]:
        """A fresh workspace → project → module."""
        ws = await self.post("/workspaces", {"name": "W"})
        project = await self.post(f"/workspaces/{ws['id']}/projects", {"name": "P"})
        return dict(await self.post("/modules", {"name": "M", "project_id": project["id"], **settings}))

    async def obj(self, module_id: str, **fields: Any) -> dict[str, Any]:
        return dict(await self.post(f"/modules/{module_id}/objects", fields))

    async def objects(self, module_id: str, query: str = "") -> list[dict[str, Any]]:
        body = await self.get(f"/modules/{module_id}/objects{query}")
        return list(body["items"])
