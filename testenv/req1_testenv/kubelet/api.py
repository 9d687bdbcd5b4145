"""A small async client of the Kubernetes REST API for the node agent.

Why not the ``kubernetes`` package: it is synchronous and guesses PATCH content types; the node agent
needs a handful of verbs (get, list, watch, create, merge-patch, delete) on a few paths, asynchronously,
with the content type it chooses. Credentials come from a kubeconfig with inlined client certificates
or a bearer token (what :func:`req1_testenv.kube.write_kubeconfig` writes).
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import yaml

MERGE_PATCH = "application/merge-patch+json"


class ApiError(RuntimeError):
    """A non-2xx answer; ``status`` is the HTTP status and ``reason`` the Status reason."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason


def _ssl_context(user: dict[str, Any], cluster: dict[str, Any]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    if "client-certificate-data" in user:
        # load_cert_chain wants files; write them to a private temp dir that is gone after loading.
        with tempfile.TemporaryDirectory() as tmp:
            cert, key = Path(tmp, "c.crt"), Path(tmp, "c.key")
            cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
            key.write_bytes(base64.b64decode(user["client-key-data"]))
            ctx.load_cert_chain(cert, key)
    return ctx


class KubeApi:
    """One aiohttp session to the API server described by a kubeconfig."""

    def __init__(self, kubeconfig: Path, server: str | None = None) -> None:
        doc = yaml.safe_load(kubeconfig.read_text())
        cluster = doc["clusters"][0]["cluster"]
        user = doc["users"][0]["user"]
        self.server = (server or cluster["server"]).rstrip("/")
        self._ssl = _ssl_context(user, cluster)
        self._headers = {"Authorization": f"Bearer {user['token']}"} if "token" in user else {}
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                headers=self._headers,
                connector=aiohttp.TCPConnector(ssl=self._ssl, limit=20),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=5),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
        content_type: str = "application/json",
        seconds: float = 30.0,
    ) -> Any:
        url = self.server + path + (f"?{urlencode(params)}" if params else "")
        data = None if body is None else json.dumps(body)
        async with self.session.request(
            method, url, data=data, headers={"Content-Type": content_type},
            timeout=aiohttp.ClientTimeout(total=seconds),
        ) as resp:
            text = await resp.text()
            if resp.status >= 300:
                try:
                    status = json.loads(text)
                    raise ApiError(resp.status, status.get("reason", ""), status.get("message", text))
                except ValueError:
                    raise ApiError(resp.status, "", text[:500]) from None
            return json.loads(text) if text else None

    async def get(self, path: str, **params: Any) -> Any:
        return await self.request("GET", path, params=params or None)

    async def get_or_none(self, path: str) -> Any:
        try:
            return await self.get(path)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    async def create(self, path: str, body: Any) -> Any:
        return await self.request("POST", path, body=body)

    async def merge_patch(self, path: str, body: Any) -> Any:
        return await self.request("PATCH", path, body=body, content_type=MERGE_PATCH)

    async def delete(self, path: str, body: Any = None) -> Any:
        try:
            return await self.request("DELETE", path, body=body)
        except ApiError as exc:
            if exc.status != 404:
                raise
            return None

    async def watch(self, path: str, **params: Any) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """List, then watch from the list's resourceVersion; yields ("ADDED"|"MODIFIED"|"DELETED", obj).

        Re-lists after an expired resourceVersion or a dropped stream, reporting every listed object
        as ADDED again (consumers are idempotent), so no change is ever missed.
        """
        while True:
            try:
                listed = await self.get(path, **params)
                for item in listed.get("items", []):
                    yield "ADDED", item
                rv = listed["metadata"]["resourceVersion"]
                while True:
                    query = {**params, "watch": "1", "resourceVersion": rv, "allowWatchBookmarks": "true",
                             "timeoutSeconds": "300"}
                    url = f"{self.server}{path}?{urlencode(query)}"
                    async with self.session.get(url, timeout=aiohttp.ClientTimeout(total=None,
                                                                                   sock_read=330)) as resp:
                        if resp.status == 410:
                            break
                        if resp.status >= 300:
                            raise ApiError(resp.status, "", (await resp.text())[:300])
                        async for line in resp.content:
                            if not line.strip():
                                continue
                            event = json.loads(line)
                            kind, obj = event["type"], event["object"]
                            if kind == "ERROR":
                                if obj.get("code") == 410:
                                    raise _Expired
                                raise ApiError(int(obj.get("code", 500)), obj.get("reason", ""), obj.get("message", ""))
                            rv = obj["metadata"]["resourceVersion"]
                            if kind != "BOOKMARK":
                                yield kind, obj
            except _Expired:
                continue
            except (TimeoutError, aiohttp.ClientError, ApiError):
                await asyncio.sleep(1.0)


class _Expired(Exception):
    """The watch's resourceVersion is too old: list again."""
