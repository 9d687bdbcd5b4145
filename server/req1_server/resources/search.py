"""Ranked full-text search (spec §4.8): websearch syntax, ts_rank_cd, highlighted snippets.

The global route lives here; the per-module `?search=` of the object list reuses the same predicate,
rank and highlight SQL. Highlights come back from ts_headline with private-use sentinel markers, so
the text can be HTML-escaped in Python and only then given its `<mark>` tags.
"""

from __future__ import annotations

import html
from typing import Any

from aiohttp import web

from req1_server.apischema import PAGE, STR, Q, envelope
from req1_server.db import database
from req1_server.errors import bad_request
from req1_server.http import json_response, page_envelope, page_params
from req1_server.routing import Routes
from req1_server.store.objects import OBJECT_KEYS, object_json, prefixed

routes = Routes(tag="search")

START, STOP = "\ue000", "\ue001"
HEADING_OPTS = f"StartSel={START}, StopSel={STOP}, HighlightAll=true"
BODY_OPTS = f'StartSel={START}, StopSel={STOP}, MaxFragments=2, FragmentDelimiter=" … ", MinWords=12, MaxWords=30'
TSQUERY = "websearch_to_tsquery('english', $1)"
HIGHLIGHT_COLUMNS = f"""
CASE WHEN coalesce(p.heading, '') = '' THEN NULL
     ELSE ts_headline('english', p.heading, {TSQUERY}, '{HEADING_OPTS}') END AS hl_heading,
CASE WHEN coalesce(p.body_text, '') = '' THEN NULL
     ELSE ts_headline('english', p.body_text, {TSQUERY}, '{BODY_OPTS}') END AS hl_body
"""

GLOBAL = f"""
SELECT p.*, {HIGHLIGHT_COLUMNS} FROM (
  SELECT {prefixed("o")}, o.body_text, m.name AS module_name, m.project_id, pr.workspace_id,
         ts_rank_cd(o.search_vector, {TSQUERY}) AS rank
  FROM object o JOIN module m ON m.id = o.module_id JOIN project pr ON pr.id = m.project_id
  WHERE o.deleted_at IS NULL AND o.search_vector @@ {TSQUERY}
  ORDER BY rank DESC, o.updated_at DESC, o.id
  OFFSET $2 LIMIT $3
) p ORDER BY p.rank DESC, p.updated_at DESC, p.id
"""
GLOBAL_COUNT = f"SELECT count(*) FROM object o WHERE o.deleted_at IS NULL AND o.search_vector @@ {TSQUERY}"


def mark(text: str | None) -> str | None:
    """Escape the headline text, then turn the sentinels into `<mark>` tags."""
    if text is None:
        return None
    cleaned = html.escape(text, quote=False)
    return cleaned.replace(START, "<mark>").replace(STOP, "</mark>")


def highlight(row: Any) -> dict[str, str | None]:
    return {"heading": mark(row["hl_heading"]), "body": mark(row["hl_body"])}


def search_text(request: web.Request, name: str = "q") -> str:
    value = request.query.get(name, "")
    if not value.strip():
        raise bad_request(f"missing required parameter '{name}'")
    return value


@routes.get("/api/v1/search", query={"q": Q(STR, required=True), **PAGE}, response=envelope("SearchHit"))
async def global_search(request: web.Request) -> web.Response:
    """Search live objects of every module, best match first, with highlights."""
    query = search_text(request)
    page = page_params(request)
    async with database(request).acquire_read(request) as conn:
        rows = await conn.fetch(GLOBAL, query, page.offset, page.limit)
        if page.offset == 0 and len(rows) < page.limit:
            total = len(rows)
        else:
            total = await conn.fetchval(GLOBAL_COUNT, query)
    items = []
    for row in rows:
        item = object_json(row)
        item.update(module_name=row["module_name"], project_id=row["project_id"], workspace_id=row["workspace_id"],
                    rank=row["rank"], highlight=highlight(row))
        items.append(item)
    return json_response(page_envelope(items, total, page))


__all__ = ["OBJECT_KEYS", "highlight", "routes"]
