"""The audit log (spec §7), admin only: filtered entries, newest first, and (Δ) the verification of the hash
chain that makes it tamper-evident. The entries themselves are written by the database (migration 0017)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from aiohttp import web
from pydantic import Field

from req1_server.apischema import BOOL, INT, STR, envelope, nullable, obj
from req1_server.db import database
from req1_server.http import json_response, page_envelope
from req1_server.routing import Role, Routes
from req1_server.store import audit
from req1_server.typed import Paged, QId, QText, query_check, reject

routes = Routes(tag="audit")


def _time(value: str, name: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        shown = {"since": "from", "until": "to"}.get(name, name)
        raise reject(f"query parameter '{shown}' must be an ISO-8601 time") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


QTime = Annotated[dt.datetime | None, query_check(_time)]


class AuditQuery(Paged):
    """Exact filters, ANDed; ``from``/``to`` bound ``created_at`` (inclusive)."""

    user_id: QId = None
    entity_type: QText = None
    entity_id: QId = None
    action: QText = None
    since: QTime = Field(None, alias="from")
    until: QTime = Field(None, alias="to")

    def filters(self) -> audit.Filters:
        return audit.Filters(self.user_id, self.entity_type, self.entity_id, self.action, self.since, self.until)


VERIFICATION = obj(["valid", "entries", "head", "first_invalid"], valid=BOOL, entries=INT,
                   head=obj(["id", "hash"], id=INT, hash=STR),
                   first_invalid=nullable(obj(["id", "problem"], id=INT, problem=STR)))


@routes.get("/api/v1/audit-log", role=Role.ADMIN, query=AuditQuery, response=envelope("AuditLogEntry"))
async def list_audit_log(request: web.Request, query: AuditQuery) -> web.Response:
    """Audit entries, newest first; filters are exact and ANDed."""
    async with database(request).acquire() as conn:
        rows, total = await audit.page(conn, query.filters(), query.page)
    return json_response(page_envelope(rows, total, query.page))


@routes.get("/api/v1/audit-log/verify", role=Role.ADMIN, response=VERIFICATION)
async def verify_audit_log(request: web.Request) -> web.Response:
    """Δ: recompute the hash chain; ``valid`` false names the first altered or missing entry.

    ``head`` is the hash of the last entry: recorded outside the database (a ticket, a signed report), it also
    shows later that the chain was not rewritten wholesale.
    """
    async with database(request).acquire() as conn:
        return json_response(await audit.verify(conn))
