"""Ranked full-text search (spec §4.8): websearch syntax, ts_rank_cd, highlighted snippets.

The global search lives here; the per-module `?search=` of the object list (``store.objects``) reuses the
same predicate, rank and highlight SQL. Highlights come back from ts_headline with private-use sentinel
markers, so the text can be HTML-escaped in Python and only then given its `<mark>` tags.
"""

from __future__ import annotations

import html
import uuid
from typing import Any

import asyncpg

from req1_server.http import Page
from req1_server.store.access import in_workspaces, module_in_workspaces
from req1_server.store.objects import prefixed

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
  WHERE o.deleted_at IS NULL AND o.search_vector @@ {TSQUERY} AND {in_workspaces("pr.workspace_id", 4)}
  ORDER BY rank DESC, o.updated_at DESC, o.id
  OFFSET $2 LIMIT $3
) p ORDER BY p.rank DESC, p.updated_at DESC, p.id
"""
GLOBAL_COUNT = f"""
SELECT count(*) FROM object o WHERE o.deleted_at IS NULL AND o.search_vector @@ {TSQUERY}
AND {module_in_workspaces("o.module_id", 2)}
"""


def mark(text: str | None) -> str | None:
    """Escape the headline text, then turn the sentinels into `<mark>` tags."""
    if text is None:
        return None
    cleaned = html.escape(text, quote=False)
    return cleaned.replace(START, "<mark>").replace(STOP, "</mark>")


def highlight(row: Any) -> dict[str, str | None]:
    return {"heading": mark(row["hl_heading"]), "body": mark(row["hl_body"])}


async def search(conn: asyncpg.Connection, text: str, window: Page,
                 within: list[uuid.UUID] | None = None) -> tuple[list[asyncpg.Record], int]:
    """Live objects of every module (of the workspaces ``within``; None: all) matching ``text``, best first."""
    rows = await conn.fetch(GLOBAL, text, window.offset, window.limit, within)
    if window.offset == 0 and len(rows) < window.limit:
        return rows, len(rows)
    return rows, await conn.fetchval(GLOBAL_COUNT, text, within)
