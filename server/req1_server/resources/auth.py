"""Auth routes (§2.3): login, register, me, change-password, logout, refresh, link-token."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from aiohttp import web

from req1_server.apischema import INT, ROLE, STR, UUID, array, obj, ref
from req1_server.appkeys import SESSIONS
from req1_server.auth import tokens
from req1_server.auth.gate import CLAIMS
from req1_server.auth.passwords import hash_password, needs_rehash, password_problem, verify_password
from req1_server.auth.sessions import RefreshRejected, RefreshReplayed
from req1_server.config import SETTINGS
from req1_server.db import database
from req1_server.errors import bad_request, forbidden, unauthorized, unavailable
from req1_server.http import json_response, no_content
from req1_server.ids import new_id
from req1_server.net import client_ip
from req1_server.redisstore import RedisUnavailable
from req1_server.resources.users import Email
from req1_server.routing import ACCESS, Role, Routes, user_of
from req1_server.store import audit, members, users
from req1_server.typed import BodyModel, Name, Text

log = logging.getLogger("req1.auth")
routes = Routes(tag="auth")

INVALID_CREDENTIALS = "invalid credentials"


async def audited(request: web.Request, action: str, row: Any, **details: Any) -> None:
    """A login event in the audit log (§7), in its own transaction: a refused login leaves its entry too."""
    user_id = row["id"] if row is not None else None
    async with database(request).acquire() as conn:
        await audit.record(conn, action, "app_user", user_id, user_id=user_id if action != "login_failed" else None,
                           details=details or None, ip=client_ip(request, request.app[SETTINGS].trust_proxy))


async def login_response(request: web.Request, row: Any, sid: str, refresh: str | None) -> web.Response:
    settings = request.app[SETTINGS]
    token, exp = tokens.issue(settings.jwt_secret, row["id"], row["email"], row["role"], sid,
                              settings.jwt_expiration_hours * 3600)
    return json_response({
        "token": token,
        "user": users.public(row),
        "refresh_token": refresh,
        "expires_at": dt.datetime.fromtimestamp(exp, dt.UTC),
    })


class Credentials(BodyModel):
    email: Text
    password: Text


class Registration(BodyModel):
    email: Email
    password: Text
    display_name: Name


class PasswordChange(BodyModel):
    old_password: Text
    new_password: Text


class Refresh(BodyModel):
    refresh_token: Text


@routes.post("/api/v1/auth/login", auth=False, body=Credentials, response=ref("Login"))
async def login(request: web.Request, body: Credentials) -> web.Response:
    """Exchange email and password for an access token and a refresh token."""
    password = body.password
    db = database(request)
    async with db.acquire() as conn:
        row = await users.by_email(conn, body.email.strip())
    hashed = row["password_hash"] if row is not None else None
    if row is not None and hashed is None:
        await verify_password(password, None)  # same cost as a real check
        await audited(request, "login_failed", row, email=body.email)
        raise unauthorized("account has no password set")
    if not await verify_password(password, hashed) or row is None:
        await audited(request, "login_failed", row, email=body.email)
        raise unauthorized(INVALID_CREDENTIALS)
    if not row["active"]:
        await audited(request, "login_failed", row, email=body.email)
        raise unauthorized("account is disabled")
    if hashed is not None and needs_rehash(hashed):
        new_hash = await hash_password(password)
        async with db.acquire() as conn:
            await users.set_password(conn, row["id"], new_hash, replacing=hashed)
        log.info("rehashed a legacy password hash", extra={"user": str(row["id"])})
    sessions = request.app[SESSIONS]
    sid = sessions.new_sid()
    refresh = await sessions.create(row["id"], sid)
    await audited(request, "login", row)
    return await login_response(request, row, sid, refresh)


def registration_open(request: web.Request) -> None:
    if not request.app[SETTINGS].registration_enabled:
        raise forbidden("registration is disabled")


@routes.post("/api/v1/auth/register", auth=False, status=201, response=ref("AppUser"), body=Registration,
             precondition=registration_open)
async def register(request: web.Request, body: Registration) -> web.Response:
    """Self-registration as a viewer (only with REGISTRATION_ENABLED=true)."""
    problem = password_problem(body.password)
    if problem:
        raise bad_request(problem)
    password_hash = await hash_password(body.password)
    async with database(request).acquire() as conn:
        row = await users.insert(conn, new_id(), body.email, body.display_name.strip(), Role.VIEWER, True,
                                 password_hash)
    return json_response(users.public(row), status=201)


MEMBERSHIP = obj(["workspace_id", "role"], workspace_id=UUID, role=ROLE)


@routes.get("/api/v1/auth/me", response=obj(["id", "email", "role", "display_name"], id=UUID, email=STR, role=ROLE,
                                             display_name=STR, workspaces=array(MEMBERSHIP)))
async def me(request: web.Request) -> web.Response:
    """The caller as the database sees them now; with per-workspace access also their role in each workspace
    they belong to (ACCESS_MODEL=global keeps the original shape)."""
    user = user_of(request)
    me: dict[str, Any] = {"id": user.id, "email": user.email, "role": user.role.value,
                          "display_name": user.display_name}
    if request.app.get(ACCESS) is not None:
        async with database(request).acquire() as conn:
            me["workspaces"] = [dict(r) for r in await members.of_user(conn, user.id)]
    return json_response(me)


@routes.post("/api/v1/auth/change-password", role=Role.VIEWER, status=204, body=PasswordChange)
async def change_password(request: web.Request, body: PasswordChange) -> web.Response:
    """Change one's own password; every other login session is revoked (503 and no change while the session
    store is down, since the other sessions could not be revoked)."""
    user = user_of(request)
    old, new = body.old_password, body.new_password
    problem = password_problem(new)
    if problem:
        raise bad_request(problem)
    db = database(request)
    async with db.acquire() as conn:
        row = await users.by_id(conn, user.id)
    if row is None or not await verify_password(old, row["password_hash"]):
        raise unauthorized("current password is incorrect")
    sessions = request.app[SESSIONS]
    stored = sessions.store.configured  # without REDIS_URL there are no sessions to revoke
    try:
        if stored:
            await sessions.user_sids(user.id)  # reachable now, before anything changes
    except RedisUnavailable:
        raise unavailable("session store unavailable") from None
    new_hash = await hash_password(new)
    async with db.acquire() as conn:
        await users.set_password(conn, user.id, new_hash)
    try:
        if stored:
            await sessions.revoke_all(user.id, keep_sid=user.session_id)
    except RedisUnavailable:
        log.error("password changed but other sessions not revoked: redis went down", extra={"user": str(user.id)})
        raise unavailable("session store unavailable") from None
    return no_content()


@routes.post("/api/v1/auth/logout", role=Role.VIEWER, status=204)
async def logout(request: web.Request) -> web.Response:
    """Revoke this login session at once (its access and refresh tokens stop working)."""
    user = user_of(request)
    claims: tokens.Claims | None = request.get(CLAIMS)
    if user.session_id is None:
        return no_content()
    try:
        await request.app[SESSIONS].revoke(user.session_id, user.id, claims.expires_at if claims else None)
    except RedisUnavailable:
        raise unavailable("session store unavailable") from None
    await audited(request, "logout", {"id": user.id})
    return no_content()


@routes.post("/api/v1/auth/refresh", auth=False, body=Refresh, response=ref("Login"))
async def refresh(request: web.Request, body: Refresh) -> web.Response:
    """Rotate a refresh token into a new access token and refresh token (same login session)."""
    token = body.refresh_token
    sessions = request.app[SESSIONS]
    try:
        user_id, sid, new_refresh = await sessions.rotate(token)
    except RedisUnavailable:
        raise unavailable("session store unavailable") from None
    except RefreshReplayed as replay:  # a stolen token or a client bug: the session is gone, the event recorded
        await audited(request, "refresh_reuse", {"id": replay.user_id} if replay.user_id else None)
        raise unauthorized("invalid or expired refresh token") from None
    except RefreshRejected:
        raise unauthorized("invalid or expired refresh token") from None
    async with database(request).acquire() as conn:
        row = await users.by_id(conn, user_id)
    if row is None or not row["active"]:
        await sessions.store.run_or(lambda r: r.delete("req1:session:" + sid), 0)
        raise unauthorized("invalid or expired refresh token")
    return await login_response(request, row, sid, new_refresh)


@routes.post("/api/v1/auth/link-token", role=Role.VIEWER, response=obj(["token", "expires_in"], token=STR,
                                                                             expires_in=INT))
async def link_token(request: web.Request) -> web.Response:
    """A 60-second token usable only as ?token= on download, export and publish routes."""
    user = user_of(request)
    settings = request.app[SETTINGS]
    token, _ = tokens.issue(settings.jwt_secret, user.id, user.email, user.role.value, user.session_id or "link",
                            tokens.LINK_TOKEN_SECONDS, scope="link")
    return json_response({"token": token, "expires_in": tokens.LINK_TOKEN_SECONDS})
