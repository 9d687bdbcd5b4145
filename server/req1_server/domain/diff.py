"""Baseline diff (spec §4.7): classify the full outer join of two entry sets by content."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def _entry(row: Mapping[str, Any], side: str) -> dict[str, Any]:
    return {
        "object_id": row["object_id"],
        "version": row[f"version_{side}"],
        "heading": row[f"heading_{side}"],
        "body": row[f"body_{side}"],
        "attributes": row[f"attributes_{side}"],
    }


def classify(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Rows carry `object_id`, `version_a|b`, `heading_a|b`, `body_a|b`, `attributes_a|b` (None when absent).

    added = only in b; removed = only in a; modified = in both with different versions and different
    heading, body or attributes (moves and review-only edits are not content changes). Input order is kept,
    so callers pass rows ordered by object_id.
    """
    added: list[dict[str, Any]] = []
    removed: list[dict[str, Any]] = []
    modified: list[dict[str, Any]] = []
    for row in rows:
        in_a, in_b = row["version_a"] is not None, row["version_b"] is not None
        if in_b and not in_a:
            added.append(_entry(row, "b"))
        elif in_a and not in_b:
            removed.append(_entry(row, "a"))
        elif row["version_a"] != row["version_b"] and (
            row["heading_a"] != row["heading_b"]
            or row["body_a"] != row["body_b"]
            or (row["attributes_a"] or {}) != (row["attributes_b"] or {})
        ):
            modified.append(
                {
                    "object_id": row["object_id"],
                    "version_a": row["version_a"],
                    "version_b": row["version_b"],
                    "heading_a": row["heading_a"],
                    "heading_b": row["heading_b"],
                    "body_a": row["body_a"],
                    "body_b": row["body_b"],
                    "attributes_a": row["attributes_a"],
                    "attributes_b": row["attributes_b"],
                }
            )
    return {"added": added, "removed": removed, "modified": modified}
