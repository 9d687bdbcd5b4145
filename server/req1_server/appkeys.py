"""Typed application keys for the platform's shared objects, importable without importing app.py."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from req1_server.auth.sessions import Sessions
from req1_server.auth.usercache import UserCache
from req1_server.ratelimit import RateLimiter
from req1_server.routing import RouteSpec


@dataclass
class Runtime:
    """Mutable process state the handlers read: shutting down flips readiness to 503 at once."""

    shutting_down: bool = False


RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime", Runtime)
ROUTE_SPECS: web.AppKey[list[RouteSpec]] = web.AppKey("route_specs", list)
SESSIONS: web.AppKey[Sessions] = web.AppKey("sessions", Sessions)
LIMITER: web.AppKey[RateLimiter] = web.AppKey("limiter", RateLimiter)
USER_CACHE: web.AppKey[UserCache] = web.AppKey("user_cache", UserCache)
