"""Notifications (extended contract §6): the caller's own, newest first; the unread count the UI polls; marking
one or all read. They are written by the database when a comment mentions someone (migration 0035)."""

from __future__ import annotations

from aiohttp import web

from req1_server.access import visible_workspaces
from req1_server.apischema import BOOL, COMPONENTS, INT, JSON_OBJ, STR, TIME, UUID, Body, envelope, nullable, obj, ref
from req1_server.db import database
from req1_server.errors import not_found
from req1_server.http import json_response, page_envelope
from req1_server.routing import Role, Routes, user_of
from req1_server.store import notifications as store
from req1_server.typed import ById, Paged, QBool

routes = Routes(tag="notifications")
NO_BODY = Body(obj(), required=False)  # the UI posts `{}` or nothing; either is fine

COMPONENTS.update({  # this feature's response shape, kept beside it
    "Notification": obj(["id", "user_id", "notification_type", "title", "body", "entity_type", "entity_id", "read",
                         "created_at"],
                        id=UUID, user_id=UUID, notification_type={"type": "string",
                                                                   "enum": ["mention", "review_assignment"]},
                        title=STR, body=STR, entity_type=STR, entity_id=nullable(UUID), read=BOOL, created_at=TIME,
                        target=nullable(JSON_OBJ)),
})


class NotificationQuery(Paged):
    unread_only: QBool = False


@routes.get("/api/v1/notifications", query=NotificationQuery, response=envelope("Notification"))
async def list_notifications(request: web.Request, query: NotificationQuery) -> web.Response:
    """The caller's notifications, newest first (`unread_only=true` for the unread ones)."""
    within = await visible_workspaces(request)
    async with database(request).acquire() as conn:
        rows, total = await store.page(conn, user_of(request).id, query.unread_only, query.page, within)
    return json_response(page_envelope(rows, total, query.page))


@routes.get("/api/v1/notifications/unread-count", response=obj(["count"], count=INT))
async def unread_count(request: web.Request) -> web.Response:
    """How many of the caller's notifications are unread."""
    within = await visible_workspaces(request)
    async with database(request).acquire() as conn:
        return json_response({"count": await store.unread(conn, user_of(request).id, within)})


@routes.post("/api/v1/notifications/{id}/read", role=Role.VIEWER, params=ById, body=NO_BODY,
             response=ref("Notification"))
async def read_notification(request: web.Request, path: ById) -> web.Response:
    """Mark one of the caller's notifications read (again is fine); another user's is not found."""
    within = await visible_workspaces(request)
    async with database(request).acquire() as conn:
        row = await store.mark_read(conn, user_of(request).id, path.id, within)
    if row is None:
        raise not_found("notification", path.id)
    return json_response(row)


@routes.post("/api/v1/notifications/read-all", role=Role.VIEWER, body=NO_BODY,
             response=obj(["updated"], updated=INT))
async def read_all(request: web.Request) -> web.Response:
    """Mark every unread notification of the caller read; how many were."""
    within = await visible_workspaces(request)
    async with database(request).acquire() as conn:
        return json_response({"updated": await store.mark_all_read(conn, user_of(request).id, within)})
