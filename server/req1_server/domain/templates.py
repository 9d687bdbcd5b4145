"""Project templates (extended contract §11): the shape of ``template_data`` and its rules.

Pure checks, run when a template is written (so a stored template can be instantiated) and again when it is
instantiated (the stored JSON is then read in its normalized form). A template is checked by the same rules
its parts obey when created one by one: attribute definitions as core §4.5, object types as §1 (a required
attribute names a definition of the template module or a global one), lifecycle models as §2. The result
carries every key with its default, so what a client reads back is what instantiation will create.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from req1_server.domain.attributes import AttributeError_, check_definition, normalize_data_type
from req1_server.domain.lifecycle import LifecycleError, normalized

CLASSIFICATIONS = ("normative", "informative", "heading")
MAX_SEED_DEPTH = 32  # deeper nesting is refused rather than walked (a body is bounded, recursion is not)
MAX_DIGITS = 2**31 - 1  # the column is an integer; a larger value would only fail at instantiation
_MISSING = object()


class TemplateError(ValueError):
    """The API's 400 message: ``invalid template_data: <where>: <detail>``."""

    def __init__(self, where: str, detail: str) -> None:
        super().__init__(f"invalid template_data: {where}: {detail}" if where else f"invalid template_data: {detail}")


def link_type_key(name: str) -> str:
    """How template link types match global ones: case-insensitive, a space the same as a hyphen."""
    return re.sub(r"[\s-]+", "-", name.strip().lower())


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise TemplateError(where, "must be an object")
    return value


def _array(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise TemplateError(where, "must be an array")
    return value


def _field(data: Mapping[str, Any], key: str, where: str, default: Any = _MISSING) -> Any:
    """``data[key]``; absent or null takes ``default`` (absent without a default is refused)."""
    value = data.get(key)
    if value is None:
        if default is _MISSING:
            raise TemplateError(where, f"missing '{key}'")
        return default
    return value


def _text(data: Mapping[str, Any], key: str, where: str, default: Any = _MISSING) -> Any:
    value = _field(data, key, where, default)
    if value is not None and not isinstance(value, str):
        raise TemplateError(f"{where}.{key}", "must be a string")
    return value


def _name(data: Mapping[str, Any], where: str, default: Any = _MISSING) -> str:
    value = _text(data, "name", where, default)
    if not value.strip():
        raise TemplateError(where, "name must not be empty")
    return str(value)


def _classification(data: Mapping[str, Any], where: str, default: str, key: str = "default_classification") -> str:
    value = _field(data, key, where, default)
    if value not in CLASSIFICATIONS:
        raise TemplateError(where, f"invalid classification '{value}', must be one of: {', '.join(CLASSIFICATIONS)}")
    return str(value)


def _definition(raw: Any, where: str) -> dict[str, Any]:
    data = _object(raw, where)
    name = _name(data, where, "Unnamed")
    enum_values = data.get("enum_values")
    if enum_values is not None and not (isinstance(enum_values, list) and all(isinstance(v, str) for v in enum_values)):
        raise TemplateError(f"{where}.enum_values", "must be an array of strings")
    try:
        data_type = normalize_data_type(_text(data, "data_type", where, "string"))
        check_definition(data_type, enum_values, None, False)
    except AttributeError_ as exc:
        raise TemplateError(where, str(exc)) from None
    return {"name": name, "data_type": data_type, "enum_values": enum_values}


def _object_type(raw: Any, where: str, known: Collection[str]) -> dict[str, Any]:
    data = _object(raw, where)
    name = _name(data, where, "Unnamed")
    classification = _classification(data, where, "normative")
    required = _array(data.get("required_attributes"), f"{where}.required_attributes")
    for attr in required:
        if not isinstance(attr, str):
            raise TemplateError(f"{where}.required_attributes", "must be an array of strings")
        if attr not in known:
            raise TemplateError(where, f"unknown attribute '{attr}'")
    return {"name": name, "default_classification": classification,
            "required_attributes": list(dict.fromkeys(required))}


def _lifecycle(raw: Any, where: str) -> dict[str, Any] | None:
    if raw is None:
        return None
    data = _object(raw, where)
    name = _name(data, where, "Default Lifecycle")
    try:
        shape = normalized(_text(data, "initial_state", where, "draft"),
                           _array(data.get("states"), f"{where}.states"),
                           _array(data.get("transitions"), f"{where}.transitions"))
    except LifecycleError as exc:
        raise TemplateError(where, str(exc)) from None
    return {"name": name, **shape}


def _seed(raw: Any, where: str, depth: int) -> dict[str, Any]:
    if depth >= MAX_SEED_DEPTH:
        raise TemplateError(where, f"seed objects may nest at most {MAX_SEED_DEPTH} levels")
    data = _object(raw, where)
    children = _array(data.get("children"), f"{where}.children")
    return {"heading": _text(data, "heading", where, None), "body": _text(data, "body", where, None),
            "classification": _classification(data, where, "normative" if depth else "heading", "classification"),
            "children": [_seed(child, f"{where}.children[{i}]", depth + 1) for i, child in enumerate(children)]}


def _unique(items: list[dict[str, Any]], where: str, what: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item["name"] in seen:
            raise TemplateError(where, f"{what} '{item['name']}' already exists in this module")
        seen.add(item["name"])


def _module(raw: Any, where: str, global_attributes: Collection[str]) -> dict[str, Any]:
    data = _object(raw, where)
    settings = {"name": _name(data, where, "Untitled"), "prefix": _text(data, "prefix", where, ""),
                "separator": _text(data, "separator", where, "-"), "digits": _field(data, "digits", where, 3),
                "default_classification": _classification(data, where, "normative")}
    digits = settings["digits"]
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= MAX_DIGITS:
        raise TemplateError(f"{where}.digits", f"must be an integer from 0 to {MAX_DIGITS}")
    definitions = [_definition(d, f"{where}.attribute_definitions[{i}]")
                   for i, d in enumerate(_array(data.get("attribute_definitions"), f"{where}.attribute_definitions"))]
    _unique(definitions, where, "attribute definition")
    known = {d["name"] for d in definitions} | set(global_attributes)
    types = [_object_type(t, f"{where}.object_types[{i}]", known)
             for i, t in enumerate(_array(data.get("object_types"), f"{where}.object_types"))]
    _unique(types, where, "object type")
    seeds = [_seed(s, f"{where}.seed_objects[{i}]", 0)
             for i, s in enumerate(_array(data.get("seed_objects"), f"{where}.seed_objects"))]
    return {**settings, "attribute_definitions": definitions, "object_types": types,
            "lifecycle_model": _lifecycle(data.get("lifecycle_model"), f"{where}.lifecycle_model"),
            "seed_objects": seeds}


def _link_type(raw: Any, where: str) -> dict[str, Any]:
    data = _object(raw, where)
    return {"name": _name(data, where), "description": _text(data, "description", where, None)}


def check_template(data: Any, global_attributes: Collection[str] = ()) -> dict[str, Any]:
    """``template_data`` normalized (every key present, defaults filled), or TemplateError for the first problem.

    ``global_attributes``: names of the global attribute definitions an object type may also require.
    """
    if not isinstance(data, dict):
        raise TemplateError("", "must be an object")
    modules = [_module(m, f"modules[{i}]", global_attributes)
               for i, m in enumerate(_array(data.get("modules"), "modules"))]
    link_types = [_link_type(t, f"link_types[{i}]") for i, t in enumerate(_array(data.get("link_types"), "link_types"))]
    seen: set[str] = set()
    for i, link_type in enumerate(link_types):
        key = link_type_key(link_type["name"])
        if key in seen:
            raise TemplateError(f"link_types[{i}]", f"duplicate link type '{link_type['name']}'")
        seen.add(key)
    return {"modules": modules, "link_types": link_types}

