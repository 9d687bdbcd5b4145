"""The one place object history is written and links turn suspect (spec §4.4, §4.6).

Every mutation of an object, whichever way it comes (API, CSV, ReqIF, templates, demo seed), snapshots the
object in the same transaction; a changed fingerprint flags the links at either end. Set-based statements.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

import asyncpg

# the columns a history row copies from the object, and the values it takes them from
SNAPSHOT_COLUMNS = ("object_id, module_id, version, attribute_values, heading, body, changed_by, change_type, "
                    "content_fingerprint, parent_id, position, level, classification, deleted_at, changed_at")


def snapshot(source: str, user: str, change: str) -> str:
    """``INSERT INTO object_history … SELECT … FROM source`` (source: a table or CTE with object columns)."""
    return f"""
INSERT INTO object_history ({SNAPSHOT_COLUMNS})
SELECT id, module_id, current_version, attributes, heading, body, {user}, {change}, content_fingerprint, parent_id,
       position, level, classification, deleted_at, now()
FROM {source}"""


HISTORY = snapshot("object", "$2", "$3") + " WHERE id = ANY($1::uuid[])"
SUSPECT = """
UPDATE link l SET suspect = true, updated_at = now()
FROM unnest($1::uuid[], $2::text[]) AS u(id, fingerprint)
WHERE NOT l.suspect AND (
      (l.source_object_id = u.id AND l.source_fingerprint IS DISTINCT FROM u.fingerprint)
   OR (l.target_object_id = u.id AND l.target_fingerprint IS DISTINCT FROM u.fingerprint))
"""
BUMP = "UPDATE object SET current_version = current_version + 1, updated_at = now() WHERE id = ANY($1::uuid[])"


async def write_history(
    conn: asyncpg.Connection, ids: Sequence[uuid.UUID], user_id: uuid.UUID | None, change_type: str
) -> None:
    """Snapshot the current state of `ids` (call after the mutation, in its transaction)."""
    if ids:
        await conn.execute(HISTORY, list(ids), user_id, change_type)


async def bump_and_record(
    conn: asyncpg.Connection, ids: Iterable[uuid.UUID], user_id: uuid.UUID | None, change_type: str
) -> None:
    """A version bump plus a history row for objects that changed only structurally."""
    id_list = list(ids)
    if id_list:
        await conn.execute(BUMP, id_list)
        await write_history(conn, id_list, user_id, change_type)


async def flag_suspects(conn: asyncpg.Connection, changed: Sequence[tuple[uuid.UUID, str]]) -> None:
    """Suspect rule (spec §4.6): links at either end of a changed fingerprint become suspect."""
    if changed:
        await conn.execute(SUSPECT, [c[0] for c in changed], [c[1] for c in changed])
