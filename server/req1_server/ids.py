"""New IDs are UUIDv7 (ordered by creation, spec §1.2), as standard-library UUIDs."""

from __future__ import annotations

import uuid

import uuid_utils


def new_id() -> uuid.UUID:
    return uuid.UUID(bytes=uuid_utils.uuid7().bytes)
