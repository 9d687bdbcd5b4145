"""Turning ReqIF elements into the model: datatypes, attribute definitions, SPEC-OBJECTs with their typed values,
SPECIFICATION hierarchies and the cross-checks of their references. Each function gets one finished element of the
stream (parse.py decides when) and raises ReqifError naming the element that is wrong.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from req1_server.domain.reqif.model import AttrSpec, HierNode, ObjectTypeSpec, Specification, SpecObject
from req1_server.domain.reqif.xhtml import local, the_value_to_html
from req1_server.domain.reqif.xmlstream import bad

MAX_VALUE_CHARS = 1_000_000
MAX_HIERARCHY_DEPTH = 64
SUPPORTED_VERSIONS = {"1.0", "1.0.1", "1.1", "1.2"}
CHAPTER_NAME = "ReqIF.ChapterName"
TEXT = "ReqIF.Text"

DATATYPE_KINDS = {
    "DATATYPE-DEFINITION-BOOLEAN": "bool",
    "DATATYPE-DEFINITION-DATE": "date",
    "DATATYPE-DEFINITION-ENUMERATION": "enum",
    "DATATYPE-DEFINITION-INTEGER": "integer",
    "DATATYPE-DEFINITION-REAL": "float",
    "DATATYPE-DEFINITION-STRING": "string",
    "DATATYPE-DEFINITION-XHTML": "rich_text",
}


def _children(element: ET.Element | None, name: str) -> list[ET.Element]:
    if element is None:
        return []
    return [child for child in element if local(child.tag) == name]


def _elements(element: ET.Element | None) -> list[ET.Element]:
    return list(element) if element is not None else []


def _child(element: ET.Element | None, name: str) -> ET.Element | None:
    if element is None:
        return None
    for child in element:
        if local(child.tag) == name:
            return child
    return None


def ref_text(element: ET.Element | None, container: str) -> str | None:
    """Text of the single `*-REF` inside `<container>` (e.g. TYPE, DEFINITION, OBJECT)."""
    holder = _child(element, container)
    if holder is None:
        return None
    for child in holder:
        if local(child.tag).endswith("-REF") and child.text:
            return child.text.strip()
    return None


def header_title(header: ET.Element) -> str | None:
    version_el = _child(header, "REQ-IF-VERSION")
    version = (version_el.text or "").strip() if version_el is not None else ""
    if version and version not in SUPPORTED_VERSIONS:
        raise bad(f"unsupported ReqIF version: {version}")
    title_el = _child(header, "TITLE")
    return (title_el.text or "").strip() or None if title_el is not None else None


def _name(element: ET.Element) -> str:
    return (element.get("LONG-NAME") or element.get("IDENTIFIER") or "").strip()


def parse_datatypes(element: ET.Element | None) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for dt in _elements(element):
        kind = local(dt.tag)
        ident = dt.get("IDENTIFIER")
        if not ident:
            raise bad(f"{kind} without IDENTIFIER")
        if kind not in DATATYPE_KINDS:
            raise bad(f"unknown datatype {kind} ({ident})")
        entry: dict[str, Any] = {"kind": DATATYPE_KINDS[kind], "enum": {}}
        if kind == "DATATYPE-DEFINITION-ENUMERATION":
            for value in _children(_child(dt, "SPECIFIED-VALUES"), "ENUM-VALUE"):
                value_id = value.get("IDENTIFIER")
                if value_id:
                    entry["enum"][value_id] = _name(value)
        out[ident] = entry
    return out


def parse_spec_types(
    element: ET.Element | None, datatypes: dict[str, dict[str, Any]]
) -> tuple[dict[str, dict[str, Any]], dict[str, ObjectTypeSpec], dict[str, str]]:
    """Attribute definitions by identifier, spec-object types by identifier, relation type names."""
    attr_defs: dict[str, dict[str, Any]] = {}
    spec_types: dict[str, ObjectTypeSpec] = {}
    relation_types: dict[str, str] = {}
    for spec_type in _elements(element):
        kind = local(spec_type.tag)
        ident = spec_type.get("IDENTIFIER", "")
        names: list[str] = []
        if kind == "SPEC-RELATION-TYPE":
            relation_types[ident] = _name(spec_type)
        elif kind == "SPEC-OBJECT-TYPE":
            spec_types[ident] = ObjectTypeSpec(ident, _name(spec_type) or "SPEC-OBJECT-TYPE",
                                               spec_type.get("DESC") or None, names)
        for attr in _elements(_child(spec_type, "SPEC-ATTRIBUTES")):
            attr_kind = local(attr.tag)
            attr_id = attr.get("IDENTIFIER")
            if not attr_id:
                raise bad(f"{attr_kind} without IDENTIFIER in {ident}")
            type_ref = ref_text(attr, "TYPE")
            if type_ref is None or type_ref not in datatypes:
                raise bad(f"{attr_kind} {attr_id} references unknown datatype {type_ref}")
            datatype = datatypes[type_ref]
            data_type = datatype["kind"]
            expected = attr_kind.removeprefix("ATTRIBUTE-DEFINITION-")
            if not attr_kind.startswith("ATTRIBUTE-DEFINITION-"):
                raise bad(f"unknown attribute definition {attr_kind} ({attr_id})")
            if DATATYPE_KINDS.get(f"DATATYPE-DEFINITION-{expected}") != data_type:
                raise bad(f"{attr_kind} {attr_id} uses a {data_type} datatype")
            multi = (attr.get("MULTI-VALUED") or "").lower() == "true"
            enum_values = list(datatype["enum"].values()) if data_type == "enum" else None
            if data_type == "enum" and not enum_values:
                raise bad(f"enumeration datatype {type_ref} has no ENUM-VALUE")
            attr_defs[attr_id] = {
                "name": _name(attr),
                "spec": AttrSpec(_name(attr), data_type, enum_values, multi and data_type == "enum"),
                "datatype": type_ref,
            }
            if _name(attr) not in {CHAPTER_NAME, TEXT, *names}:  # heading and body are no attributes
                names.append(_name(attr))
    return attr_defs, spec_types, relation_types


def _check_size(value: str, where: str) -> str:
    if len(value) > MAX_VALUE_CHARS:
        raise bad(f"value of {where} exceeds {MAX_VALUE_CHARS} characters")
    return value


def _parse_value(
    value_el: ET.Element, definition: dict[str, Any], datatypes: dict[str, dict[str, Any]], where: str
) -> Any:
    kind = local(value_el.tag).removeprefix("ATTRIBUTE-VALUE-")
    spec: AttrSpec = definition["spec"]
    if kind == "XHTML":
        the_value = _child(value_el, "THE-VALUE")
        return _check_size(the_value_to_html(the_value), where) if the_value is not None else None
    if kind == "ENUMERATION":
        enum_map = datatypes[definition["datatype"]]["enum"]
        names: list[str] = []
        for ref in _children(_child(value_el, "VALUES"), "ENUM-VALUE-REF"):
            ref_id = (ref.text or "").strip()
            if ref_id not in enum_map:
                raise bad(f"{where} references unknown ENUM-VALUE {ref_id}")
            names.append(enum_map[ref_id])
        if spec.multi_select:
            return names
        return names[0] if names else None
    raw = value_el.get("THE-VALUE")
    if raw is None:
        return None
    _check_size(raw, where)
    try:
        if kind == "INTEGER":
            return int(raw)
        if kind == "REAL":
            return float(raw)
        if kind == "BOOLEAN":
            lowered = raw.strip().lower()
            if lowered not in {"true", "false", "1", "0"}:
                raise ValueError(raw)
            return lowered in {"true", "1"}
    except ValueError:
        raise bad(f"{where} has an invalid {kind.lower()} value '{raw[:50]}'") from None
    if kind in {"STRING", "DATE"}:
        return raw
    raise bad(f"unknown attribute value {local(value_el.tag)} in {where}")


def parse_object(
    obj: ET.Element, attr_defs: dict[str, dict[str, Any]], datatypes: dict[str, dict[str, Any]]
) -> SpecObject:
    ident = obj.get("IDENTIFIER")
    if not ident:
        raise bad("SPEC-OBJECT without IDENTIFIER")
    heading: str | None = None
    body: str | None = None
    attributes: dict[str, Any] = {}
    for value_el in _elements(_child(obj, "VALUES")):
        def_ref = ref_text(value_el, "DEFINITION")
        if def_ref is None or def_ref not in attr_defs:
            raise bad(f"SPEC-OBJECT {ident} has a value of unknown attribute definition {def_ref}")
        definition = attr_defs[def_ref]
        value = _parse_value(value_el, definition, datatypes, f"SPEC-OBJECT {ident} attribute {definition['name']}")
        if value is None:
            continue
        if definition["name"] == CHAPTER_NAME:
            heading = str(value) if not isinstance(value, list) else ", ".join(value)
        elif definition["name"] == TEXT:
            body = str(value)
        else:
            attributes[definition["name"]] = value
    if heading is None:
        heading = obj.get("LONG-NAME") or None
    return SpecObject(ident, heading, body, attributes, ref_text(obj, "TYPE"))


def parse_specification(spec: ET.Element) -> Specification:
    ident = spec.get("IDENTIFIER", "?")

    def nodes(parent: ET.Element | None, depth: int) -> list[HierNode]:
        if depth > MAX_HIERARCHY_DEPTH:
            raise bad(f"SPECIFICATION {ident} nests deeper than {MAX_HIERARCHY_DEPTH} levels")
        out: list[HierNode] = []
        for hier in _children(_child(parent, "CHILDREN"), "SPEC-HIERARCHY"):
            ref = ref_text(hier, "OBJECT")
            if ref is None:
                raise bad(f"SPEC-HIERARCHY {hier.get('IDENTIFIER', '?')} references unknown SPEC-OBJECT {ref}")
            out.append(HierNode(ref, nodes(hier, depth + 1), hier.get("IDENTIFIER", "?")))
        return out

    return Specification(_name(spec) or ident, nodes(spec, 1))


def check_refs(spec: Specification, objects: dict[str, SpecObject]) -> None:
    """Every SPEC-HIERARCHY names a SPEC-OBJECT of the file (checked once the whole file is read)."""
    stack = list(spec.roots)
    while stack:
        node = stack.pop()
        if node.object_ref not in objects:
            raise bad(f"SPEC-HIERARCHY {node.hierarchy_id} references unknown SPEC-OBJECT {node.object_ref}")
        stack.extend(node.children)
