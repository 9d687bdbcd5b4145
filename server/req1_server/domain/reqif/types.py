"""Object types in ReqIF exchange (extended spec §1 "ReqIF"): the names and form layouts imported
SPEC-OBJECT-TYPEs become, and the identifiers an export gives each type and its attribute definitions."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

LAYOUT_SECTION = "reqif"


def unique_names(names: Iterable[str], taken: Iterable[str] = ()) -> list[str]:
    """Each name as given, or with ` (2)`, ` (3)`… when an earlier one (or one in ``taken``) already has it:
    type names are unique per module."""
    used = set(taken)
    out: list[str] = []
    for name in names:
        candidate, n = name, 1
        while candidate in used:
            n += 1
            candidate = f"{name} ({n})"
        used.add(candidate)
        out.append(candidate)
    return out


def type_layout(name: str, attribute_names: Iterable[str]) -> dict[str, Any]:
    """One section listing the type's attributes in file order: a layout the object-type checks accept
    (orig. stored a bare attribute list there, which no form can draw)."""
    fields = [{"attribute_name": attr, "order": index, "width": None, "required": None}
              for index, attr in enumerate(dict.fromkeys(attribute_names))]
    return {"sections": [{"id": LAYOUT_SECTION, "title": name, "columns": 1, "fields": fields}]}


def default_type_key(module_id: str) -> str:
    """What untyped objects are exported as (Δ; orig. the module's first type)."""
    return f"default-type-{module_id}"


def definition_id(type_key: str, scope: str, name: str) -> str:
    """An attribute definition's IDENTIFIER inside one SPEC-OBJECT-TYPE: unique per type (Δ; orig. shared),
    stable across exports. ``scope`` is a UUID (the definition's or the module's), ``name`` tells apart
    what shares it (the heading and body definitions)."""
    return "req1-" + str(uuid.uuid5(uuid.UUID(scope), f"{type_key}/{name}"))
