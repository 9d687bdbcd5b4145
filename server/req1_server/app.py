"""Application assembly: middlewares, every resource module's routes, and the backends' lifecycle.

``create_app(settings)`` is all a caller needs (the CLI, the tests, the benchmark). Backends start in a
cleanup context: migrations (under the advisory lock) → PostgreSQL pools → Redis → S3, and close in
reverse order when the app shuts down.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from req1_server import resources
from req1_server.access import WorkspaceAccess
from req1_server.appkeys import LIMITER, ROUTE_SPECS, RUNTIME, SESSIONS, USER_CACHE, Runtime
from req1_server.auth import passwords
from req1_server.auth.gate import AuthGate
from req1_server.auth.sessions import Sessions
from req1_server.auth.usercache import UserCache
from req1_server.config import SETTINGS, Settings
from req1_server.db import DATABASE, Database, wait_for_postgres
from req1_server.errors import error_middleware
from req1_server.metrics import METRICS, Metrics
from req1_server.middleware import IN_FLIGHT, request_middleware, stamp_headers
from req1_server.migrate import migrate
from req1_server.ratelimit import RateLimiter
from req1_server.redisstore import REDIS, RedisStore
from req1_server.routing import ACCESS, GATE, Routes, RouteSpec, guarded
from req1_server.static import static_files, static_middleware_for
from req1_server.storage import STORAGE, Storage
from req1_server.webhooks import dispatcher
from req1_server.webhooks.dispatcher import WEBHOOKS

log = logging.getLogger("req1.app")
UPLOAD_SLACK = 1024 * 1024  # multipart framing around the largest allowed upload


def resource_routes(settings: Settings) -> list[Routes]:
    """The ``routes`` object of every module in RESOURCE_MODULES (plus test routes when enabled)."""
    names = list(resources.RESOURCE_MODULES)
    if settings.test_routes:
        names.append("req1_server.resources.testing")
    found = []
    for name in names:
        module_name = name if "." in name else f"req1_server.resources.{name}"
        module = importlib.import_module(module_name)
        routes = getattr(module, "routes", None)
        if not isinstance(routes, Routes):
            raise RuntimeError(f"{module_name} has no `routes = Routes()` object")
        found.append(routes)
    return found


def register(app: web.Application, settings: Settings) -> None:
    specs: list[RouteSpec] = []
    seen: set[tuple[str, str]] = set()
    for routes in resource_routes(settings):
        for spec in routes.specs:
            key = (spec.method, spec.path)
            if key in seen:
                raise RuntimeError(f"route {spec.method} {spec.path} is registered twice")
            seen.add(key)
            app.router.add_route(spec.method, spec.path, guarded(spec), name=spec.name)
            specs.append(spec)
    app[ROUTE_SPECS] = specs


async def backends(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    metrics = app[METRICS]
    await wait_for_postgres(settings.database_url)
    if settings.run_migrations:
        report = await migrate(settings.database_url, settings)
        if report.applied:
            log.info("migrations applied: %s", ", ".join(report.applied))
    db = await Database.connect(settings.database_url, settings.database_pool_size, settings.database_replica_url)
    app[DATABASE] = db
    metrics.pools.db = db
    store = RedisStore(settings.redis_url)
    store.on_state_change = lambda up: metrics.backend_up.labels(backend="redis").set(1 if up else 0)
    await store.start()
    app[REDIS] = store
    storage = Storage(settings)
    await storage.ensure_bucket()
    app[STORAGE] = storage
    access_ttl = settings.jwt_expiration_hours * 3600
    sessions = Sessions(store, settings.refresh_token_ttl_hours * 3600, access_ttl,
                        max_age_seconds=settings.session_max_age_hours * 3600)
    app[SESSIONS] = sessions
    limiter = RateLimiter(store, metrics, settings.rate_limit_enabled)
    app[LIMITER] = limiter
    app[USER_CACHE] = UserCache()
    gate = AuthGate(settings, db, store, sessions, limiter, metrics, app[USER_CACHE])
    db.recent_write = gate.wrote_recently
    app[GATE] = gate
    if settings.access_model == "workspace":
        app[ACCESS] = WorkspaceAccess(db)
    metrics.backend_up.labels(backend="database").set(1)
    try:
        yield
    finally:
        await store.close()
        await db.close()
        storage.close()


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[request_middleware, error_middleware],
        client_max_size=max(settings.max_upload_bytes, settings.max_json_bytes) + UPLOAD_SLACK,
    )
    app[SETTINGS] = settings
    passwords.POOL.configure(settings.password_hash_concurrency)
    app[RUNTIME] = Runtime()
    app[METRICS] = Metrics(settings.build_sha)
    app[IN_FLIGHT] = set()
    app.middlewares.append(static_middleware_for(static_files(app)))  # type: ignore[arg-type]
    app.on_response_prepare.append(stamp_headers)
    register(app, settings)
    app.cleanup_ctx.append(backends)
    app.cleanup_ctx.append(lambda a: a[METRICS].pool_refresher())  # workers: pool usage into the shared gauge
    app.cleanup_ctx.append(webhook_dispatcher)
    return app


async def webhook_dispatcher(app: web.Application) -> AsyncIterator[None]:
    """Send queued webhook deliveries while the app runs (webhooks/dispatcher.py)."""
    settings = app[SETTINGS]
    async with dispatcher.running(app[DATABASE], settings.database_url, settings.webhooks) as running:
        app[WEBHOOKS] = running
        yield
