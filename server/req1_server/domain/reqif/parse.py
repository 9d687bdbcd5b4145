"""ReqIF 1.2 reader for untrusted files: no DTDs, no entities, no network, bounded sizes.

Files are read as a stream (:func:`parse_file`): a `.reqifz` entry is inflated as it is parsed (never whole),
and each SPEC-OBJECT, SPEC-RELATION and SPECIFICATION is turned into the model as soon as its end tag is read,
then dropped from the tree, so memory follows the model rather than the file. Everything that is wrong raises
ReqifError with a message naming the element, so an import can answer 400 and change nothing.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from typing import IO, Any
from xml.etree import ElementTree as ET

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from req1_server.domain.reqif.model import (
    AttrSpec,
    HierNode,
    Relation,
    ReqifDocument,
    ReqifError,
    Specification,
    SpecObject,
)
from req1_server.domain.reqif.xhtml import local, the_value_to_html

MAX_VALUE_CHARS = 1_000_000
MAX_HIERARCHY_DEPTH = 64
SUPPORTED_VERSIONS = {"1.0", "1.0.1", "1.1", "1.2"}
CHAPTER_NAME = "ReqIF.ChapterName"
TEXT = "ReqIF.Text"
ZIP_MAGIC = b"PK\x03\x04"

DATATYPE_KINDS = {
    "DATATYPE-DEFINITION-BOOLEAN": "bool",
    "DATATYPE-DEFINITION-DATE": "date",
    "DATATYPE-DEFINITION-ENUMERATION": "enum",
    "DATATYPE-DEFINITION-INTEGER": "integer",
    "DATATYPE-DEFINITION-REAL": "float",
    "DATATYPE-DEFINITION-STRING": "string",
    "DATATYPE-DEFINITION-XHTML": "rich_text",
}


def unpack(data: bytes, file_name: str | None, max_unpacked: int) -> bytes:
    """The XML bytes: the first `*.reqif` of a `.reqifz` archive (bounded), else the data itself."""
    is_zip = (file_name or "").lower().endswith(".reqifz") or data.startswith(ZIP_MAGIC)
    if not is_zip:
        return data
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entry = next((i for i in archive.infolist() if i.filename.lower().endswith(".reqif") and not i.is_dir()), None)
        if entry is None:
            raise ReqifError("invalid reqifz: no .reqif file found in archive")
        if entry.file_size > max_unpacked:
            raise ReqifError(f"invalid reqifz: {entry.filename} unpacks to more than {max_unpacked} bytes")
        with archive.open(entry) as handle:
            content = handle.read(max_unpacked + 1)
    except zipfile.BadZipFile as exc:
        raise ReqifError(f"invalid reqifz: {exc}") from None
    if len(content) > max_unpacked:
        raise ReqifError(f"invalid reqifz: archive unpacks to more than {max_unpacked} bytes")
    return content


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


def _ref_text(element: ET.Element | None, container: str) -> str | None:
    """Text of the single `*-REF` inside `<container>` (e.g. TYPE, DEFINITION, OBJECT)."""
    holder = _child(element, container)
    if holder is None:
        return None
    for child in holder:
        if local(child.tag).endswith("-REF") and child.text:
            return child.text.strip()
    return None


def _bad(message: str) -> ReqifError:
    return ReqifError(f"invalid reqif XML: {message}")


ASCII_COMPATIBLE = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1"}
XML_DECL_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _fast_path_safe(data: bytes) -> bool:
    """True when a byte scan can prove there is no DTD: an ASCII-compatible encoding and no `<!DOCTYPE`.

    Without a DOCTYPE there can be no entity declarations and no external DTD, so the C parser is safe.
    Anything else (UTF-16/32, EBCDIC and other declared encodings) goes through defusedxml.
    """
    head = data[:4]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        return False
    match = XML_DECL_ENCODING.match(data[:200])
    if match is not None and match.group(1).decode("ascii").lower() not in ASCII_COMPATIBLE:
        return False
    return b"<!DOCTYPE" not in data and b"<!ENTITY" not in data


STREAM_CHUNK = 64 * 1024
CONTENT_PATH = ("REQ-IF", "CORE-CONTENT", "REQ-IF-CONTENT")
HEADER_PATH = ("REQ-IF", "THE-HEADER", "REQ-IF-HEADER")


class _Bounded(io.RawIOBase):
    """A reader that refuses to yield more than ``limit`` bytes (an archive entry's real inflated size)."""

    def __init__(self, raw: IO[bytes], limit: int, name: str) -> None:
        self.raw, self.limit, self.name, self.seen = raw, limit, name, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(STREAM_CHUNK if size is None or size < 0 else size)
        self.seen += len(chunk)
        if self.seen > self.limit:
            raise ReqifError(f"invalid reqifz: {self.name} unpacks to more than {self.limit} bytes")
        return chunk

    def close(self) -> None:
        self.raw.close()
        super().close()


class _Borrowed(io.RawIOBase):
    """The upload itself, read again from the start; closing this leaves the upload open (its owner closes it)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self.raw.read(size)


def opener(file: IO[bytes], file_name: str | None, max_unpacked: int) -> Callable[[], IO[bytes]]:
    """A function giving a fresh stream of the XML: the file itself, or the first `*.reqif` of a `.reqifz`."""
    file.seek(0)
    is_zip = (file_name or "").lower().endswith(".reqifz") or file.read(4) == ZIP_MAGIC
    file.seek(0)
    if not is_zip:
        def plain() -> IO[bytes]:
            file.seek(0)
            return _Borrowed(file)  # type: ignore[return-value]
        return plain
    try:
        archive = zipfile.ZipFile(file)
        entry = next((i for i in archive.infolist() if i.filename.lower().endswith(".reqif") and not i.is_dir()), None)
    except zipfile.BadZipFile as exc:
        raise ReqifError(f"invalid reqifz: {exc}") from None
    if entry is None:
        raise ReqifError("invalid reqifz: no .reqif file found in archive")
    if entry.file_size > max_unpacked:
        raise ReqifError(f"invalid reqifz: {entry.filename} unpacks to more than {max_unpacked} bytes")

    def inflated() -> IO[bytes]:
        try:
            return _Bounded(archive.open(entry), max_unpacked, entry.filename)  # type: ignore[return-value]
        except zipfile.BadZipFile as exc:
            raise ReqifError(f"invalid reqifz: {exc}") from None
    return inflated


def _stream_safe(stream: IO[bytes]) -> bool:
    """:func:`_fast_path_safe` over a stream, chunk by chunk (the markers may straddle two chunks)."""
    head = stream.read(STREAM_CHUNK)
    if not _fast_path_safe(head):
        return False
    tail = head[-16:]
    while chunk := stream.read(STREAM_CHUNK):
        window = tail + chunk
        if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
            return False
        tail = window[-16:]
    return True


def parse_file(file: IO[bytes], file_name: str | None, max_unpacked: int) -> ReqifDocument:
    """Parse an uploaded `.reqif`/`.reqifz` from a (spooled) file, streaming."""
    open_xml = opener(file, file_name, max_unpacked)
    try:
        with open_xml() as scan:
            safe = _stream_safe(scan)
        with open_xml() as stream:
            return parse_stream(stream, safe)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise ReqifError(f"invalid reqifz: {exc}") from None


def parse(data: bytes) -> ReqifDocument:
    """Parse a whole document held in memory (tests, small files)."""
    return parse_stream(io.BytesIO(data), _fast_path_safe(data))


def _events(stream: IO[bytes], safe: bool) -> Iterator[tuple[str, ET.Element]]:
    """(event, element) pairs; plain documents take the C parser (several times faster on large files),
    anything that might carry a DTD goes through defusedxml, which rejects it."""
    try:
        if safe:
            yield from ET.iterparse(stream, events=("start", "end"))  # noqa: S314 - proven DTD-free
        else:
            yield from DET.iterparse(stream, events=("start", "end"), forbid_dtd=True, forbid_entities=True,
                                     forbid_external=True)
    except DefusedXmlException as exc:
        raise _bad(f"forbidden construct: {type(exc).__name__}") from None
    except ET.ParseError as exc:
        raise _bad(str(exc)) from None
    except (ValueError, UnicodeError) as exc:
        if isinstance(exc, ReqifError):
            raise
        raise _bad(str(exc)) from None


def parse_stream(stream: IO[bytes], safe: bool) -> ReqifDocument:
    """Build the model while the XML streams in: sections are handled at their end tags and then cleared."""
    path: list[str] = []
    parents: list[ET.Element] = []
    title: str | None = None
    seen_content = False
    datatypes: dict[str, dict[str, Any]] | None = None
    attr_defs: dict[str, dict[str, Any]] = {}
    relation_type_names: dict[str, str] = {}
    objects: dict[str, SpecObject] = {}
    specifications: list[Specification] = []
    raw_relations: list[tuple[str, str | None, str | None, str | None]] = []
    for event, element in _events(stream, safe):
        name = local(element.tag)
        if event == "start":
            if not path and name != "REQ-IF":
                raise _bad(f"root element is {name}, expected REQ-IF")
            path.append(name)
            parents.append(element)
            continue
        where = tuple(path[:-1])
        path.pop()
        parents.pop()
        if where == HEADER_PATH[:2] and name == "REQ-IF-HEADER":
            title = _header_title(element)
        elif where == CONTENT_PATH[:2] and name == "REQ-IF-CONTENT":
            seen_content = True
        elif where == CONTENT_PATH:
            if name == "DATATYPES":
                datatypes = _parse_datatypes(element)
            elif name == "SPEC-TYPES":
                attr_defs, _, relation_type_names = _parse_spec_types(element, datatypes or {})
            element.clear()
        elif where == (*CONTENT_PATH, "SPEC-OBJECTS") and name == "SPEC-OBJECT":
            obj = _parse_object(element, attr_defs, datatypes or {})
            objects[obj.identifier] = obj
            parents[-1].clear()  # every earlier sibling is done too
        elif where == (*CONTENT_PATH, "SPEC-RELATIONS") and name == "SPEC-RELATION":
            raw_relations.append((element.get("IDENTIFIER", "?"), _ref_text(element, "SOURCE"),
                                  _ref_text(element, "TARGET"), _ref_text(element, "TYPE")))
            parents[-1].clear()
        elif where == (*CONTENT_PATH, "SPECIFICATIONS") and name == "SPECIFICATION":
            specifications.append(_parse_specification(element))
            parents[-1].clear()
    if not seen_content:
        raise _bad("missing CORE-CONTENT/REQ-IF-CONTENT")
    for spec in specifications:
        _check_refs(spec, objects)
    if not specifications:
        raise _bad("no SPECIFICATIONS found")
    relations: list[Relation] = []
    for ident, source, target, type_ref in raw_relations:
        if source is None or target is None:
            raise _bad(f"SPEC-RELATION {ident} lacks SOURCE or TARGET")
        for end in (source, target):
            if end not in objects:
                raise _bad(f"SPEC-RELATION {ident} references unknown SPEC-OBJECT {end}")
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
    )


def _header_title(header: ET.Element) -> str | None:
    version_el = _child(header, "REQ-IF-VERSION")
    version = (version_el.text or "").strip() if version_el is not None else ""
    if version and version not in SUPPORTED_VERSIONS:
        raise _bad(f"unsupported ReqIF version: {version}")
    title_el = _child(header, "TITLE")
    return (title_el.text or "").strip() or None if title_el is not None else None


def _name(element: ET.Element) -> str:
    return (element.get("LONG-NAME") or element.get("IDENTIFIER") or "").strip()


def _parse_datatypes(element: ET.Element | None) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for dt in _elements(element):
        kind = local(dt.tag)
        ident = dt.get("IDENTIFIER")
        if not ident:
            raise _bad(f"{kind} without IDENTIFIER")
        if kind not in DATATYPE_KINDS:
            raise _bad(f"unknown datatype {kind} ({ident})")
        entry: dict[str, Any] = {"kind": DATATYPE_KINDS[kind], "enum": {}}
        if kind == "DATATYPE-DEFINITION-ENUMERATION":
            for value in _children(_child(dt, "SPECIFIED-VALUES"), "ENUM-VALUE"):
                value_id = value.get("IDENTIFIER")
                if value_id:
                    entry["enum"][value_id] = _name(value)
        out[ident] = entry
    return out


def _parse_spec_types(
    element: ET.Element | None, datatypes: dict[str, dict[str, Any]]
) -> tuple[dict[str, dict[str, Any]], dict[str, str], dict[str, str]]:
    """Attribute definitions by identifier, spec-object type names, relation type names."""
    attr_defs: dict[str, dict[str, Any]] = {}
    spec_types: dict[str, str] = {}
    relation_types: dict[str, str] = {}
    for spec_type in _elements(element):
        kind = local(spec_type.tag)
        ident = spec_type.get("IDENTIFIER", "")
        if kind == "SPEC-RELATION-TYPE":
            relation_types[ident] = _name(spec_type)
        elif kind == "SPEC-OBJECT-TYPE":
            spec_types[ident] = _name(spec_type)
        for attr in _elements(_child(spec_type, "SPEC-ATTRIBUTES")):
            attr_kind = local(attr.tag)
            attr_id = attr.get("IDENTIFIER")
            if not attr_id:
                raise _bad(f"{attr_kind} without IDENTIFIER in {ident}")
            type_ref = _ref_text(attr, "TYPE")
            if type_ref is None or type_ref not in datatypes:
                raise _bad(f"{attr_kind} {attr_id} references unknown datatype {type_ref}")
            datatype = datatypes[type_ref]
            data_type = datatype["kind"]
            expected = attr_kind.removeprefix("ATTRIBUTE-DEFINITION-")
            if not attr_kind.startswith("ATTRIBUTE-DEFINITION-"):
                raise _bad(f"unknown attribute definition {attr_kind} ({attr_id})")
            if DATATYPE_KINDS.get(f"DATATYPE-DEFINITION-{expected}") != data_type:
                raise _bad(f"{attr_kind} {attr_id} uses a {data_type} datatype")
            multi = (attr.get("MULTI-VALUED") or "").lower() == "true"
            enum_values = list(datatype["enum"].values()) if data_type == "enum" else None
            if data_type == "enum" and not enum_values:
                raise _bad(f"enumeration datatype {type_ref} has no ENUM-VALUE")
            attr_defs[attr_id] = {
                "name": _name(attr),
                "spec": AttrSpec(_name(attr), data_type, enum_values, multi and data_type == "enum"),
                "datatype": type_ref,
            }
    return attr_defs, spec_types, relation_types


def _check_size(value: str, where: str) -> str:
    if len(value) > MAX_VALUE_CHARS:
        raise _bad(f"value of {where} exceeds {MAX_VALUE_CHARS} characters")
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
                raise _bad(f"{where} references unknown ENUM-VALUE {ref_id}")
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
        raise _bad(f"{where} has an invalid {kind.lower()} value '{raw[:50]}'") from None
    if kind in {"STRING", "DATE"}:
        return raw
    raise _bad(f"unknown attribute value {local(value_el.tag)} in {where}")


def _parse_object(
    obj: ET.Element, attr_defs: dict[str, dict[str, Any]], datatypes: dict[str, dict[str, Any]]
) -> SpecObject:
    ident = obj.get("IDENTIFIER")
    if not ident:
        raise _bad("SPEC-OBJECT without IDENTIFIER")
    heading: str | None = None
    body: str | None = None
    attributes: dict[str, Any] = {}
    for value_el in _elements(_child(obj, "VALUES")):
        def_ref = _ref_text(value_el, "DEFINITION")
        if def_ref is None or def_ref not in attr_defs:
            raise _bad(f"SPEC-OBJECT {ident} has a value of unknown attribute definition {def_ref}")
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
    return SpecObject(ident, heading, body, attributes)


def _parse_specification(spec: ET.Element) -> Specification:
    ident = spec.get("IDENTIFIER", "?")

    def nodes(parent: ET.Element | None, depth: int) -> list[HierNode]:
        if depth > MAX_HIERARCHY_DEPTH:
            raise _bad(f"SPECIFICATION {ident} nests deeper than {MAX_HIERARCHY_DEPTH} levels")
        out: list[HierNode] = []
        for hier in _children(_child(parent, "CHILDREN"), "SPEC-HIERARCHY"):
            ref = _ref_text(hier, "OBJECT")
            if ref is None:
                raise _bad(f"SPEC-HIERARCHY {hier.get('IDENTIFIER', '?')} references unknown SPEC-OBJECT {ref}")
            out.append(HierNode(ref, nodes(hier, depth + 1), hier.get("IDENTIFIER", "?")))
        return out

    return Specification(_name(spec) or ident, nodes(spec, 1))


def _check_refs(spec: Specification, objects: dict[str, SpecObject]) -> None:
    """Every SPEC-HIERARCHY names a SPEC-OBJECT of the file (checked once the whole file is read)."""
    stack = list(spec.roots)
    while stack:
        node = stack.pop()
        if node.object_ref not in objects:
            raise _bad(f"SPEC-HIERARCHY {node.hierarchy_id} references unknown SPEC-OBJECT {node.object_ref}")
        stack.extend(node.children)
