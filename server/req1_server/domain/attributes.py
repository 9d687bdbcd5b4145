"""Attribute definitions and object attribute values (spec §4.5): types, defaults, validation."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from req1_server.domain.sanitize import sanitize_html

DATA_TYPES = ("string", "integer", "float", "date", "bool", "enum", "rich_text", "user_ref")
DATA_TYPE_ALIASES = {"boolean": "bool"}


class AttributeError_(ValueError):
    """A rule violation; the message is the API's 400 message."""


@dataclass(frozen=True)
class AttrDef:
    """The part of an attribute definition that value validation needs."""

    name: str
    data_type: str
    enum_values: tuple[str, ...] | None = None
    multi_select: bool = False
    default_value: str | None = None


def normalize_data_type(value: str) -> str:
    data_type = DATA_TYPE_ALIASES.get(value, value)
    if data_type not in DATA_TYPES:
        raise AttributeError_(f"invalid data_type '{value}'")
    return data_type


def _fmt_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def check_definition(
    data_type: str, enum_values: Sequence[str] | None, default_value: str | None, multi_select: bool
) -> None:
    """Validate a definition as a whole (create and the result of PATCH)."""
    if data_type == "enum":
        if not enum_values:
            raise AttributeError_("enum type requires a non-empty enum_values array")
        if any(not isinstance(v, str) for v in enum_values):
            raise AttributeError_("enum_values must be an array of strings")
    elif enum_values is not None:
        raise AttributeError_(f"enum_values may only be set when data_type is 'enum', not '{data_type}'")
    if default_value is not None:
        parse_default(AttrDef("", data_type, tuple(enum_values or ()) or None, multi_select), default_value)


def finite(text: str, message: str) -> float:
    """A finite float from text, or AttributeError_(message)."""
    try:
        value = float(text)
    except ValueError:
        raise AttributeError_(message) from None
    if not math.isfinite(value):
        raise AttributeError_(message)
    return value


def parse_default(definition: AttrDef, raw: str) -> Any:
    """The typed value a `default_value` string stands for (Δ: typed, not the string)."""
    data_type = definition.data_type
    if data_type == "integer":
        try:
            return int(raw.strip())
        except ValueError:
            raise AttributeError_(f"default_value '{raw}' is not a valid integer") from None
    if data_type == "float":
        return finite(raw.strip(), f"default_value '{raw}' is not a valid float")
    if data_type == "bool":
        lowered = raw.strip().lower()
        if lowered in {"true", "1", "yes"}:
            return True
        if lowered in {"false", "0", "no"}:
            return False
        raise AttributeError_(f"default_value '{raw}' is not a valid boolean")
    if data_type == "date":
        if not _is_iso_date(raw):
            raise AttributeError_(f"default_value '{raw}' is not a valid ISO 8601 date")
        return raw
    if data_type == "enum":
        allowed = list(definition.enum_values or ())
        if definition.multi_select:
            items = [part.strip() for part in raw.split(";") if part.strip()] if raw else []
            for item in items:
                if item not in allowed:
                    raise AttributeError_(f"default_value '{item}' is not in enum_values: {_fmt_list(allowed)}")
            return items
        if raw not in allowed:
            raise AttributeError_(f"default_value '{raw}' is not in enum_values: {_fmt_list(allowed)}")
        return raw
    return raw


def _is_iso_date(value: str) -> bool:
    text = value.strip()
    if not text:
        return False
    try:
        dt.date.fromisoformat(text)
        return True
    except ValueError:
        pass
    try:
        dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def validate_value(definition: AttrDef, value: Any) -> Any:
    """Check one object attribute value and return what is stored (rich text sanitized)."""
    name = definition.name
    data_type = definition.data_type
    if value is None:
        return None
    if data_type in {"string", "user_ref", "rich_text"}:
        if not isinstance(value, str):
            raise AttributeError_(f"attribute '{name}' must be a string")
        return sanitize_html(value) if data_type == "rich_text" else value
    if data_type == "date":
        if not isinstance(value, str) or not _is_iso_date(value):
            raise AttributeError_(f"attribute '{name}' must be an ISO 8601 date")
        return value
    if data_type == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise AttributeError_(f"attribute '{name}' must be an integer")
        return value
    if data_type == "float":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise AttributeError_(f"attribute '{name}' must be a number")
        return value
    if data_type == "bool":
        if not isinstance(value, bool):
            raise AttributeError_(f"attribute '{name}' must be a boolean")
        return value
    if data_type == "enum":
        allowed = list(definition.enum_values or ())
        if definition.multi_select:
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list):
                raise AttributeError_(f"attribute '{name}' must be an array of strings")
            seen: set[str] = set()
            for item in items:
                if not isinstance(item, str) or item not in allowed:
                    raise AttributeError_(
                        f"attribute '{name}' value '{item}' not in allowed values: {_fmt_list(allowed)}"
                    )
                if item in seen:
                    raise AttributeError_(f"attribute '{name}' value '{item}' is repeated")
                seen.add(item)
            return items
        if not isinstance(value, str) or value not in allowed:
            raise AttributeError_(f"attribute '{name}' value '{value}' not in allowed values: {_fmt_list(allowed)}")
        return value
    raise AttributeError_(f"attribute '{name}' has an unsupported data type '{data_type}'")


def validate_attributes(
    values: Any,
    definitions: Mapping[str, AttrDef],
    *,
    apply_defaults: bool = False,
) -> dict[str, Any]:
    """Validate a whole attribute map by definition name; optionally fill typed defaults."""
    if not isinstance(values, dict):
        raise AttributeError_("attributes must be a JSON object")
    out: dict[str, Any] = {}
    for key, value in values.items():
        definition = definitions.get(key)
        if definition is None:
            raise AttributeError_(f"unknown attribute '{key}'")
        checked = validate_value(definition, value)
        if checked is not None:
            out[key] = checked
    if apply_defaults:
        for name, definition in definitions.items():
            if name not in values and definition.default_value is not None:
                out[name] = parse_default(definition, definition.default_value)
    return out


def check_required(attributes: Mapping[str, Any], required: Sequence[str]) -> None:
    for name in required:
        if attributes.get(name) is None:
            raise AttributeError_(f"missing required attribute '{name}'")


def coerce_text(definition: AttrDef, raw: str) -> Any:
    """Convert a text cell (CSV) into a typed value, with messages naming the attribute."""
    name = definition.name
    data_type = definition.data_type
    text = raw.strip()
    if data_type == "integer":
        try:
            return int(text)
        except ValueError:
            raise AttributeError_(f"attribute '{name}' must be an integer") from None
    if data_type == "float":
        return finite(text, f"attribute '{name}' must be a number")
    if data_type == "bool":
        lowered = text.lower()
        if lowered in {"true", "1", "yes"}:
            return True
        if lowered in {"false", "0", "no"}:
            return False
        raise AttributeError_(f"attribute '{name}' must be a boolean")
    if data_type == "enum" and definition.multi_select:
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                raise AttributeError_(f"attribute '{name}' must be a JSON array or a ';'-separated list") from None
            return validate_value(definition, parsed)
        return validate_value(definition, [p.strip() for p in text.split(";") if p.strip()])
    return validate_value(definition, raw)
