"""Module validation rules (spec §4.15) over already-loaded objects and links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class VObject:
    id: Any
    parent_id: Any
    level: str
    heading: str | None
    body: str | None
    classification: str
    attributes: dict[str, Any]
    reviewed: bool
    type_name: str | None = None  # its object type's (§1), and what that type requires
    type_required: tuple[str, ...] = ()


@dataclass(frozen=True)
class VLink:
    id: Any
    source_id: Any
    target_id: Any
    suspect: bool
    source_live: bool
    target_live: bool


def _issue(rule: str, severity: str, message: str, object_id: Any = None, link_id: Any = None) -> dict[str, Any]:
    return {"rule": rule, "severity": severity, "object_id": object_id, "link_id": link_id, "message": message}


def validate(objects: Sequence[VObject], links: Sequence[VLink], required: Sequence[str]) -> list[dict[str, Any]]:
    """Issues in document order (objects as given), then link issues."""
    live = {obj.id for obj in objects}
    issues: list[dict[str, Any]] = []
    for obj in objects:
        tag = f"[{obj.level}]"
        if obj.parent_id is not None and obj.parent_id not in live:
            issues.append(_issue("orphan_object", "error", f"{tag} parent is not a live object of this module", obj.id))
        if obj.classification != "heading" and not (obj.heading or "").strip():
            issues.append(_issue("missing_heading", "warning", f"{tag} object has no heading", obj.id))
        if obj.classification == "normative" and not (obj.body or "").strip():
            issues.append(_issue("missing_body", "warning", f"{tag} normative object has no body", obj.id))
        for name in required:
            if obj.attributes.get(name) is None:
                issues.append(
                    _issue("missing_required_attribute", "error", f"{tag} missing required attribute '{name}'", obj.id)
                )
        for name in obj.type_required:  # Δ: what the object's type requires, unless the module already did
            if obj.attributes.get(name) is None and name not in required:
                issues.append(_issue("missing_required_attribute", "error",
                                     f"{tag} object type '{obj.type_name}' requires attribute '{name}'", obj.id))
        if not obj.reviewed:
            issues.append(_issue("unreviewed", "info", f"{tag} {obj.heading or ''} — needs review", obj.id))
    for link in links:
        if not (link.source_live and link.target_live):
            issues.append(
                _issue(
                    "dangling_link",
                    "error",
                    f"link {link.source_id} -> {link.target_id} has a missing or deleted end",
                    link_id=link.id,
                )
            )
        elif link.suspect:
            issues.append(
                _issue(
                    "suspect_link", "warning", f"link {link.source_id} -> {link.target_id} is suspect", link_id=link.id
                )
            )
    return issues
