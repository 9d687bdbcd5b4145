"""A small async client for the few objects the manager touches: its own pod, the primary Lease, its Req1Instance
and the StatefulSet's size.

Credentials come from the projected ServiceAccount (in a pod) or ``KUBECONFIG`` (tests). Every request has a short
timeout: a manager that cannot reach the API server must learn it within seconds, because its lease is running out.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import ssl
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

log = logging.getLogger(__name__)

SA_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
GROUP = "req1.io"
VERSION = "v1alpha1"
PLURAL = "req1instances"
REQUEST_TIMEOUT = 2.0


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


@dataclass
class Credentials:
    server: str
    ssl_context: ssl.SSLContext | bool
    token: str | None = None
    token_file: Path | None = None

    def bearer(self) -> str | None:
        if self.token_file is not None:
            return self.token_file.read_text().strip()  # projected tokens rotate: read on each use
        return self.token


def _data_file(data_b64: str) -> str:
    """ssl wants file names for client certificates; kubeconfig may inline them (written 0600, kept for the run)."""
    fd, name = tempfile.mkstemp(prefix="req1-kube-")
    with os.fdopen(fd, "wb") as f:
        f.write(base64.b64decode(data_b64))
    return name


def _kubeconfig(path: Path) -> Credentials:
    doc = yaml.safe_load(path.read_text())
    ctx_name = doc.get("current-context")
    ctx = next(c["context"] for c in doc["contexts"] if c["name"] == ctx_name)
    cluster = next(c["cluster"] for c in doc["clusters"] if c["name"] == ctx["cluster"])
    user: dict[str, Any] = next((u["user"] for u in doc.get("users", []) if u["name"] == ctx.get("user")), {}) or {}
    base = path.parent
    if cluster.get("insecure-skip-tls-verify"):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif "certificate-authority-data" in cluster:
        context = ssl.create_default_context(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    elif "certificate-authority" in cluster:
        context = ssl.create_default_context(cafile=str(base / cluster["certificate-authority"]))
    else:
        context = ssl.create_default_context()
    cert = user.get("client-certificate") and str(base / user["client-certificate"])
    key = user.get("client-key") and str(base / user["client-key"])
    if "client-certificate-data" in user:
        cert, key = _data_file(user["client-certificate-data"]), _data_file(user["client-key-data"])
    if cert and key:
        context.load_cert_chain(cert, key)
    token_file = Path(base / user["tokenFile"]) if user.get("tokenFile") else None
    return Credentials(cluster["server"].rstrip("/"), context, user.get("token"), token_file)


def load_credentials() -> Credentials:
    """KUBECONFIG when set (tests, running outside a pod), else the in-cluster ServiceAccount."""
    kubeconfig = os.environ.get("KUBECONFIG")
    if kubeconfig:
        return _kubeconfig(Path(kubeconfig.split(os.pathsep)[0]))
    host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    if not host:
        raise RuntimeError("neither KUBECONFIG nor KUBERNETES_SERVICE_HOST is set")
    host = f"[{host}]" if ":" in host else host
    context = ssl.create_default_context(cafile=str(SA_DIR / "ca.crt"))
    return Credentials(f"https://{host}:{port}", context, token_file=SA_DIR / "token")


class Kube:
    """JSON over one aiohttp session; raises ApiError for non-2xx and for transport failures (status 0)."""

    def __init__(self, creds: Credentials, namespace: str) -> None:
        self.creds = creds
        self.ns = namespace
        self.session: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self.session is None or self.session.closed:
            connector = aiohttp.TCPConnector(ssl=self.creds.ssl_context, limit=8, force_close=False)
            self.session = aiohttp.ClientSession(connector=connector, read_bufsize=1 << 21)
        return self.session

    def _headers(self, content_type: str | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        token = self.creds.bearer()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    async def reset(self) -> None:
        """Drop pooled connections (after a failure they may be half-dead)."""
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def request(
        self, method: str, path: str, body: Any = None, *, content_type: str = "application/json",
        seconds: float = REQUEST_TIMEOUT,
    ) -> Any:  # fmt: skip
        data = json.dumps(body) if body is not None else None
        try:
            async with self._session().request(
                method, self.creds.server + path, data=data,
                headers=self._headers(content_type if data is not None else None),
                timeout=aiohttp.ClientTimeout(total=seconds),
            ) as resp:  # fmt: skip
                text = await resp.text()
                if resp.status >= 300:
                    try:
                        message = json.loads(text).get("message", text)
                    except ValueError:
                        message = text
                    raise ApiError(resp.status, f"{method} {path}: {message}")
                return json.loads(text) if text else None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            await self.reset()
            raise ApiError(0, f"{method} {path}: {type(exc).__name__}: {exc}") from exc

    # -- paths

    def _pod(self, name: str) -> str:
        return f"/api/v1/namespaces/{self.ns}/pods/{name}"

    def _lease(self, name: str = "") -> str:
        return f"/apis/coordination.k8s.io/v1/namespaces/{self.ns}/leases" + (f"/{name}" if name else "")

    def _instances(self) -> str:
        return f"/apis/{GROUP}/{VERSION}/namespaces/{self.ns}/{PLURAL}"

    # -- objects

    async def patch_pod_annotations(self, pod: str, annotations: dict[str, str]) -> None:
        await self.request(
            "PATCH", self._pod(pod), {"metadata": {"annotations": annotations}},
            content_type="application/merge-patch+json",
        )  # fmt: skip

    async def patch_pod(self, pod: str, annotations: dict[str, str], labels: dict[str, str | None]) -> None:
        """Annotations and labels in one merge patch (a None label is removed)."""
        await self.request(
            "PATCH", self._pod(pod), {"metadata": {"annotations": annotations, "labels": labels}},
            content_type="application/merge-patch+json",
        )  # fmt: skip

    async def pod_annotations(self, pod: str) -> dict[str, str]:
        """The pod's annotations (where the operator asks this member for a backup)."""
        result = await self.request("GET", self._pod(pod))
        return dict(((result or {}).get("metadata") or {}).get("annotations") or {})

    async def get_lease(self, name: str) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = await self.request("GET", self._lease(name))
            return result
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    async def create_lease(self, lease: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("POST", self._lease(), lease)
        return result

    async def replace_lease(self, lease: dict[str, Any]) -> dict[str, Any]:
        """PUT with the lease's metadata.resourceVersion: 409 when anyone wrote it since it was read."""
        result: dict[str, Any] = await self.request("PUT", self._lease(lease["metadata"]["name"]), lease)
        return result

    async def get_instance(self, name: str) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = await self.request("GET", f"{self._instances()}/{name}")
            return result
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    async def statefulset_replicas(self, name: str) -> int | None:
        try:
            sts = await self.request("GET", f"/apis/apps/v1/namespaces/{self.ns}/statefulsets/{name}")
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        return int((sts.get("spec") or {}).get("replicas", 1))

    async def watch_instance(self, name: str, resource_version: str) -> AsyncIterator[dict[str, Any]]:
        """Events for one Req1Instance from ``resource_version`` until the server ends the watch."""
        path = (
            f"{self._instances()}?watch=1&allowWatchBookmarks=true&timeoutSeconds=240"
            f"&fieldSelector=metadata.name%3D{name}&resourceVersion={resource_version}"
        )
        try:
            async with self._session().get(
                self.creds.server + path, headers=self._headers(),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=REQUEST_TIMEOUT, sock_read=300),
            ) as resp:  # fmt: skip
                if resp.status >= 300:
                    raise ApiError(resp.status, f"watch {name}: {await resp.text()}")
                async for line in resp.content:
                    if line.strip():
                        yield json.loads(line)
        except (aiohttp.ClientError, TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
            raise ApiError(0, f"watch {name}: {type(exc).__name__}: {exc}") from exc
