"""E-signatures (extended contract §3.4, migration 0050): the signed entity's current state, the immutable rows,
their audit entries, and verification.

An object's state is its ``current_version`` and ``content_fingerprint``; any other entity's is no version and
the fingerprint of its row without timestamps (``domain/esignatures.row_fingerprint``). Entity tables that do
not exist yet (features not shipped) have no entities: 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from req1_server.domain.esignatures import ENTITY_TYPES, NOT_FOUND_WORDS, Signed, row_fingerprint
from req1_server.domain.ids import new_id
from req1_server.errors import not_found
from req1_server.store import audit

COLUMNS = ("id, user_id, entity_type, entity_id, meaning, signature_hash, ip_address, created_at, signer_email, "
           "signer_name, entity_version, entity_fingerprint")
OBJECT_STATE = "SELECT current_version, content_fingerprint FROM object WHERE id = $1 AND deleted_at IS NULL"
TABLE_EXISTS = "SELECT to_regclass($1) IS NOT NULL"
INSERT = f"""
INSERT INTO e_signature (id, user_id, signer_email, signer_name, entity_type, entity_id, entity_version,
                         entity_fingerprint, meaning, signature_hash, ip_address, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
RETURNING {COLUMNS}
"""
FOR_ENTITY = f"SELECT {COLUMNS} FROM e_signature WHERE entity_type = $1 AND entity_id = $2 ORDER BY created_at, id"
ONE = f"SELECT {COLUMNS} FROM e_signature WHERE id = $1"
# the object's module settings and who wrote its latest version (four-eyes for objects, FR-632)
OBJECT_REVIEW = """
SELECT m.signature_config,
       (SELECT h.changed_by FROM object_history h WHERE h.object_id = o.id ORDER BY h.version DESC LIMIT 1)
           AS last_modifier
FROM object o JOIN module m ON m.id = o.module_id
WHERE o.id = $1
"""


@dataclass(frozen=True)
class EntityState:
    version: int | None
    fingerprint: str


async def state(conn: asyncpg.Connection, entity_type: str, entity_id: uuid.UUID,
                lock: bool = False) -> EntityState | None:
    """The entity as it is now, or None when it does not exist (a soft-deleted object does not). ``lock``: held
    (FOR SHARE) until the transaction ends, so the state signed is the state committed beside the signature —
    an edit or a delete waits, and a package delete then sees the signature (409)."""
    suffix = " FOR SHARE" if lock else ""
    if entity_type == "object":
        row = await conn.fetchrow(OBJECT_STATE + suffix, entity_id)
        return None if row is None else EntityState(row["current_version"], row["content_fingerprint"])
    assert entity_type in ENTITY_TYPES  # the table name is the entity type: never text from a request
    if not await conn.fetchval(TABLE_EXISTS, entity_type):
        return None
    whole = await conn.fetchval(f"SELECT to_jsonb(t) FROM {entity_type} t WHERE t.id = $1{suffix}", entity_id)
    return None if whole is None else EntityState(None, row_fingerprint(whole))


async def require_state(conn: asyncpg.Connection, entity_type: str, entity_id: uuid.UUID,
                        lock: bool = False) -> EntityState:
    found = await state(conn, entity_type, entity_id, lock)
    if found is None:
        raise not_found(NOT_FOUND_WORDS[entity_type], entity_id)
    return found


async def object_review(conn: asyncpg.Connection, object_id: uuid.UUID) -> asyncpg.Record | None:
    """``{signature_config, last_modifier}`` of an object."""
    return await conn.fetchrow(OBJECT_REVIEW, object_id)


@dataclass(frozen=True)
class Signer:
    """Who signs, as the row keeps them (a snapshot), and from where."""

    user_id: uuid.UUID
    email: str
    name: str
    ip: str | None


async def sign(conn: asyncpg.Connection, signer: Signer, entity_type: str, entity_id: uuid.UUID,
               meaning: str) -> asyncpg.Record:
    """A signature of the entity as it is now in ``conn``'s transaction, audited as ``sign``."""
    current = await require_state(conn, entity_type, entity_id, lock=True)
    statement = Signed(signer.user_id, signer.email, entity_type, entity_id, current.version, current.fingerprint,
                       meaning, dt.datetime.now(dt.UTC))
    row = await conn.fetchrow(INSERT, new_id(), signer.user_id, signer.email, signer.name, entity_type, entity_id,
                              current.version, current.fingerprint, meaning, statement.hash, signer.ip,
                              statement.created_at)
    await audit.record(conn, "sign", "e_signature", row["id"], user_id=signer.user_id, ip=signer.ip, details={
        "entity_type": entity_type, "entity_id": str(entity_id), "meaning": meaning,
        "signature_hash": row["signature_hash"]})
    return row


async def sign_failed(conn: asyncpg.Connection, signer: Signer, entity_type: str, entity_id: uuid.UUID,
                      reason: str) -> None:
    await audit.record(conn, "sign_failed", "e_signature", None, user_id=signer.user_id, ip=signer.ip, details={
        "entity_type": entity_type, "entity_id": str(entity_id), "reason": reason})


async def for_entity(conn: asyncpg.Connection, entity_type: str, entity_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(FOR_ENTITY, entity_type, entity_id))


async def exist_for(conn: asyncpg.Connection, entity_type: str, entity_id: uuid.UUID) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM e_signature WHERE entity_type = $1 AND "
                                    "entity_id = $2)", entity_type, entity_id))


async def verify(conn: asyncpg.Connection, signature_id: uuid.UUID) -> dict[str, Any]:
    """``{signature_id, valid, entity_changed}``: the hash recomputes from the row; the entity (gone counts as
    changed) still has the fingerprint that was signed."""
    row = await conn.fetchrow(ONE, signature_id)
    if row is None:
        raise not_found("e_signature", signature_id)
    current = await state(conn, row["entity_type"], row["entity_id"])
    changed = current is None or current.fingerprint != row["entity_fingerprint"]
    return {"signature_id": row["id"], "valid": Signed.of(row).hash == row["signature_hash"], "entity_changed": changed}
