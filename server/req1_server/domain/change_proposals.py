"""Change proposals (extended contract §4): statuses, the status graph, who may move or edit a proposal, the
shape of ``diff_data``, and what applying it does to each object.

Pure rules, so the handlers and the store decide the same way before and under the proposal's row lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

STATUSES = ("draft", "submitted", "in_review", "approved", "rejected", "applied")
GRAPH: Mapping[str, frozenset[str]] = {
    "draft": frozenset({"submitted", "approved", "rejected"}),
    "submitted": frozenset({"in_review", "approved", "rejected", "draft"}),
    "in_review": frozenset({"approved", "rejected"}),
    "approved": frozenset({"applied", "rejected"}),
    "rejected": frozenset({"draft"}),
    "applied": frozenset(),
}
REVIEWER_MOVES = frozenset({"submitted", "in_review", "approved", "rejected"})  # reviewer+; others editor+/author
PLAIN_FIELDS = ("heading", "body", "classification", "lifecycle_state")
CLASSIFICATIONS = ("normative", "informative", "heading")
ATTRIBUTE_PREFIX = "attributes."
NOT_CHANGES = "diff_data must be an array of changes"
FROZEN = "an approved change proposal's diff_data cannot be changed"
NOT_APPROVED = "change proposal must be approved before it is applied"


class ProposalError(ValueError):
    """A refusal whose message is the one the contract words (the caller picks the status code)."""


def proposal_status(value: str) -> str:
    if value not in STATUSES:
        raise ProposalError(f"invalid status '{value}', must be one of: {', '.join(STATUSES)}")
    return value


def check_move(current: str, wanted: str) -> None:
    """Refuse unless the graph has the edge ``current`` → ``wanted``."""
    if wanted not in GRAPH.get(current, frozenset()):
        raise ProposalError(f"change proposal transition from '{current}' to '{wanted}' is not allowed")


def role_needed_for_move(wanted: str) -> str | None:
    """The role a status move needs: reviewer+ for review moves, editor+ for `applied`; None for the rest
    (back to `draft`), which is the author's or an editor's, like any other field."""
    if wanted in REVIEWER_MOVES:
        return "reviewer"
    if wanted == "applied":
        return "editor"
    return None


@dataclass(frozen=True)
class Change:
    """One entry of ``diff_data``: set ``field`` of ``object_id`` from ``old_value`` to ``new_value``."""

    object_id: uuid.UUID
    field: str
    old_value: Any
    new_value: Any

    @property
    def attribute(self) -> str | None:
        return self.field[len(ATTRIBUTE_PREFIX):] if self.field.startswith(ATTRIBUTE_PREFIX) else None


def _field(value: Any) -> str:
    if not isinstance(value, str):
        raise ProposalError(NOT_CHANGES)
    if value in PLAIN_FIELDS or (value.startswith(ATTRIBUTE_PREFIX) and len(value) > len(ATTRIBUTE_PREFIX)):
        return value
    raise ProposalError(f"unsupported field '{value}'")


def _change(entry: Any) -> Change:
    if not isinstance(entry, Mapping) or not {"object_id", "field"} <= entry.keys():
        raise ProposalError(NOT_CHANGES)
    try:
        object_id = uuid.UUID(str(entry["object_id"])) if isinstance(entry["object_id"], str) else None
    except ValueError:
        object_id = None
    if object_id is None:
        raise ProposalError(NOT_CHANGES)
    field = _field(entry["field"])
    old, new = entry.get("old_value"), entry.get("new_value")
    if not field.startswith(ATTRIBUTE_PREFIX):  # plain fields hold strings (null: the field is empty)
        if not all(v is None or isinstance(v, str) for v in (old, new)):
            raise ProposalError(NOT_CHANGES)
        if field == "classification" and new not in CLASSIFICATIONS:
            raise ProposalError(f"invalid classification '{new}', must be one of: {', '.join(CLASSIFICATIONS)}")
    return Change(object_id, field, old, new)


def parse_diff(raw: Any) -> list[Change]:
    """The changes of a ``diff_data`` value: an array of changes, or ``{}`` (none)."""
    if isinstance(raw, Mapping) and not raw:
        return []
    if not isinstance(raw, list):
        raise ProposalError(NOT_CHANGES)
    return [_change(entry) for entry in raw]


def current_value(row: Mapping[str, Any], change: Change) -> Any:
    name = change.attribute
    if name is None:
        return row[change.field]
    return (row["attributes"] or {}).get(name)


def object_updates(row: Mapping[str, Any], changes: Iterable[Change]) -> dict[str, Any]:
    """The PATCH of one object that applies ``changes`` (all of this object); a current value other than the
    proposal's ``old_value`` refuses the whole apply."""
    updates: dict[str, Any] = {}
    attributes = dict(row["attributes"] or {})
    for change in changes:
        if current_value(row, change) != change.old_value:
            raise ProposalError(f"object {change.object_id} field '{change.field}' changed since the proposal "
                                "was made")
        if change.attribute is None:
            updates[change.field] = change.new_value
        else:  # null removes the attribute
            if change.new_value is None:
                attributes.pop(change.attribute, None)
            else:
                attributes[change.attribute] = change.new_value
            updates["attributes"] = attributes
    return updates


def grouped(changes: Iterable[Change]) -> dict[uuid.UUID, list[Change]]:
    """Changes per object, objects in id order (a stable lock order for concurrent applies)."""
    out: dict[uuid.UUID, list[Change]] = {}
    for change in sorted(changes, key=lambda c: c.object_id):
        out.setdefault(change.object_id, []).append(change)
    return out
