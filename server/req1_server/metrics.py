"""Prometheus metrics on a per-application registry (tests build many apps in one process)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from req1_server.db import Database

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


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
        self.in_flight = Gauge("req1_http_requests_in_flight", "Requests being handled", registry=r)
        self.backend_up = Gauge("req1_backend_up", "1 when a backend is reachable", ["backend"], registry=r)
        self.rate_limited = Counter("req1_rate_limited_total", "Requests refused by a rate limit", ["scope"],
                                    registry=r)
        self.rate_limit_skipped = Counter("req1_rate_limit_skipped_total",
                                          "Rate-limit checks skipped because Redis was down", registry=r)
        self.revocation_skipped = Counter("req1_revocation_checks_skipped_total",
                                          "Session revocation checks skipped because Redis was down", registry=r)
        self.build_info = Gauge("req1_build_info", "Build information", ["build_sha"], registry=r)
        self.build_info.labels(build_sha=build_sha or "unknown").set(1)
        self.pools = PoolCollector()
        r.register(self.pools)

    def render(self) -> bytes:
        return generate_latest(self.registry)


METRICS: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)
