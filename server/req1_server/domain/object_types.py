"""Object types (spec §1): the form layout they carry and the attributes they require of their objects.

Pure rules, used by the object-type routes (is this layout valid?) and by object writes (does this final
attribute map satisfy the type?). A layout is ``{}`` or ``{"sections": [{id, title, columns, fields: [{
attribute_name, order, width, required}]}]}``; a field with ``required: true`` is required like a name in
``required_attributes`` (Δ).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt, StrictStr, ValidationError


class LayoutError(ValueError):
    """The API's 400 message."""


class _Field(BaseModel):
    model_config = ConfigDict(extra="allow")
    attribute_name: StrictStr
    order: StrictInt = 0
    width: StrictStr | None = None
    required: StrictBool | None = None


class _Section(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: StrictStr
    title: StrictStr
    columns: StrictInt = 1
    fields: list[_Field]


class _Layout(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sections: list[_Section]


def check_layout(schema: Any) -> dict[str, Any]:
    """The layout as stored (defaults filled in), or LayoutError("invalid attribute_schema: <detail>")."""
    if schema == {}:
        return {}
    if not isinstance(schema, dict):
        raise LayoutError("invalid attribute_schema: must be an object")
    try:
        layout = _Layout.model_validate(schema)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in error["loc"]) or "attribute_schema"
        raise LayoutError(f"invalid attribute_schema: {where}: {error['msg'].lower()}") from None
    return layout.model_dump(mode="json")


def layout_required(schema: Mapping[str, Any] | None) -> list[str]:
    """Names of the layout's fields marked ``required: true``."""
    sections = (schema or {}).get("sections") or []
    return [f["attribute_name"] for s in sections for f in s.get("fields", []) if f.get("required") is True]


def required_names(required_attributes: Iterable[str], schema: Mapping[str, Any] | None) -> list[str]:
    """Everything the type requires, each name once, in declaration order."""
    return list(dict.fromkeys([*required_attributes, *layout_required(schema)]))


def missing_for_type(type_name: str, required: Iterable[str], attributes: Mapping[str, Any] | None) -> str | None:
    """The 400 message for the first required attribute that is null or absent, else None."""
    values = attributes or {}
    for name in required:
        if values.get(name) is None:
            return f"object type '{type_name}' requires attribute '{name}'"
    return None


@dataclass(frozen=True)
class TypeRule:
    """What an object's type asks of it on write."""

    id: uuid.UUID
    module_id: uuid.UUID
    name: str
    default_classification: str
    required: tuple[str, ...]

    @classmethod
    def of(cls, row: Mapping[str, Any], prefix: str = "") -> TypeRule | None:
        """From an ``object_type`` row (columns optionally prefixed, e.g. ``type_`` in a join); None if no type."""
        if row[prefix + "id"] is None:
            return None
        required = required_names(row[prefix + "required_attributes"], row[prefix + "attribute_schema"])
        return cls(row[prefix + "id"], row[prefix + "module_id"], row[prefix + "name"],
                   row[prefix + "default_classification"], tuple(required))

    def problem(self, module_id: uuid.UUID, attributes: Mapping[str, Any] | None) -> str | None:
        """The 400 message for an object of ``module_id`` with these final attributes, else None."""
        if self.module_id != module_id:
            return "object type must belong to the same module"
        return missing_for_type(self.name, self.required, attributes)
