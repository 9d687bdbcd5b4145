"""Review packages of a module (extended contract §3.1, migration 0050): rows, status moves with their
signature and audit entry in one transaction, the delete guard, and the voting summary."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from req1_server.domain.reviews import ReviewError, SignatureConfig, Signing, plan_transition
from req1_server.errors import bad_request, conflict, not_found
from req1_server.store import audit, crud
from req1_server.store import esignatures as signatures
from req1_server.store.rows import require_module

COLUMNS = "id, module_id, name, description, status, created_by, created_at, updated_at"
TABLE = crud.Table("review_package", "review_package", COLUMNS, "created_at DESC, id DESC", parent="module_id",
                   nullable=frozenset({"description"}), touch=True)
IN_MODULE = f"""
SELECT {", ".join("p." + c for c in COLUMNS.split(", "))}, m.signature_config
FROM review_package p JOIN module m ON m.id = p.module_id
WHERE p.id = $1 AND p.module_id = $2
"""
MOVE = f"UPDATE review_package SET status = $2, updated_at = now() WHERE id = $1 RETURNING {COLUMNS}"
VOTING_SUMMARY = """
SELECT p.id AS package_id, p.name AS package_name, p.status AS package_status,
       count(a.id)::int AS total_assignments,
       count(*) FILTER (WHERE a.status = 'approved')::int AS approved,
       count(*) FILTER (WHERE a.status = 'rejected')::int AS rejected,
       count(*) FILTER (WHERE a.status = 'abstained')::int AS abstained,
       count(*) FILTER (WHERE a.status = 'pending')::int AS pending
FROM review_package p LEFT JOIN review_assignment a ON a.package_id = p.id
WHERE p.module_id = $1
GROUP BY p.id
ORDER BY p.created_at DESC, p.id DESC
"""
EXISTS = "SELECT id, name, module_id FROM review_package WHERE id = $1"


async def package_with_config(conn: asyncpg.Connection, module_id: uuid.UUID, package_id: uuid.UUID,
                              lock: bool = False) -> asyncpg.Record:
    """The module's package and the module's ``signature_config`` (404 for either unknown)."""
    await require_module(conn, module_id)
    row = await conn.fetchrow(IN_MODULE + (" FOR UPDATE OF p" if lock else ""), package_id, module_id)
    if row is None:
        raise not_found("review_package", package_id)
    return row


async def require_package(conn: asyncpg.Connection, package_id: uuid.UUID) -> asyncpg.Record:
    """``{id, name, module_id}`` of a package (nested routes under ``/review-packages/{pkg}``)."""
    row = await conn.fetchrow(EXISTS, package_id)
    if row is None:
        raise not_found("review_package", package_id)
    return row


def planned(row: asyncpg.Record, wanted: str, signing: Signing, signer: uuid.UUID) -> bool:
    """Whether moving ``row`` to ``wanted`` signs (400 when the move may not happen)."""
    try:
        return plan_transition(row["status"], wanted, SignatureConfig.of(row["signature_config"]), signing, signer,
                               row["created_by"])
    except ReviewError as exc:
        raise bad_request(str(exc)) from None


@dataclass(frozen=True)
class Move:
    """A requested status change: by ``signer`` (confirmed already when it signs)."""

    module_id: uuid.UUID
    package_id: uuid.UUID
    status: str
    signing: Signing
    signer: signatures.Signer


async def move(conn: asyncpg.Connection, ask: Move) -> asyncpg.Record:
    """Decide again under the row lock, then status, signature and audit entry ``transition`` together."""
    row = await package_with_config(conn, ask.module_id, ask.package_id, lock=True)
    signs = planned(row, ask.status, ask.signing, ask.signer.user_id)
    moved = await conn.fetchrow(MOVE, ask.package_id, ask.status)
    signature_id = None
    if signs:
        assert ask.signing.meaning is not None
        signature_id = (await signatures.sign(conn, ask.signer, "review_package", ask.package_id,
                                              ask.signing.meaning))["id"]
    await audit.record(conn, "transition", "review_package", ask.package_id, user_id=ask.signer.user_id,
                       ip=ask.signer.ip, details={"from": row["status"], "to": ask.status,
                                                  "signature_id": str(signature_id) if signature_id else None})
    return moved


async def refuse_signed(conn: asyncpg.Connection, row: Any) -> None:
    """409 for a package somebody signed: its evidence must not lose what it refers to."""
    if await signatures.exist_for(conn, "review_package", row["id"]):
        raise conflict(f"review_package {row['id']} has e-signatures")


async def voting_summary(conn: asyncpg.Connection, module_id: uuid.UUID) -> list[asyncpg.Record]:
    await require_module(conn, module_id)
    return list(await conn.fetch(VOTING_SUMMARY, module_id))
