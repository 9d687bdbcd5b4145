"""The operator's stack on process nodes: helpers to reach it the way a user does, through its Services.

Every address is a ClusterIP or pod IP of the local cluster's own network; ``Fabric.assert_routed`` is
checked before the first packet to each, so nothing is ever sent off the machine.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from operator_harness import Kubectl, Operator, wait_for

from req1_testenv.kube import NODE_SELECTOR_ANNOTATION, PROCESS_NODE_SELECTOR, KubeCluster

PSQL = "/usr/lib/postgresql/15/bin/psql"


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


def instance(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A Req1Instance manifest."""
    return {"apiVersion": "req1.io/v1alpha1", "kind": "Req1Instance", "metadata": {"name": name}, "spec": spec}


def instance_report(kubectl: Kubectl, namespace: str, pod: str) -> dict[str, Any]:
    """The instance manager's own report of a PostgreSQL pod (its `req1.io/instance-status` annotation), read
    straight from the pod: it is there while the operator is down."""
    obj = kubectl.get("pod", pod, namespace) or {}
    raw = ((obj.get("metadata") or {}).get("annotations") or {}).get("req1.io/instance-status")
    return json.loads(raw) if raw else {}


def pods(kubectl: Kubectl, namespace: str, selector: str) -> list[dict[str, Any]]:
    return kubectl.list("pods", namespace, selector)


def pod_ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in (pod.get("status") or {}).get("conditions", []))


def restart_count(pod: dict[str, Any], container: str) -> int:
    for c in (pod.get("status") or {}).get("containerStatuses", []):
        if c["name"] == container:
            return int(c["restartCount"])
    return 0


@dataclass
class Write:
    """One write through the app's API: when it was sent and answered, and the id it was acknowledged with."""

    start: float
    end: float
    ok: bool
    ident: str | None = None
    status: int = 0


class WriteLoad:
    """One client writing workspaces through the API Service back to back, keeping a ledger of every write the
    API acknowledged (201 with an id): what a failover must not lose."""

    def __init__(self, app: AppClient, prefix: str, timeout: float = 15.0) -> None:
        self.app, self.prefix, self.timeout = app, prefix, timeout
        self.writes: list[Write] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"writes-{prefix}", daemon=True)
        self._seq = 0

    def __enter__(self) -> WriteLoad:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.timeout + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._seq += 1
            start = time.time()
            try:
                answer = self.app.call("POST", "/api/v1/workspaces", {"name": f"{self.prefix}-{self._seq}"},
                                       timeout=self.timeout)
                ok = answer.status == 201 and isinstance(answer.body, dict) and "id" in answer.body
                ident = str(answer.body["id"]) if ok else None
                status = answer.status
            except (OSError, ValueError):
                ok, ident, status = False, None, 0
            self.writes.append(Write(start, time.time(), ok, ident, status))
            if not ok:
                time.sleep(0.05)

    def acknowledged(self) -> list[str]:
        return [w.ident for w in self.writes if w.ok and w.ident]

    def wait_writes(self, n: int, after: float, timeout: float = 120.0) -> None:
        """Until `n` writes sent after `after` were acknowledged."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if sum(1 for w in list(self.writes) if w.ok and w.start >= after) >= n:
                return
            time.sleep(0.1)
        raise AssertionError(f"fewer than {n} writes acknowledged within {timeout} s after {after}")

    def resumed_after(self, t0: float, settle: float = 3.0) -> float | None:
        """Seconds from `t0` until writes work again: the answer of the first acknowledged write sent after `t0`
        that no failed write follows within `settle` seconds. None when that has not happened yet."""
        writes = sorted((w for w in list(self.writes) if w.start >= t0), key=lambda w: w.start)
        for i, w in enumerate(writes):
            if not w.ok:
                continue
            later = [x for x in writes[i + 1:] if x.start <= w.end + settle]
            if later and writes[-1].start >= w.end + settle and all(x.ok for x in later):
                return w.end - t0
        return None

    def longest_pause(self, t0: float, t1: float) -> tuple[float, float]:
        """The longest time in [t0, t1] with no write acknowledged, and when it began: the write pause a client
        saw (between two acknowledgments; a write that hung and then succeeded counts as paused, not as working)."""
        acks = sorted(w.end for w in list(self.writes) if w.ok and t0 <= w.end <= t1)
        marks = [t0, *acks, t1]
        gap, began = max(((b - a, a) for a, b in itertools.pairwise(marks)), default=(0.0, t0))
        return gap, began

    def failures_after(self, t0: float) -> int:
        return sum(1 for w in list(self.writes) if w.start >= t0 and not w.ok)


def psql(ip: str, user: str, password: str, db: str, sql: str) -> str:
    """One statement through psql at a pod address (checked as routed by the caller); its output, stripped."""
    out = subprocess.run([PSQL, "-h", ip, "-U", user, "-d", db, "-Atc", sql], capture_output=True, text=True,
                         env={"PGPASSWORD": password, "PGCONNECT_TIMEOUT": "5"}, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@contextlib.contextmanager
def operated_namespace(cluster: KubeCluster, admin: Kubectl, operator_kubeconfig: Path, workdir: Path,
                       prefix: str) -> Iterator[tuple[str, Operator]]:
    """A fresh namespace whose pods run on the process nodes, watched by an operator (a host process with the
    chart's ServiceAccount); the operator is stopped and the namespace deleted afterwards."""
    if not cluster.process_nodes:
        pytest.fail("the session cluster has no process nodes: they need root (see docs/testing.md)", pytrace=False)
    ns = f"{prefix}-{int(time.time()) % 100000}"
    admin.apply({"apiVersion": "v1", "kind": "Namespace",
                 "metadata": {"name": ns, "annotations": {NODE_SELECTOR_ANNOTATION: PROCESS_NODE_SELECTOR}}})
    wait_for("default ServiceAccount", lambda: admin.get("serviceaccount", "default", ns))
    op = Operator(operator_kubeconfig, workdir, [ns]).start()
    try:
        yield ns, op
    finally:
        op.stop()
        admin.run("delete", "namespace", ns, "--wait=false", check=False)

