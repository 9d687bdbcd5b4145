"""Identifiers: UUIDv7 so that `id` orders by creation (spec §1.2)."""

from __future__ import annotations

import uuid

import uuid_utils


def new_id() -> uuid.UUID:
    """A fresh UUIDv7 as a standard-library UUID (what asyncpg expects)."""
    return uuid.UUID(bytes=uuid_utils.uuid7().bytes)
