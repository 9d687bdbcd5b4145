"""The request gate: who is calling, may they (rate limits), and per-request checks of §2.2.

``routing.guarded`` calls :meth:`AuthGate.enter` before every handler; the role comparison itself
stays in routing.py. Order: token → revocation (fail open while Redis is down, counted) → rate limit
→ user loaded from PostgreSQL, or from a ≤ 2 s per-process cache invalidated by user writes (missing → 401,
inactive → 401).
"""

from __future__ import annotations

import logging
import uuid

from aiohttp import web

from req1_server import actor
from req1_server.auth import links, tokens
from req1_server.auth.sessions import REVOKED, Sessions
from req1_server.auth.usercache import UserCache
from req1_server.config import Settings
from req1_server.db import RECENT_WRITE_SECONDS, Database
from req1_server.errors import unauthorized
from req1_server.metrics import Metrics
from req1_server.net import client_ip
from req1_server.ratelimit import WINDOW_SECONDS, RateLimiter
from req1_server.redisstore import RedisStore, RedisUnavailable
from req1_server.routing import USER, CurrentUser, Role, RouteSpec
from req1_server.store.users import current_user

log = logging.getLogger("req1.auth")

# per client IP, RATE_LIMIT_AUTH_PER_MINUTE: every route that checks a password or a refresh token
AUTH_SCOPE_PATHS = frozenset({"/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/auth/refresh",
                              "/api/v1/auth/change-password"})
MISSING_HEADER = "missing or invalid Authorization header"
INVALID_TOKEN = "invalid or expired token"
DISABLED = "account is disabled"
RECENT_WRITE = "req1:wrote:"
CLAIMS: web.RequestKey[tokens.Claims] = web.RequestKey("req1.claims", tokens.Claims)


class AuthGate:
    def __init__(self, settings: Settings, db: Database, store: RedisStore, sessions: Sessions,
                 limiter: RateLimiter, metrics: Metrics, users: UserCache | None = None) -> None:
        self.settings = settings
        self.users = users if users is not None else UserCache()
        self.db = db
        self.store = store
        self.sessions = sessions
        self.limiter = limiter
        self.metrics = metrics

    async def enter(self, request: web.Request, spec: RouteSpec) -> CurrentUser | None:
        api = spec.path.startswith("/api/v1/")
        ip = client_ip(request, self.settings.trust_proxy)
        if api and spec.path in AUTH_SCOPE_PATHS:
            await self.limiter.hit("auth", ip, self.settings.rate_limit_auth_per_minute)
        mutating = request.method not in actor.SAFE_METHODS
        if not spec.auth:
            if api:
                await self.limiter.hit("api", "ip:" + ip, self.settings.rate_limit_per_minute)
            if mutating:
                actor.act_as(None, ip)
            return None
        try:
            user_id, sid = await self.identify(request, spec)
        except Exception:
            if api:  # failed authentication still counts against the caller's IP
                await self.limiter.hit("api", "ip:" + ip, self.settings.rate_limit_per_minute)
            raise
        await self.redis_checks(sid, "user:" + str(user_id) if api else None)
        if user_id == links.NIL_USER:
            return CurrentUser(user_id, "signed-url", Role.VIEWER, "signed URL", None)
        row = self.users.get(user_id)
        if row is None:
            ticket = self.users.ticket()
            async with self.db.acquire() as conn:
                row = await conn.fetchrow(
                    "SELECT id, email, display_name, role, active FROM app_user WHERE id = $1", user_id
                )
            if row is not None:
                self.users.put(user_id, row, ticket)
        if row is None:
            raise unauthorized(INVALID_TOKEN)
        if not row["active"]:
            raise unauthorized(DISABLED)
        if mutating:
            actor.act_as(user_id, ip)
        return current_user(row, sid)

    async def identify(self, request: web.Request, spec: RouteSpec) -> tuple[uuid.UUID, str | None]:
        """(user id, session id) from the bearer token, a ``?token=`` or a signed URL."""
        header = request.headers.get("Authorization")
        query_allowed = spec.query_token and request.method in ("GET", "HEAD")
        if header is None and query_allowed:
            if "signature" in request.query:
                user = links.verify(
                    self.settings.jwt_secret, request.path, request.query.get("expires", ""),
                    request.query.get("uid", ""), request.query.get("signature", ""),
                )
                if user is None:
                    raise unauthorized("invalid or expired download link")
                return user, None
            if "token" in request.query:
                claims = self.verify_token(request.query["token"])
                return claims.user_id, claims.session_id
        if header is None:
            raise unauthorized(MISSING_HEADER)
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized(MISSING_HEADER)
        claims = self.verify_token(token.strip())
        if claims.scope is not None:  # link tokens work only as ?token= on download routes
            raise unauthorized(INVALID_TOKEN)
        request[CLAIMS] = claims
        return claims.user_id, claims.session_id

    def verify_token(self, token: str) -> tokens.Claims:
        try:
            return tokens.verify(self.settings.jwt_secret, token)
        except tokens.TokenError:
            raise unauthorized(INVALID_TOKEN) from None

    async def redis_checks(self, sid: str | None, rate_ident: str | None) -> None:
        """Revocation of ``sid`` and the per-user rate limit in one Redis round trip; fail open."""
        rate_key = None
        window = 0
        if rate_ident is not None and self.limiter.enabled:
            window, rate_key = self.limiter.window_key("api", rate_ident)
        if sid is None and rate_key is None:
            return

        async def run(r):  # type: ignore[no-untyped-def]
            if rate_key is None and sid is not None:  # the revocation check alone: one command, no pipeline
                return [await r.exists(REVOKED + sid)]
            async with r.pipeline(transaction=False) as pipe:
                if sid is not None:
                    pipe.exists(REVOKED + sid)
                if rate_key is not None:
                    pipe.incr(rate_key)
                    pipe.expire(rate_key, WINDOW_SECONDS + 5)
                return await pipe.execute()

        try:
            results = await self.store.run(run)
        except RedisUnavailable:
            if sid is not None:
                self.metrics.revocation_skipped.inc()
            if rate_key is not None:
                self.metrics.rate_limit_skipped.inc()
            return
        if sid is not None and results[0]:
            raise unauthorized(INVALID_TOKEN)
        if rate_key is not None:
            self.limiter.judge("api", int(results[-2]), window, self.settings.rate_limit_per_minute)

    async def leave(self, request: web.Request, spec: RouteSpec, response: web.StreamResponse) -> None:
        """Remember a successful write for 5 s so that user's heavy reads stay on the primary (§6.6)."""
        if self.db.replica is None or spec.method in ("GET", "HEAD") or response.status >= 400:
            return
        user: CurrentUser | None = request.get(USER)
        if user is None:
            return
        await self.store.run_or(lambda r: r.set(RECENT_WRITE + str(user.id), "1", ex=RECENT_WRITE_SECONDS), None)

    async def wrote_recently(self, request: web.Request) -> bool:
        user: CurrentUser | None = request.get(USER)
        if user is None:
            return False
        return bool(await self.store.run_or(lambda r: r.exists(RECENT_WRITE + str(user.id)), 0))
