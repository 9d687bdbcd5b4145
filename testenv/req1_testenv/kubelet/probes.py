"""Container probes, executed for real: exec inside the container, HTTP GET and TCP to the pod's address.

HTTP and TCP probes connect from the node's network namespace, as a kubelet on the host network
does: their packets stay inside the test bed whatever address a probe names, and probes keep
working while the node is cut off from the others.

A probe answers (success, message). Threshold counting (success/failure thresholds, the initial delay,
the period) lives in :class:`ProbeState` so the container supervisor only asks "what is the verdict now".
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from req1_testenv.podnet.netns import open_connection_in

ExecArgv = Callable[[list[str]], list[str]]


def port_number(port: int | str, container: Mapping[str, Any]) -> int:
    """A probe port: a number, or the name of one of the container's ports."""
    if isinstance(port, int) or str(port).isdigit():
        return int(port)
    for p in container.get("ports", []):
        if p.get("name") == port:
            return int(p["containerPort"])
    raise ValueError(f"probe port {port!r} is not a port of container {container.get('name')!r}")


async def run_probe(
    probe: Mapping[str, Any], container: Mapping[str, Any], pod_ip: str, exec_argv: ExecArgv,
    exec_env: Mapping[str, str], netns: str,
) -> tuple[bool, str]:
    seconds = float(probe.get("timeoutSeconds", 1))
    try:
        if "exec" in probe:
            return await _exec(exec_argv(list(probe["exec"]["command"])), exec_env, seconds)
        if "httpGet" in probe:
            return await _http(probe["httpGet"], container, pod_ip, netns, seconds)
        if "tcpSocket" in probe:
            return await _tcp(probe["tcpSocket"], container, pod_ip, netns, seconds)
        if "grpc" in probe:
            return await _grpc(probe["grpc"], pod_ip, seconds)
    except ValueError as exc:
        return False, str(exc)
    return False, f"unsupported probe handler {sorted(probe)}"


async def _exec(argv: list[str], env: Mapping[str, str], seconds: float) -> tuple[bool, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, stdin=asyncio.subprocess.DEVNULL,
        env=dict(env), start_new_session=True,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), seconds)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        return False, f"command timed out after {seconds:g}s"
    text = out.decode(errors="replace").strip()[-300:]
    return proc.returncode == 0, text or f"exit code {proc.returncode}"


def http_request(host: str, path: str, headers: Mapping[str, str]) -> bytes:
    """The GET a kubelet sends: HTTP/1.1, closed after the answer."""
    lines = [f"GET {quote(path, safe='/?=&%:@+,;~')} HTTP/1.1", f"Host: {host}", "Connection: close",
             *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def status_code(first_line: bytes) -> int:
    """The status of an HTTP status line; ValueError when the answer is not HTTP."""
    parts = first_line.decode("latin-1").split()
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP answer: {first_line[:80]!r}")
    return int(parts[1])


async def _http(
    spec: Mapping[str, Any], container: Mapping[str, Any], pod_ip: str, netns: str, seconds: float,
) -> tuple[bool, str]:
    host = spec.get("host") or pod_ip
    port = port_number(spec["port"], container)
    scheme = str(spec.get("scheme", "HTTP")).lower()
    path = spec.get("path", "/")
    url = f"{scheme}://{host}:{port}{path}"
    headers = {h["name"]: h["value"] for h in spec.get("httpHeaders", [])}
    headers.setdefault("User-Agent", "kube-probe/1.36")
    try:
        async with asyncio.timeout(seconds):
            reader, writer = await open_connection_in(netns, host, port)
            try:
                if scheme == "https":  # a kubelet does not verify the certificate either
                    context = ssl.create_default_context()
                    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
                    await writer.start_tls(context)
                writer.write(http_request(host, path, headers))
                await writer.drain()
                code = status_code(await reader.readline())
            finally:
                writer.close()
                with contextlib.suppress(OSError, ssl.SSLError):
                    await writer.wait_closed()
    except (OSError, TimeoutError, ssl.SSLError, ValueError) as exc:
        return False, f'Get "{url}": {type(exc).__name__}: {exc}'
    ok = 200 <= code < 400
    return ok, "ok" if ok else f"HTTP probe failed with statuscode: {code}"


async def _tcp(
    spec: Mapping[str, Any], container: Mapping[str, Any], pod_ip: str, netns: str, seconds: float,
) -> tuple[bool, str]:
    host = spec.get("host") or pod_ip
    port = port_number(spec["port"], container)
    try:
        async with asyncio.timeout(seconds):
            _, writer = await open_connection_in(netns, host, port)
    except (OSError, TimeoutError) as exc:
        return False, f"dial tcp {host}:{port}: {exc or 'timeout'}"
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True, "ok"


async def _grpc(spec: Mapping[str, Any], pod_ip: str, seconds: float) -> tuple[bool, str]:
    """gRPC health checking (grpc.health.v1) when grpcio is installed; a clear failure otherwise."""
    try:
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc
    except ImportError:
        return False, "grpc probes need grpcio-health-checking on the test bed"
    target = f"{pod_ip}:{int(spec['port'])}"
    async with grpc.aio.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            answer = await stub.Check(health_pb2.HealthCheckRequest(service=spec.get("service", "")), timeout=seconds)
        except grpc.aio.AioRpcError as exc:
            return False, f"grpc {target}: {exc.code().name}"
    ok = answer.status == health_pb2.HealthCheckResponse.SERVING
    return ok, "ok" if ok else f"grpc {target}: status {answer.status}"


@dataclass
class ProbeState:
    """Consecutive successes/failures against the probe's thresholds."""

    probe: Mapping[str, Any]
    initial: bool  # the verdict before the first probe (readiness: False; liveness/startup: True)
    verdict: bool = field(init=False)
    successes: int = 0
    failures: int = 0
    last_message: str = ""

    def __post_init__(self) -> None:
        self.verdict = self.initial

    @property
    def period(self) -> float:
        return float(self.probe.get("periodSeconds", 10))

    @property
    def initial_delay(self) -> float:
        return float(self.probe.get("initialDelaySeconds", 0))

    def record(self, ok: bool, message: str) -> bool:
        """Count one result; True when the verdict changed."""
        self.last_message = message
        before = self.verdict
        if ok:
            self.successes += 1
            self.failures = 0
            if self.successes >= int(self.probe.get("successThreshold", 1)):
                self.verdict = True
        else:
            self.failures += 1
            self.successes = 0
            if self.failures >= int(self.probe.get("failureThreshold", 3)):
                self.verdict = False
        return self.verdict != before
