"""E-signatures (extended contract §3.4): what is signed and how its hash is made.

The hash binds the signer, the signed entity's content and the meaning: SHA-256 (lowercase hex) of the
canonical JSON (``domain/fingerprint.canonical_json``) of ``{user_id, signer_email, entity_type, entity_id,
entity_version, entity_fingerprint, meaning, created_at}``, with ``created_at`` in RFC 3339, UTC, microseconds.
Anyone holding the row can recompute it (``verify``); a changed entity shows as a different fingerprint.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from req1_server.domain.fingerprint import canonical_json

ENTITY_TYPES = ("object", "review_package", "change_proposal", "baseline", "baseline_set", "test_case",
                "test_execution", "module")
# the word a 404 uses for each (§0.4: orig. wording)
NOT_FOUND_WORDS = {"object": "object", "review_package": "review_package", "change_proposal": "change_proposal",
                   "baseline": "baseline", "baseline_set": "baseline set", "test_case": "test case",
                   "test_execution": "test execution", "module": "module"}
MAX_MEANING = 500


class SignatureError(ValueError):
    """A refusal whose message is the 400 the contract words."""


def entity_type(value: str) -> str:
    if value not in ENTITY_TYPES:
        raise SignatureError(f"invalid entity_type '{value}', must be one of: {', '.join(ENTITY_TYPES)}")
    return value


def meaning(value: str) -> str:
    if not value.strip():
        raise SignatureError("meaning must not be empty")
    if len(value) > MAX_MEANING:
        raise SignatureError(f"meaning must be at most {MAX_MEANING} characters")
    return value


def row_fingerprint(row: Mapping[str, Any]) -> str:
    """Lowercase hex SHA-256 of a row's canonical JSON without its timestamps (every ``*_at`` column), so that
    bookkeeping of when something happened does not count as a change of what was signed."""
    content = {key: value for key, value in row.items() if not key.endswith("_at")}
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def rfc3339(moment: dt.datetime) -> str:
    """UTC with six fraction digits, always: the form that is hashed must not depend on the value."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Signed:
    """The signed statement; :attr:`hash` is the stored ``signature_hash``."""

    user_id: uuid.UUID
    signer_email: str
    entity_type: str
    entity_id: uuid.UUID
    entity_version: int | None
    entity_fingerprint: str | None
    meaning: str
    created_at: dt.datetime

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Signed:
        """The statement a stored signature row claims."""
        return cls(row["user_id"], row["signer_email"], row["entity_type"], row["entity_id"], row["entity_version"],
                   row["entity_fingerprint"], row["meaning"], row["created_at"])

    def payload(self) -> dict[str, Any]:
        return {"user_id": str(self.user_id), "signer_email": self.signer_email, "entity_type": self.entity_type,
                "entity_id": str(self.entity_id), "entity_version": self.entity_version,
                "entity_fingerprint": self.entity_fingerprint, "meaning": self.meaning,
                "created_at": rfc3339(self.created_at)}

    @property
    def hash(self) -> str:
        return hashlib.sha256(canonical_json(self.payload()).encode("utf-8")).hexdigest()
