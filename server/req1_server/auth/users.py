"""app_user queries and rules shared by the auth and users resources (no HTTP here)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import asyncpg

from req1_server.errors import bad_request, conflict
from req1_server.routing import ROLE_NAMES, CurrentUser, Role

COLUMNS = "id, email, display_name, role, active, created_at, updated_at"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
LAST_ADMIN = "cannot remove the last active admin"


def normalize_email(value: str) -> str:
    email = value.strip()
    if not EMAIL.match(email) or len(email) > 320:
        raise bad_request(f"invalid email '{email[:80]}'")
    return email


def parse_role(value: object) -> Role:
    if not isinstance(value, str) or value not in Role.__members__.values():
        shown = value if isinstance(value, str) else str(value)
        raise bad_request(f"invalid role '{shown}', must be one of: {ROLE_NAMES}")
    return Role(value)


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
