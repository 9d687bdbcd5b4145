"""Prometheus metrics on a per-application registry (tests build many apps in one process).

Under the worker supervisor (``workers.py``) every worker starts with ``PROMETHEUS_MULTIPROC_DIR`` set:
prometheus-client then keeps each value in a file of that directory, and ``render`` answers the sum over
all workers (counters and histograms of workers that died included; gauges of live workers only: in-flight
and pool connections summed, ``backend_up`` the minimum, so one worker that cannot reach Redis shows).
Each worker copies its pool usage into the shared gauge every :data:`POOL_REFRESH_SECONDS` and when it
answers a scrape.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from req1_server.background import stop_task

if TYPE_CHECKING:
    from req1_server.db import Database

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
POOL_REFRESH_SECONDS = 5.0


def multiprocess_dir() -> str | None:
    """The shared directory when this process is one of several workers (read once, as prometheus-client
    does when it is imported)."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


MULTIPROC_DIR = multiprocess_dir()


class PoolCollector(Collector):
    """DB pool usage, read at scrape time."""

    def __init__(self) -> None:
        self.db: Database | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("req1_db_pool_connections", "Database pool connections", labels=["pool", "state"])
        if self.db is not None:
            for pool, stats in self.db.pool_stats().items():
                family.add_metric([pool, "open"], stats["size"])
                family.add_metric([pool, "idle"], stats["idle"])
                family.add_metric([pool, "in_use"], stats["size"] - stats["idle"])
                family.add_metric([pool, "max"], stats["max"])
        yield family


class Metrics:
    def __init__(self, build_sha: str | None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("req1_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=r)
        self.duration = Histogram(
            "req1_http_request_duration_seconds", "HTTP request duration", ["method", "route"],
            buckets=BUCKETS, registry=r,
        )
        self.in_flight = Gauge("req1_http_requests_in_flight", "Requests being handled", registry=r,
                               multiprocess_mode="livesum")
        self.backend_up = Gauge("req1_backend_up", "1 when a backend is reachable", ["backend"], registry=r,
                                multiprocess_mode="livemin")
        self.rate_limited = Counter("req1_rate_limited_total", "Requests refused by a rate limit", ["scope"],
                                    registry=r)
        self.rate_limit_skipped = Counter("req1_rate_limit_skipped_total",
                                          "Rate-limit checks skipped because Redis was down", registry=r)
        self.revocation_skipped = Counter("req1_revocation_checks_skipped_total",
                                          "Session revocation checks skipped because Redis was down", registry=r)
        self.build_info = Gauge("req1_build_info", "Build information", ["build_sha"], registry=r,
                                multiprocess_mode="livemax")
        self.build_info.labels(build_sha=build_sha or "unknown").set(1)
        self.pools = PoolCollector()
        self.pool_gauge: Gauge | None = None
        if MULTIPROC_DIR is None:
            r.register(self.pools)
        else:  # the workers' pools, summed through the shared directory
            self.pool_gauge = Gauge("req1_db_pool_connections", "Database pool connections", ["pool", "state"],
                                    registry=r, multiprocess_mode="livesum")

    def refresh_pools(self) -> None:
        if self.pool_gauge is None:
            return
        for family in self.pools.collect():
            for sample in family.samples:
                self.pool_gauge.labels(**sample.labels).set(sample.value)

    async def pool_refresher(self) -> AsyncIterator[None]:
        """While the app runs (a cleanup context), copy the pool usage into the shared gauge now and then."""
        if self.pool_gauge is None:
            yield
            return

        async def loop() -> None:
            while True:
                self.refresh_pools()
                await asyncio.sleep(POOL_REFRESH_SECONDS)

        task = asyncio.create_task(loop())
        try:
            yield
        finally:
            await stop_task(task, "the pool gauge refresher")

    def render(self) -> bytes:
        if MULTIPROC_DIR is None:
            return generate_latest(self.registry)
        self.refresh_pools()
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged, MULTIPROC_DIR)
        return generate_latest(merged)


METRICS: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)
