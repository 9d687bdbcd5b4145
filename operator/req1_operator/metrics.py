"""Prometheus metrics of the operator, served on /metrics by a small aiohttp app.

Its own registry (not the process default) so tests and several operators in one process never collide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from req1_operator.status import DEGRADED, FAILED, PENDING, PROVISIONING, READY, UPGRADING

PHASES = (PENDING, PROVISIONING, READY, DEGRADED, UPGRADING, FAILED)

REGISTRY = CollectorRegistry(auto_describe=True)

RECONCILES = Counter(
    "req1_operator_reconcile_total",
    "Reconcile passes per instance, by what triggered them and how they ended.",
    ["namespace", "name", "trigger", "result"],
    registry=REGISTRY,
)
RECONCILE_SECONDS = Histogram(
    "req1_operator_reconcile_duration_seconds",
    "Duration of one reconcile pass per instance.",
    ["namespace", "name"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
RECONCILE_ERRORS = Counter(
    "req1_operator_reconcile_errors_total",
    "Reconcile passes that failed, per instance and error kind.",
    ["namespace", "name", "reason"],
    registry=REGISTRY,
)
CHILD_WRITES = Counter(
    "req1_operator_child_writes_total",
    "Children created or changed by server-side apply, by kind.",
    ["kind"],
    registry=REGISTRY,
)


KUBE_REQUESTS = Counter(
    "req1_operator_kube_requests_total",
    "Every HTTP request the operator process sent to the API server (kopf's and its own), by verb and resource.",
    ["verb", "resource"],
    registry=REGISTRY,
)


def _resource_of(path: str) -> str:
    """The resource plural of an API path (`/apis/apps/v1/namespaces/x/deployments/y` -> deployments)."""
    parts = [p for p in path.split("/") if p]
    if parts and parts[0] == "api":
        parts = parts[2:]
    elif parts and parts[0] == "apis":
        parts = parts[3:]
    else:
        return "other"
    if len(parts) >= 2 and parts[0] == "namespaces":
        parts = parts[2:] or ["namespaces"]
    return parts[0] if parts else "discovery"


async def _on_request_start(_: aiohttp.ClientSession, __: object, params: aiohttp.TraceRequestStartParams) -> None:
    verb = "WATCH" if params.url.query.get("watch") in ("true", "1") else params.method
    KUBE_REQUESTS.labels(verb, _resource_of(params.url.path)).inc()


_installed = False


def count_http_requests() -> None:
    """Count every aiohttp client request of this process (kopf's watches and patches, and ours).

    kopf builds its own ClientSession without a hook for tracing, so the trace config is added to every
    session created from now on; the operator process has no other HTTP clients.
    """
    global _installed
    if _installed:
        return
    _installed = True
    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(_on_request_start)
    original = aiohttp.ClientSession.__init__

    def __init__(self: aiohttp.ClientSession, *args: Any, **kwargs: Any) -> None:
        kwargs["trace_configs"] = [*(kwargs.get("trace_configs") or []), trace]
        original(self, *args, **kwargs)

    aiohttp.ClientSession.__init__ = __init__  # type: ignore[method-assign]


class _LiveCollector(Collector):
    """Values read at scrape time: instances per phase and API requests per verb."""

    def __init__(self) -> None:
        self.phases: Callable[[], Mapping[str, int]] = dict
        self.requests: Callable[[], Mapping[str, int]] = dict

    def collect(self) -> Iterable[Metric]:
        g = GaugeMetricFamily("req1_operator_instances", "Req1Instances by phase.", labels=["phase"])
        counts = self.phases()
        for phase in PHASES:
            g.add_metric([phase], counts.get(phase, 0))
        yield g
        c = CounterMetricFamily(
            "req1_operator_api_requests",
            "Requests the operator's client sent to the API server, by verb.",
            labels=["verb"],
        )
        for verb, n in sorted(self.requests().items()):
            c.add_metric([verb], n)
        yield c


LIVE = _LiveCollector()
REGISTRY.register(LIVE)


async def _metrics(_: web.Request) -> web.Response:
    return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": "text/plain; version=0.0.4"})


async def start_server(host: str, port: int) -> web.AppRunner:
    """Serve /metrics; the caller keeps the runner and cleans it up on shutdown."""
    app = web.Application()
    app.router.add_get("/metrics", _metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
