"""ReqIF 1.2 writer for one module (spec §4.13 export)."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
import zipfile
from typing import Any
from xml.etree import ElementTree as ET

from req1_server.domain.reqif.model import AttrSpec, ExportModule, ExportObject
from req1_server.domain.reqif.parse import CHAPTER_NAME, TEXT
from req1_server.domain.reqif.types import default_type_key, definition_id
from req1_server.domain.reqif.xhtml import XHTML_NS, html_to_xhtml_div

REQIF_NS = "http://www.omg.org/spec/ReqIF/20110401/reqif.xsd"
ET.register_namespace("", REQIF_NS)
ET.register_namespace("xhtml", XHTML_NS)

KIND = {
    "bool": "BOOLEAN",
    "date": "DATE",
    "enum": "ENUMERATION",
    "integer": "INTEGER",
    "float": "REAL",
    "string": "STRING",
    "user_ref": "STRING",
    "rich_text": "XHTML",
}


def _q(name: str) -> str:
    return f"{{{REQIF_NS}}}{name}"


def _sub(parent: ET.Element, name: str, attrib: dict[str, str] | None = None, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, _q(name), attrib or {})
    if text is not None:
        element.text = text
    return element


def _rid(value: str) -> str:
    return f"req1-{value}"


def _enum_value_id(definition_id: str, value: str) -> str:
    return _rid(str(uuid.uuid5(uuid.UUID(definition_id), value)))


def _ref(parent: ET.Element, container: str, ref_name: str, target: str) -> None:
    _sub(_sub(parent, container), ref_name, text=target)


def serialize(module: ExportModule, now: dt.datetime | None = None) -> bytes:
    """The module as a ReqIF 1.2 document (UTF-8 bytes with an XML declaration)."""
    stamp = (now or dt.datetime.now(dt.UTC)).isoformat()
    root = ET.Element(_q("REQ-IF"))
    header = _sub(_sub(root, "THE-HEADER"), "REQ-IF-HEADER", {"IDENTIFIER": f"req1-export-{module.id}"})
    _sub(header, "CREATION-TIME", text=stamp)
    _sub(header, "REQ-IF-TOOL-ID", text="req1")
    _sub(header, "REQ-IF-VERSION", text="1.2")
    _sub(header, "SOURCE-TOOL-ID", text="req1")
    _sub(header, "TITLE", text=module.name)
    content = _sub(_sub(root, "CORE-CONTENT"), "REQ-IF-CONTENT")

    datatypes = _sub(content, "DATATYPES")
    common = {"LAST-CHANGE": stamp}
    string_dt, xhtml_dt = _rid("datatype-string"), _rid("datatype-xhtml")
    _sub(
        datatypes,
        "DATATYPE-DEFINITION-STRING",
        {"IDENTIFIER": string_dt, "LONG-NAME": "String", "MAX-LENGTH": "1000000", **common},
    )
    _sub(datatypes, "DATATYPE-DEFINITION-XHTML", {"IDENTIFIER": xhtml_dt, "LONG-NAME": "XHTML", **common})
    simple = {
        "BOOLEAN": ({"LONG-NAME": "Boolean"}, _rid("datatype-boolean")),
        "DATE": ({"LONG-NAME": "Date"}, _rid("datatype-date")),
        "INTEGER": (
            {"LONG-NAME": "Integer", "MIN": "-9223372036854775808", "MAX": "9223372036854775807"},
            _rid("datatype-integer"),
        ),
        "REAL": (
            {"LONG-NAME": "Real", "ACCURACY": "15", "MIN": "-1.7976931348623157E308", "MAX": "1.7976931348623157E308"},
            _rid("datatype-real"),
        ),
    }
    datatype_of: dict[str, str] = {}
    used = {KIND[spec.data_type] for _, spec in module.attributes}
    for kind, (attrib, ident) in simple.items():
        if kind in used:
            _sub(datatypes, f"DATATYPE-DEFINITION-{kind}", {"IDENTIFIER": ident, **attrib, **common})
    for def_id, spec in module.attributes:
        kind = KIND[spec.data_type]
        if kind == "ENUMERATION":
            ident = _rid(f"datatype-{def_id}")
            enum_dt = _sub(
                datatypes, "DATATYPE-DEFINITION-ENUMERATION", {"IDENTIFIER": ident, "LONG-NAME": spec.name, **common}
            )
            values = _sub(enum_dt, "SPECIFIED-VALUES")
            for index, value in enumerate(spec.enum_values or []):
                ev = _sub(
                    values, "ENUM-VALUE", {"IDENTIFIER": _enum_value_id(def_id, value), "LONG-NAME": value, **common}
                )
                props = _sub(ev, "PROPERTIES")
                _sub(props, "EMBEDDED-VALUE", {"KEY": str(index), "OTHER-CONTENT": ""})
            datatype_of[def_id] = ident
        elif kind == "STRING":
            datatype_of[def_id] = string_dt
        elif kind == "XHTML":
            datatype_of[def_id] = xhtml_dt
        else:
            datatype_of[def_id] = simple[kind][1]

    flat: list[ExportObject] = []
    stack = list(reversed(module.roots))
    while stack:
        node = stack.pop()
        flat.append(node)
        stack.extend(reversed(node.children))
    spec_types = _sub(content, "SPEC-TYPES")
    type_defs = _object_types(spec_types, module, flat, string_dt, xhtml_dt, datatype_of, common)
    type_ids: dict[str, str] = {}
    for link in module.links:
        if link.type_id not in type_ids:
            type_ids[link.type_id] = _rid(link.type_id)
            _sub(
                spec_types,
                "SPEC-RELATION-TYPE",
                {"IDENTIFIER": type_ids[link.type_id], "LONG-NAME": link.type_name, **common},
            )
    spec_type_id = _rid(f"spectype-{module.id}")
    _sub(spec_types, "SPECIFICATION-TYPE", {"IDENTIFIER": spec_type_id, "LONG-NAME": "Specification", **common})

    spec_objects = _sub(content, "SPEC-OBJECTS")
    default_key = default_type_key(module.id)
    for obj in flat:
        type_key = obj.type_id if obj.type_id is not None and obj.type_id in type_defs else default_key
        chapter_id, text_id, attr_ids = type_defs[type_key]
        so = _sub(spec_objects, "SPEC-OBJECT", {"IDENTIFIER": _rid(obj.id), "LONG-NAME": obj.heading or "", **common})
        _ref(so, "TYPE", "SPEC-OBJECT-TYPE-REF", _rid(type_key))
        values = _sub(so, "VALUES")
        if obj.heading is not None:
            v = _sub(values, "ATTRIBUTE-VALUE-STRING", {"THE-VALUE": obj.heading})
            _ref(v, "DEFINITION", "ATTRIBUTE-DEFINITION-STRING-REF", chapter_id)
        if obj.body is not None:
            v = _sub(values, "ATTRIBUTE-VALUE-XHTML")
            _ref(v, "DEFINITION", "ATTRIBUTE-DEFINITION-XHTML-REF", text_id)
            _sub(v, "THE-VALUE").append(html_to_xhtml_div(obj.body))
        for name, value in obj.attributes.items():
            if name not in attr_ids or value is None:
                continue
            ident, def_id, spec = attr_ids[name]
            _write_value(values, ident, def_id, spec, value)

    relations = _sub(content, "SPEC-RELATIONS")
    for link in module.links:
        rel = _sub(relations, "SPEC-RELATION", {"IDENTIFIER": _rid(link.id), **common})
        _ref(rel, "TYPE", "SPEC-RELATION-TYPE-REF", type_ids[link.type_id])
        _ref(rel, "SOURCE", "SPEC-OBJECT-REF", _rid(link.source))
        _ref(rel, "TARGET", "SPEC-OBJECT-REF", _rid(link.target))

    specs = _sub(content, "SPECIFICATIONS")
    spec_el = _sub(specs, "SPECIFICATION", {"IDENTIFIER": _rid(module.id), "LONG-NAME": module.name, **common})
    _ref(spec_el, "TYPE", "SPECIFICATION-TYPE-REF", spec_type_id)

    def hierarchy(parent: ET.Element, nodes: list[ExportObject]) -> None:
        if not nodes:
            return
        children = _sub(parent, "CHILDREN")
        for node in nodes:
            hier = _sub(children, "SPEC-HIERARCHY", {"IDENTIFIER": _rid(f"h-{node.id}"), **common})
            _ref(hier, "OBJECT", "SPEC-OBJECT-REF", _rid(node.id))
            hierarchy(hier, node.children)

    hierarchy(spec_el, module.roots)
    buffer = io.BytesIO()
    ET.ElementTree(root).write(buffer, encoding="utf-8", xml_declaration=True)
    return buffer.getvalue()


# per SPEC-OBJECT-TYPE key: the heading's and the body's definition IDENTIFIERs, and by attribute name the
# definition's IDENTIFIER in that type, the req1 definition id and its spec
TypeDefs = tuple[str, str, dict[str, tuple[str, str, AttrSpec]]]


def _object_types(spec_types: ET.Element, module: ExportModule, flat: list[ExportObject], string_dt: str,
                  xhtml_dt: str, datatype_of: dict[str, str], common: dict[str, str]) -> dict[str, TypeDefs]:
    """One SPEC-OBJECT-TYPE per object type of the module, plus the default type when objects have none (or the
    module has no type, so its definitions still travel); each with its own definitions."""
    types = [(t.id, t.name, t.description) for t in module.object_types]
    known = {t.id for t in module.object_types}
    if not types or any(obj.type_id not in known for obj in flat):
        types.append((default_type_key(module.id), "Requirement", None))
    out: dict[str, TypeDefs] = {}
    for key, name, description in types:
        attrib = {"IDENTIFIER": _rid(key), "LONG-NAME": name, **common}
        if description is not None:
            attrib["DESC"] = description
        attrs_el = _sub(_sub(spec_types, "SPEC-OBJECT-TYPE", attrib), "SPEC-ATTRIBUTES")
        chapter_id, text_id = definition_id(key, module.id, "chapter"), definition_id(key, module.id, "text")
        ad = _sub(attrs_el, "ATTRIBUTE-DEFINITION-STRING", {"IDENTIFIER": chapter_id, "LONG-NAME": CHAPTER_NAME,
                                                            **common})
        _ref(ad, "TYPE", "DATATYPE-DEFINITION-STRING-REF", string_dt)
        ad = _sub(attrs_el, "ATTRIBUTE-DEFINITION-XHTML", {"IDENTIFIER": text_id, "LONG-NAME": TEXT, **common})
        _ref(ad, "TYPE", "DATATYPE-DEFINITION-XHTML-REF", xhtml_dt)
        attr_ids: dict[str, tuple[str, str, AttrSpec]] = {}
        for def_id, spec in module.attributes:
            kind = KIND[spec.data_type]
            ident = definition_id(key, def_id, "attribute")
            attrib = {"IDENTIFIER": ident, "LONG-NAME": spec.name, **common}
            if kind == "ENUMERATION":
                attrib["MULTI-VALUED"] = "true" if spec.multi_select else "false"
            ad = _sub(attrs_el, f"ATTRIBUTE-DEFINITION-{kind}", attrib)
            _ref(ad, "TYPE", f"DATATYPE-DEFINITION-{kind}-REF", datatype_of[def_id])
            attr_ids[spec.name] = (ident, def_id, spec)
        out[key] = (chapter_id, text_id, attr_ids)
    return out


def _write_value(values: ET.Element, ident: str, def_id: str, spec: AttrSpec, value: Any) -> None:
    kind = KIND[spec.data_type]
    ref_name = f"ATTRIBUTE-DEFINITION-{kind}-REF"
    if kind == "XHTML":
        v = _sub(values, "ATTRIBUTE-VALUE-XHTML")
        _ref(v, "DEFINITION", ref_name, ident)
        _sub(v, "THE-VALUE").append(html_to_xhtml_div(str(value)))
        return
    if kind == "ENUMERATION":
        items = value if isinstance(value, list) else [value]
        v = _sub(values, "ATTRIBUTE-VALUE-ENUMERATION")
        _ref(v, "DEFINITION", ref_name, ident)
        refs = _sub(v, "VALUES")
        for item in items:
            _sub(refs, "ENUM-VALUE-REF", text=_enum_value_id(def_id, str(item)))
        return
    if kind == "BOOLEAN":
        text = "true" if value else "false"
    elif kind in {"INTEGER", "REAL"}:
        text = json.dumps(value)
    else:
        text = str(value)
    v = _sub(values, f"ATTRIBUTE-VALUE-{kind}", {"THE-VALUE": text})
    _ref(v, "DEFINITION", ref_name, ident)


def to_reqifz(xml: bytes, module_id: str) -> bytes:
    """Wrap a ReqIF document in a `.reqifz` archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{module_id}.reqif", xml)
    return buffer.getvalue()
