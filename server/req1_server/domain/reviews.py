"""Review packages (extended contract §3.1, §3.2): the statuses, the package status graph and the signature rule.

Pure rules, so the same decision is made before a password is checked (to refuse early, without hashing) and
again under the package's row lock (the state may have moved meanwhile).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PACKAGE_STATUSES = ("draft", "open", "in_review", "approved", "rejected", "closed")
VOTES = ("pending", "approved", "rejected", "abstained")
# the frontend's buttons plus closing; anything else is refused
GRAPH: Mapping[str, frozenset[str]] = {
    "draft": frozenset({"open"}),
    "open": frozenset({"in_review", "draft"}),
    "in_review": frozenset({"approved", "rejected", "open"}),
    "approved": frozenset({"closed"}),
    "rejected": frozenset({"draft", "closed"}),
    "closed": frozenset(),
}
SIGNATURE_REQUIRED = "this transition requires an e-signature (password + meaning)"
SIGNATURE_INCOMPLETE = "an e-signature needs both password and meaning"
FOUR_EYES_CREATOR = "four-eyes principle: signer cannot be the creator"
FOUR_EYES_MODIFIER = "four-eyes principle: signer cannot be the last modifier"


class ReviewError(ValueError):
    """A refusal whose message is the 400 the contract words."""


def _one_of(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ReviewError(f"invalid status '{value}', must be one of: {', '.join(allowed)}")
    return value


def package_status(value: str) -> str:
    return _one_of(value, PACKAGE_STATUSES)


def vote_status(value: str) -> str:
    return _one_of(value, VOTES)


def check_move(current: str, wanted: str) -> None:
    """400 unless the graph has the edge ``current`` → ``wanted``."""
    if wanted not in GRAPH.get(current, frozenset()):
        raise ReviewError(f"review package transition from '{current}' to '{wanted}' is not allowed")


@dataclass(frozen=True)
class SignatureConfig:
    """A module's ``signature_config``; unknown keys and malformed values are ignored (the column is free JSON)."""

    transitions: frozenset[str] = frozenset()
    four_eyes: bool = False

    @classmethod
    def of(cls, raw: Any) -> SignatureConfig:
        if not isinstance(raw, Mapping):
            return cls()
        listed = raw.get("require_signature_transitions")
        names = frozenset(t for t in listed if isinstance(t, str)) if isinstance(listed, list) else frozenset()
        return cls(names, raw.get("require_four_eyes") is True)

    def requires(self, current: str, wanted: str) -> bool:
        return f"{current}->{wanted}" in self.transitions


@dataclass(frozen=True)
class Signing:
    """What a transition request brings to sign with (both None: no signature offered)."""

    password: str | None = None
    meaning: str | None = None

    @property
    def offered(self) -> bool:
        return self.password is not None or self.meaning is not None

    @property
    def complete(self) -> bool:
        return bool(self.password) and bool(self.meaning and self.meaning.strip())


def plan_transition(current: str, wanted: str, config: SignatureConfig, signing: Signing,
                    signer: uuid.UUID, created_by: uuid.UUID | None) -> bool:
    """Whether the move ``current`` → ``wanted`` is signed; raises ReviewError when it may not happen.

    A listed transition needs password and meaning; password and meaning on an unlisted one still sign. With
    four-eyes, whoever signs must not be the package's creator.
    """
    check_move(current, wanted)
    if config.requires(current, wanted) and not signing.complete:
        raise ReviewError(SIGNATURE_REQUIRED)
    if signing.offered and not signing.complete:
        raise ReviewError(SIGNATURE_INCOMPLETE)
    signs = signing.complete
    if signs and config.four_eyes and created_by is not None and signer == created_by:
        raise ReviewError(FOUR_EYES_CREATOR)
    return signs
