"""One small async REST client for everything the operator writes or reads outside kopf's own watches.

It reuses kopf's credential loaders (kubeconfig or in-cluster ServiceAccount), speaks plain JSON over
aiohttp, and counts every request by verb so idempotency and request budgets can be measured.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import Any

import aiohttp
import kopf

from req1_operator.kube.resources import Resource

log = logging.getLogger(__name__)

FIELD_MANAGER = "req1-operator"
WRITE_VERBS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ApiError(Exception):
    """A non-2xx answer from the API server, with its Status reason and message."""

    def __init__(self, status: int, reason: str, message: str, method: str, path: str) -> None:
        super().__init__(f"{method} {path}: {status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def conflict(self) -> bool:
        return self.status == 409

    @property
    def user_error(self) -> bool:
        """The request was refused for its content (invalid, forbidden, immutable) — retrying will not help."""
        return self.status in (400, 403, 422)


def load_credentials() -> kopf.ConnectionInfo:
    """Credentials from the in-cluster ServiceAccount if mounted, else from KUBECONFIG / ~/.kube/config."""
    settings = kopf.OperatorSettings()
    info = kopf.login_with_service_account(settings=settings)
    if info is None:
        info = kopf.login_with_kubeconfig(settings=settings)
    if info is None:
        raise kopf.LoginError("no ServiceAccount mounted and no kubeconfig found")
    return info


class KubeClient:
    """JSON over HTTP to one API server; `counts` tallies requests as `VERB` -> n."""

    def __init__(self, info: kopf.ConnectionInfo) -> None:
        self.server = info.server.rstrip("/")
        headers = {"Accept": "application/json", "User-Agent": "req1-operator"}
        if info.token:
            headers["Authorization"] = f"{info.scheme or 'Bearer'} {info.token}"
        auth = aiohttp.BasicAuth(info.username, info.password or "") if info.username else None
        ssl: Any = False if info.insecure else info.as_ssl_context()
        self._session = aiohttp.ClientSession(
            headers=headers,
            auth=auth,
            connector=aiohttp.TCPConnector(ssl=ssl, limit=20),
            timeout=aiohttp.ClientTimeout(total=30),
        )
        self.counts: Counter[str] = Counter()

    async def close(self) -> None:
        await self._session.close()

    @property
    def writes(self) -> int:
        return sum(n for verb, n in self.counts.items() if verb in WRITE_VERBS)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        """Send one request; return the decoded JSON body or raise ApiError."""
        self.counts[method] += 1
        data = None if body is None else json.dumps(body)
        headers = {"Content-Type": content_type} if data is not None else None
        async with self._session.request(method, self.server + path, params=params, data=data, headers=headers) as r:
            text = await r.text()
            if r.status >= 300:
                reason, message = r.reason or "", text
                try:
                    status = json.loads(text)
                    reason, message = status.get("reason", reason), status.get("message", text)
                except ValueError:
                    pass
                raise ApiError(r.status, str(reason), str(message), method, path)
            return json.loads(text) if text else {}

    async def get(self, res: Resource, namespace: str | None, name: str) -> dict[str, Any] | None:
        try:
            return await self.request("GET", res.path(namespace, name))
        except ApiError as e:
            if e.not_found:
                return None
            raise

    async def list(self, res: Resource, namespace: str | None, selector: str | None = None) -> list[dict[str, Any]]:
        params = {"labelSelector": selector} if selector else None
        answer = await self.request("GET", res.path(namespace), params=params)
        items: list[dict[str, Any]] = answer.get("items", [])
        return items

    async def apply(self, res: Resource, obj: dict[str, Any], *, force: bool = True) -> dict[str, Any]:
        """Server-side apply of a whole object under our field manager."""
        meta = obj["metadata"]
        params = {"fieldManager": FIELD_MANAGER, "force": "true" if force else "false"}
        return await self.request(
            "PATCH",
            res.path(meta.get("namespace"), meta["name"]),
            params=params,
            body=obj,
            content_type="application/apply-patch+yaml",
        )

    async def patch_status(self, res: Resource, namespace: str, name: str, status: dict[str, Any]) -> dict[str, Any]:
        """Merge-patch the status subresource (status is ours alone; kopf keeps to status.kopf)."""
        return await self.request(
            "PATCH",
            res.path(namespace, name, "status"),
            body={"status": status},
            content_type="application/merge-patch+json",
        )

    async def delete(self, res: Resource, namespace: str | None, name: str, *, propagation: str = "Background") -> bool:
        """Delete one object; False if it was already gone."""
        try:
            await self.request("DELETE", res.path(namespace, name), body={"propagationPolicy": propagation})
        except ApiError as e:
            if e.not_found:
                return False
            raise
        return True

    async def create(self, res: Resource, namespace: str | None, obj: dict[str, Any]) -> dict[str, Any]:
        return await self.request("POST", res.path(namespace), body=obj)


_client: KubeClient | None = None


def get_client() -> KubeClient:
    """The process-wide client, created on first use (inside the running event loop)."""
    global _client
    if _client is None:
        _client = KubeClient(load_credentials())
    return _client


async def close_client() -> None:
    global _client
    if _client is not None:
        await _client.close()
        _client = None
