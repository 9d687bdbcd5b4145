"""The operator's stack on process nodes: helpers to reach it the way a user does, through its Services.

Every address is a ClusterIP or pod IP of the local cluster's own network; ``Fabric.assert_routed`` is
checked before the first packet to each, so nothing is ever sent off the machine.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

from operator_harness import Kubectl

from req1_testenv.kube import KubeCluster


def secret_value(kubectl: Kubectl, namespace: str, name: str, key: str) -> str:
    obj = kubectl.get("secret", name, namespace)
    assert obj is not None, f"secret {namespace}/{name} missing"
    return base64.b64decode(obj["data"][key]).decode()


def service_ip(kubectl: Kubectl, cluster: KubeCluster, namespace: str, name: str) -> str:
    svc = kubectl.get("service", name, namespace)
    assert svc is not None, f"service {namespace}/{name} missing"
    ip = str(svc["spec"]["clusterIP"])
    cluster.fabric().assert_routed(ip)
    return ip


@dataclass
class HttpAnswer:
    status: int
    body: Any
    headers: dict[str, str]


class AppClient:
    """JSON (and multipart) requests to the req1 API at a base URL, with a bearer token once logged in."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.token: str | None = None

    def call(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
             content_type: str = "application/json", timeout: float = 30) -> HttpAnswer:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)  # noqa: S310 (test bed address)
        if data is not None:
            req.add_header("Content-Type", content_type)
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
                payload = resp.read()
                status, headers = resp.status, dict(resp.headers)
        except urllib.error.HTTPError as err:
            payload, status, headers = err.read(), err.code, dict(err.headers)
        ctype = headers.get("Content-Type", "")
        parsed: Any = json.loads(payload) if payload and "json" in ctype else payload
        return HttpAnswer(status, parsed, headers)

    def ok(self, method: str, path: str, body: Any = None, expect: int = 200, **kw: Any) -> Any:
        answer = self.call(method, path, body, **kw)
        assert answer.status == expect, f"{method} {path}: {answer.status} {answer.body!r}"
        return answer.body

    def login(self, email: str, password: str) -> None:
        self.token = self.ok("POST", "/api/v1/auth/login", {"email": email, "password": password})["token"]

    def upload(self, path: str, filename: str, content: bytes) -> Any:
        boundary = uuid.uuid4().hex
        body = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
        return self.ok("POST", path, raw=body, content_type=f"multipart/form-data; boundary={boundary}", expect=201)


def pods(kubectl: Kubectl, namespace: str, selector: str) -> list[dict[str, Any]]:
    return kubectl.list("pods", namespace, selector)


def pod_ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in (pod.get("status") or {}).get("conditions", []))


def restart_count(pod: dict[str, Any], container: str) -> int:
    for c in (pod.get("status") or {}).get("containerStatuses", []):
        if c["name"] == container:
            return int(c["restartCount"])
    return 0
