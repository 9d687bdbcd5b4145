"""Ranked full-text search over every module (spec §4.8); the SQL and highlighting are in store.search."""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import model_validator

from req1_server.access import visible_workspaces
from req1_server.apischema import envelope
from req1_server.db import database
from req1_server.http import json_response, page_envelope
from req1_server.routing import Routes
from req1_server.store.objects import object_json
from req1_server.store.search import highlight, search
from req1_server.typed import Paged, QueryModel, query_check, reject

routes = Routes(tag="search")


def _text(value: str, name: str) -> str:
    if not value.strip():
        raise reject(f"missing required parameter '{name}'")
    return value


class SearchText(QueryModel):
    q: Annotated[str, query_check(_text)]

    @model_validator(mode="before")
    @classmethod
    def blank_is_missing(cls, data: Any) -> Any:
        """An absent `q` gets the same message as a blank one."""
        return {"q": "", **data} if isinstance(data, dict) else data


class SearchQuery(Paged, SearchText):
    """`q` is checked before the paging parameters."""


@routes.get("/api/v1/search", query=SearchQuery, response=envelope("SearchHit"))
async def global_search(request: web.Request, query: SearchQuery) -> web.Response:
    """Search live objects of every module (of the caller's workspaces), best match first, with highlights."""
    within = await visible_workspaces(request)
    async with database(request).acquire_read(request) as conn:
        rows, total = await search(conn, query.q, query.page, within)
    items = [object_json(row) | {"module_name": row["module_name"], "project_id": row["project_id"],
                                 "workspace_id": row["workspace_id"], "rank": row["rank"], "highlight": highlight(row)}
             for row in rows]
    return json_response(page_envelope(items, total, query.page))
