"""Webhooks of a module (extended contract §8), admin only: the subscriptions (declared with the generic CRUD),
their delivery log and redelivery. Deliveries are queued by the database and sent by ``webhooks/dispatcher.py``."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from aiohttp import web
from pydantic import Field

from req1_server.apischema import BOOL, COMPONENTS, INT, JSON_OBJ, STR, TIME, UUID, envelope, nullable, obj, ref
from req1_server.config import CURRENT_SETTINGS
from req1_server.db import database
from req1_server.errors import bad_request
from req1_server.http import json_response, page_envelope
from req1_server.resources.crud import Resource, Values, declare
from req1_server.routing import CurrentUser, Role, Routes
from req1_server.store import webhooks as store
from req1_server.store.rows import require_module
from req1_server.typed import BodyModel, LongPaged, Name, OptBool, OptName, PathId, PathModel, as_str, checked, reject
from req1_server.webhooks import destinations

routes = Routes(tag="webhooks")

EVENTS = ("object.created", "object.updated", "object.deleted")
DEFAULT_EVENTS = ",".join(EVENTS)

COMPONENTS.update({  # this feature's response shapes, kept beside it
    "Webhook": obj(["id", "module_id", "name", "url", "secret", "events", "active", "created_at", "updated_at"],
                   id=UUID, module_id=UUID, name=STR, url=STR, secret=nullable(STR), events=STR, active=BOOL,
                   created_at=TIME, updated_at=TIME),
    "WebhookDelivery": obj(["id", "webhook_id", "event", "payload", "status", "attempts", "last_status_code",
                            "last_error", "next_attempt_at", "created_at", "delivered_at"],
                           id=UUID, webhook_id=UUID, event=STR, payload=JSON_OBJ,
                           status={"type": "string", "enum": ["pending", "success", "failed"]}, attempts=INT,
                           last_status_code=nullable(INT), last_error=nullable(STR), next_attempt_at=nullable(TIME),
                           created_at=TIME, delivered_at=nullable(TIME)),
})


def _url(value: Any, name: str) -> str:
    as_str(value, name)
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise reject("url must be an absolute http or https URL")
    return str(value).strip()


def _events(value: Any, name: str) -> str:
    as_str(value, name)
    wanted = [e.strip() for e in value.split(",") if e.strip()]
    for event in wanted:
        if event not in EVENTS:
            raise reject(f"unknown event '{event}'")
    if not wanted:
        raise reject("events must name at least one of: " + ", ".join(EVENTS))
    return ",".join(wanted)


Url = Annotated[str, checked(_url, required=True)]
OptUrl = Annotated[str | None, checked(_url)]
OptSecret = Annotated[str | None, checked(as_str)]
Events = Annotated[str | None, checked(_events)]


class WebhookCreate(BodyModel):
    check_order = ("name", "url", "events")

    name: Name
    url: Url
    secret: OptSecret = Field(None, description="HMAC-SHA256 key; deliveries are signed when set")
    events: Events = Field(DEFAULT_EVENTS, description="comma-separated: " + DEFAULT_EVENTS)
    active: OptBool = True


class WebhookPatch(BodyModel):
    check_order = ("name", "url", "events")

    name: OptName = None
    url: OptUrl = None
    secret: OptSecret = Field(None, description="null removes the secret")
    events: Events = None
    active: OptBool = None


def check_destination(url: str | None) -> None:
    """A literal private address (or localhost) is refused when saved; names are checked at every send."""
    if url and not CURRENT_SETTINGS.get().webhooks.allow_private and destinations.literal_refused(url):
        raise bad_request(destinations.NOT_ALLOWED)


async def on_create(conn: Any, user: CurrentUser, values: Values) -> Values:
    check_destination(values.get("url"))
    return values


async def on_update(conn: Any, user: CurrentUser, row: Any, updates: Values) -> Values:
    check_destination(updates.get("url"))
    return updates


declare(routes, "/api/v1/modules/{module_id}/webhooks", Resource(
    store.WEBHOOKS, WebhookCreate, WebhookPatch, "webhook", "webhooks", "Webhook", write_role=Role.ADMIN,
    read_role=Role.ADMIN, parent_param="module_id", parent_check=require_module,
    parent_checked_on=frozenset({"list", "create", "get", "update", "delete"}), paging=None,
    on_create=on_create, on_update=on_update,
    docs={"list": "Webhooks of a module, by creation (a plain array).",
          "create": "Subscribe a URL to the module's object events; deliveries are signed when a secret is set."},
), __name__)


class DeliveryPath(PathModel):
    module_id: PathId
    id: PathId


class RedeliverPath(PathModel):
    module_id: PathId
    id: PathId
    delivery_id: PathId


@routes.get("/api/v1/modules/{module_id}/webhooks/{id}/deliveries", role=Role.ADMIN, params=DeliveryPath,
            query=LongPaged, response=envelope("WebhookDelivery"))
async def list_deliveries(request: web.Request, path: DeliveryPath, query: LongPaged) -> web.Response:
    """A webhook's deliveries, newest first."""
    async with database(request).acquire() as conn:
        await store.require_webhook(conn, path.module_id, path.id)
        rows, total = await store.deliveries(conn, path.id, query.page)
    return json_response(page_envelope(rows, total, query.page))


@routes.post("/api/v1/modules/{module_id}/webhooks/{id}/deliveries/{delivery_id}/redeliver", role=Role.ADMIN,
             params=RedeliverPath, response=ref("WebhookDelivery"))
async def redeliver(request: web.Request, path: RedeliverPath) -> web.Response:
    """Queue a new attempt of a delivery now (whatever its status); 200 with the delivery."""
    async def queue_again(conn: Any) -> Any:
        await store.require_webhook(conn, path.module_id, path.id)
        return await store.redeliver(conn, path.id, path.delivery_id)

    return json_response(await database(request).transaction(queue_again))
