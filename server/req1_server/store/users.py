"""Users (§2.4): the app_user rows, their wire shape, and the rules every write keeps (unique email, never
without an active admin). Sessions and tokens live in Redis (``auth/sessions.py``)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import asyncpg

from req1_server.errors import bad_request, conflict, not_found
from req1_server.http import Page
from req1_server.routing import CurrentUser, Role

COLUMNS = "id, email, display_name, role, active, created_at, updated_at"
# per-workspace access: the caller ($4) and the members of the caller's workspaces ($5; NULL: everyone)
SHOWN = """($1::boolean IS NULL OR active = $1)
AND ($5::uuid[] IS NULL OR id = $4 OR id IN (SELECT user_id FROM workspace_member WHERE workspace_id = ANY($5)))"""
LIST = f"""
SELECT {COLUMNS}, count(*) OVER () AS total FROM app_user WHERE {SHOWN}
ORDER BY lower(email), id OFFSET $2 LIMIT $3
"""
COUNT = f"SELECT count(*) FROM app_user WHERE {SHOWN.replace('$4', '$2').replace('$5', '$3')}"
LOCKED = f"SELECT {COLUMNS} FROM app_user WHERE id = $1 FOR UPDATE"
REHASH = "UPDATE app_user SET password_hash = $2 WHERE id = $1 AND password_hash = $3"
SET_PASSWORD = "UPDATE app_user SET password_hash = $2, updated_at = now() WHERE id = $1"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
LAST_ADMIN = "cannot remove the last active admin"


def normalize_email(value: str) -> str:
    email = value.strip()
    if not EMAIL.match(email) or len(email) > 320:
        raise bad_request(f"invalid email '{email[:80]}'")
    return email


def public(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    """AppUser as the API shows it (never a password hash)."""
    return {
        "id": row["id"],
        "email": row["email"],
        "display_name": row["display_name"],
        "role": row["role"],
        "active": row["active"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def current_user(row: asyncpg.Record, sid: str | None = None) -> CurrentUser:
    return CurrentUser(row["id"], row["email"], Role(row["role"]), row["display_name"], sid)


async def by_id(conn: asyncpg.Connection, user_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {COLUMNS}, password_hash FROM app_user WHERE id = $1", user_id)


async def by_email(conn: asyncpg.Connection, email: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {COLUMNS}, password_hash FROM app_user WHERE lower(email) = lower($1)", email.strip()
    )


async def insert(conn: asyncpg.Connection, user_id: uuid.UUID, email: str, display_name: str, role: Role,
                 active: bool, password_hash: str | None) -> asyncpg.Record:
    try:
        row = await conn.fetchrow(
            f"""INSERT INTO app_user (id, email, display_name, role, active, password_hash)
                VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}""",
            user_id, email, display_name, role.value, active, password_hash,
        )
    except asyncpg.UniqueViolationError:
        raise conflict(f"user with email '{email}' already exists") from None
    assert row is not None
    return row


async def lock_admins(conn: asyncpg.Connection) -> int:
    """Active admins, with their rows locked so two demotions cannot both pass the last-admin check."""
    rows = await conn.fetch("SELECT id FROM app_user WHERE role = 'admin' AND active ORDER BY id FOR UPDATE")
    return len(rows)


async def ensure_not_last_admin(conn: asyncpg.Connection, target: asyncpg.Record, *, removes_admin: bool) -> None:
    """409 when this change would leave no active admin (call inside the transaction)."""
    if removes_admin and target["role"] == "admin" and target["active"] and await lock_admins(conn) <= 1:
        raise conflict(LAST_ADMIN)


async def page(conn: asyncpg.Connection, active: bool | None, window: Page, caller: uuid.UUID | None = None,
               within: list[uuid.UUID] | None = None) -> tuple[list[dict[str, Any]], int]:
    """Users by email; with ``within`` (the caller's workspaces) only the caller and their fellow members."""
    rows = await conn.fetch(LIST, active, window.offset, window.limit, caller, within)
    total = rows[0]["total"] if rows else await conn.fetchval(COUNT, active, caller, within)
    return [public(r) for r in rows], total


async def locked(conn: asyncpg.Connection, user_id: uuid.UUID) -> asyncpg.Record:
    row = await conn.fetchrow(LOCKED, user_id)
    if row is None:
        raise not_found("user", user_id)
    return row


async def update(conn: asyncpg.Connection, user_id: uuid.UUID, changes: dict[str, Any]) -> asyncpg.Record:
    """Apply ``changes`` (column → value) unless they leave no active admin (inside a transaction)."""
    current = await locked(conn, user_id)
    removes_admin = changes.get("role", "admin") != "admin" or changes.get("active", True) is False
    await ensure_not_last_admin(conn, current, removes_admin=removes_admin)
    sets = ", ".join([*(f"{col} = ${i + 2}" for i, col in enumerate(changes)), "updated_at = now()"])
    row = await conn.fetchrow(f"UPDATE app_user SET {sets} WHERE id = $1 RETURNING {COLUMNS}", user_id,
                              *changes.values())
    assert row is not None
    return row


async def delete(conn: asyncpg.Connection, user_id: uuid.UUID) -> None:
    """Delete an account, never the last active admin (inside a transaction)."""
    await ensure_not_last_admin(conn, await locked(conn, user_id), removes_admin=True)
    await conn.execute("DELETE FROM app_user WHERE id = $1", user_id)


async def set_password(conn: asyncpg.Connection, user_id: uuid.UUID, password_hash: str,
                       replacing: str | None = None) -> None:
    """A new hash; with ``replacing``, only if the stored hash is still that one (a login's rehash)."""
    if replacing is None:
        await conn.execute(SET_PASSWORD, user_id, password_hash)
    else:
        await conn.execute(REHASH, user_id, password_hash, replacing)
