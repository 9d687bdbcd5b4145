"""Prometheus metrics of the operator, served on /metrics by a small aiohttp app.

Its own registry (not the process default) so tests and several operators in one process never collide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

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
