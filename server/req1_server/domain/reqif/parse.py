"""ReqIF 1.2 reader for untrusted files: no DTDs, no entities, no network, bounded sizes.

Files are read as a stream (:func:`parse_file`): a `.reqifz` entry is inflated as it is parsed (never whole),
and each SPEC-OBJECT, SPEC-RELATION and SPECIFICATION is turned into the model as soon as its end tag is read,
then dropped from the tree, so memory follows the model rather than the file. Everything that is wrong raises
ReqifError with a message naming the element, so an import can answer 400 and change nothing.

Three steps, three modules: xmlstream.py delivers safe XML events, this walk decides which finished element is
which section, elements.py turns each section into the model.
"""

from __future__ import annotations

import io
import zipfile
from typing import IO, Any
from xml.etree import ElementTree as ET

from req1_server.domain.reqif.elements import (
    CHAPTER_NAME,
    MAX_VALUE_CHARS,
    TEXT,
    check_refs,
    header_title,
    parse_datatypes,
    parse_object,
    parse_spec_types,
    parse_specification,
    ref_text,
)
from req1_server.domain.reqif.model import (
    AttrSpec,
    ObjectTypeSpec,
    Relation,
    ReqifDocument,
    ReqifError,
    Specification,
    SpecObject,
)
from req1_server.domain.reqif.xhtml import local
from req1_server.domain.reqif.xmlstream import bad, events, fast_path_safe, opener, stream_safe, unpack

__all__ = ["MAX_VALUE_CHARS", "parse", "parse_file", "parse_stream", "unpack"]

CONTENT_PATH = ("REQ-IF", "CORE-CONTENT", "REQ-IF-CONTENT")
HEADER_PATH = ("REQ-IF", "THE-HEADER", "REQ-IF-HEADER")


def parse_file(file: IO[bytes], file_name: str | None, max_unpacked: int) -> ReqifDocument:
    """Parse an uploaded `.reqif`/`.reqifz` from a (spooled) file, streaming."""
    open_xml = opener(file, file_name, max_unpacked)
    try:
        with open_xml() as scan:
            safe = stream_safe(scan)
        with open_xml() as stream:
            return parse_stream(stream, safe)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise ReqifError(f"invalid reqifz: {exc}") from None


def parse(data: bytes) -> ReqifDocument:
    """Parse a whole document held in memory (tests, small files)."""
    return parse_stream(io.BytesIO(data), fast_path_safe(data))


def parse_stream(stream: IO[bytes], safe: bool) -> ReqifDocument:
    """Build the model while the XML streams in: sections are handled at their end tags and then cleared."""
    path: list[str] = []
    parents: list[ET.Element] = []
    title: str | None = None
    seen_content = False
    datatypes: dict[str, dict[str, Any]] | None = None
    attr_defs: dict[str, dict[str, Any]] = {}
    object_types: dict[str, ObjectTypeSpec] = {}
    relation_type_names: dict[str, str] = {}
    objects: dict[str, SpecObject] = {}
    specifications: list[Specification] = []
    raw_relations: list[tuple[str, str | None, str | None, str | None]] = []
    for event, element in events(stream, safe):
        name = local(element.tag)
        if event == "start":
            if not path and name != "REQ-IF":
                raise bad(f"root element is {name}, expected REQ-IF")
            path.append(name)
            parents.append(element)
            continue
        where = tuple(path[:-1])
        path.pop()
        parents.pop()
        if where == HEADER_PATH[:2] and name == "REQ-IF-HEADER":
            title = header_title(element)
        elif where == CONTENT_PATH[:2] and name == "REQ-IF-CONTENT":
            seen_content = True
        elif where == CONTENT_PATH:
            if name == "DATATYPES":
                datatypes = parse_datatypes(element)
            elif name == "SPEC-TYPES":
                attr_defs, object_types, relation_type_names = parse_spec_types(element, datatypes or {})
            element.clear()
        elif where == (*CONTENT_PATH, "SPEC-OBJECTS") and name == "SPEC-OBJECT":
            obj = parse_object(element, attr_defs, datatypes or {})
            objects[obj.identifier] = obj
            parents[-1].clear()  # every earlier sibling is done too
        elif where == (*CONTENT_PATH, "SPEC-RELATIONS") and name == "SPEC-RELATION":
            raw_relations.append((element.get("IDENTIFIER", "?"), ref_text(element, "SOURCE"),
                                  ref_text(element, "TARGET"), ref_text(element, "TYPE")))
            parents[-1].clear()
        elif where == (*CONTENT_PATH, "SPECIFICATIONS") and name == "SPECIFICATION":
            specifications.append(parse_specification(element))
            parents[-1].clear()
    if not seen_content:
        raise bad("missing CORE-CONTENT/REQ-IF-CONTENT")
    for spec in specifications:
        check_refs(spec, objects)
    if not specifications:
        raise bad("no SPECIFICATIONS found")
    relations: list[Relation] = []
    for ident, source, target, type_ref in raw_relations:
        if source is None or target is None:
            raise bad(f"SPEC-RELATION {ident} lacks SOURCE or TARGET")
        for end in (source, target):
            if end not in objects:
                raise bad(f"SPEC-RELATION {ident} references unknown SPEC-OBJECT {end}")
        type_name = relation_type_names.get(type_ref or "", type_ref or "relation")
        relations.append(Relation(source, target, type_name))

    attributes: dict[str, AttrSpec] = {}
    for definition in attr_defs.values():
        if definition["name"] in {CHAPTER_NAME, TEXT}:
            continue
        attributes.setdefault(definition["name"], definition["spec"])
    return ReqifDocument(
        title=title,
        attributes=attributes,
        objects=objects,
        specifications=specifications,
        relations=relations,
        relation_types=sorted(set(relation_type_names.values())),
        object_types=list(object_types.values()),
    )
