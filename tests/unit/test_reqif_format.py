"""ReqIF 1.2: export → parse round trip, and hostile documents rejected with clear messages."""

from __future__ import annotations

import io
import uuid
import zipfile

import pytest

from req1_server.domain.object_types import check_layout
from req1_server.domain.reqif.model import AttrSpec, ExportLink, ExportModule, ExportObject, ExportType, ReqifError
from req1_server.domain.reqif.parse import MAX_VALUE_CHARS, parse, unpack
from req1_server.domain.reqif.serialize import serialize, to_reqifz
from req1_server.domain.reqif.types import type_layout, unique_names
from req1_server.domain.sanitize import sanitize_html

U = [str(uuid.uuid4()) for _ in range(10)]


def sample() -> ExportModule:
    attrs = [
        (U[0], AttrSpec("priority", "enum", ["low", "high"], False)),
        (U[1], AttrSpec("tags", "enum", ["a", "b", "c"], True)),
        (U[2], AttrSpec("weight", "integer")),
        (U[3], AttrSpec("ratio", "float")),
        (U[4], AttrSpec("safety", "bool")),
        (U[5], AttrSpec("due", "date")),
        (U[6], AttrSpec("note", "rich_text")),
        (U[7], AttrSpec("owner", "string")),
    ]
    child = ExportObject(
        U[9],
        "Child & <sub>",
        sanitize_html('<p>line<br>two &amp; <b>bold</b></p><img src="https://x/y.png" alt="i">'),
        {"weight": -3, "safety": False, "tags": ["a", "c"]},
    )
    root = ExportObject(
        U[8],
        "Intro",
        sanitize_html("<p>Hello</p>"),
        {"priority": "high", "ratio": 0.25, "due": "2026-01-02", "note": "<p>n</p>", "owner": "ann"},
        [child],
    )
    link = ExportLink(str(uuid.uuid4()), U[9], U[8], str(uuid.uuid4()), "satisfies")
    return ExportModule(str(uuid.uuid4()), "Spec ü", attrs, [root], [link])


def test_round_trip_keeps_tree_content_attributes_and_links() -> None:
    module = sample()
    doc = parse(unpack(to_reqifz(serialize(module), module.id), "x.reqifz", 10**7))
    assert doc.title == "Spec ü"
    assert [s.name for s in doc.specifications] == ["Spec ü"]
    (root_node,) = doc.specifications[0].roots
    (child_node,) = root_node.children
    root, child = doc.objects[root_node.object_ref], doc.objects[child_node.object_ref]
    assert root.heading == "Intro" and sanitize_html(root.body) == module.roots[0].body
    assert child.heading == "Child & <sub>"
    assert sanitize_html(child.body) == module.roots[0].children[0].body
    assert root.attributes == module.roots[0].attributes
    assert child.attributes == module.roots[0].children[0].attributes
    assert {name: (a.data_type, a.enum_values, a.multi_select) for name, a in doc.attributes.items()} == {
        spec.name: (spec.data_type, spec.enum_values, spec.multi_select) for _, spec in module.attributes
    }
    (relation,) = doc.relations
    assert (relation.source, relation.target, relation.type_name) == (
        child_node.object_ref,
        root_node.object_ref,
        "satisfies",
    )


def wrap(content: str, header: str = "<REQ-IF-VERSION>1.2</REQ-IF-VERSION>") -> bytes:
    return (
        '<?xml version="1.0"?><REQ-IF xmlns="http://www.omg.org/spec/ReqIF/20110401/reqif.xsd">'
        f"<THE-HEADER><REQ-IF-HEADER IDENTIFIER='h'>{header}</REQ-IF-HEADER></THE-HEADER>"
        f"<CORE-CONTENT><REQ-IF-CONTENT>{content}</REQ-IF-CONTENT></CORE-CONTENT></REQ-IF>"
    ).encode()


SPEC = "<SPECIFICATIONS><SPECIFICATION IDENTIFIER='s'><CHILDREN/></SPECIFICATION></SPECIFICATIONS>"
STRING_DEF = (
    "<DATATYPES><DATATYPE-DEFINITION-STRING IDENTIFIER='dt'/></DATATYPES><SPEC-TYPES><SPEC-OBJECT-TYPE IDENTIFIER='t'>"
    "<SPEC-ATTRIBUTES><ATTRIBUTE-DEFINITION-STRING IDENTIFIER='a' LONG-NAME='x'><TYPE>"
    "<DATATYPE-DEFINITION-STRING-REF>dt</DATATYPE-DEFINITION-STRING-REF></TYPE></ATTRIBUTE-DEFINITION-STRING>"
    "</SPEC-ATTRIBUTES></SPEC-OBJECT-TYPE></SPEC-TYPES>"
)
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>'
    b"<REQ-IF>&lol2;</REQ-IF>"
)
EXTERNAL = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><REQ-IF>&x;</REQ-IF>'


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<REQ-IF><unclosed>", "invalid reqif XML: "),
        (b"not xml at all", "invalid reqif XML: "),
        (BILLION_LAUGHS, "invalid reqif XML: forbidden construct"),
        (EXTERNAL, "invalid reqif XML: forbidden construct"),
        (b"<OTHER/>", "invalid reqif XML: root element is OTHER, expected REQ-IF"),
        (wrap(SPEC, "<REQ-IF-VERSION>2.0</REQ-IF-VERSION>"), "invalid reqif XML: unsupported ReqIF version: 2.0"),
        (wrap(""), "invalid reqif XML: no SPECIFICATIONS found"),
        (
            wrap("<DATATYPES><DATATYPE-DEFINITION-MAGIC IDENTIFIER='m'/></DATATYPES>" + SPEC),
            "invalid reqif XML: unknown datatype DATATYPE-DEFINITION-MAGIC (m)",
        ),
        (
            wrap(
                STRING_DEF
                + "<SPEC-OBJECTS><SPEC-OBJECT IDENTIFIER='o'><VALUES><ATTRIBUTE-VALUE-STRING THE-VALUE='"
                + "x" * (MAX_VALUE_CHARS + 1)
                + "'><DEFINITION><ATTRIBUTE-DEFINITION-STRING-REF>a"
                "</ATTRIBUTE-DEFINITION-STRING-REF></DEFINITION></ATTRIBUTE-VALUE-STRING></VALUES></SPEC-OBJECT>"
                "</SPEC-OBJECTS>" + SPEC
            ),
            f"invalid reqif XML: value of SPEC-OBJECT o attribute x exceeds {MAX_VALUE_CHARS} characters",
        ),
        (
            wrap(
                STRING_DEF + "<SPEC-OBJECTS/><SPECIFICATIONS><SPECIFICATION IDENTIFIER='s'><CHILDREN><SPEC-HIERARCHY "
                "IDENTIFIER='h1'><OBJECT><SPEC-OBJECT-REF>nope</SPEC-OBJECT-REF></OBJECT></SPEC-HIERARCHY></CHILDREN>"
                "</SPECIFICATION></SPECIFICATIONS>"
            ),
            "invalid reqif XML: SPEC-HIERARCHY h1 references unknown SPEC-OBJECT nope",
        ),
    ],
)
def test_hostile_or_broken_documents(data: bytes, message: str) -> None:
    with pytest.raises(ReqifError) as info:
        parse(data)
    assert str(info.value).startswith(message)


def test_reqifz_without_reqif_and_zip_bomb_limits() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hi")
    with pytest.raises(ReqifError, match=r"invalid reqifz: no \.reqif file found in archive"):
        unpack(buffer.getvalue(), "a.reqifz", 1000)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.reqif", b"\0" * 100_000)
    with pytest.raises(ReqifError, match="unpacks to more than 1000 bytes"):
        unpack(bomb.getvalue(), "b.reqifz", 1000)
    with pytest.raises(ReqifError, match="invalid reqifz"):
        unpack(b"PK\x03\x04garbage", "c.reqif", 1000)


@pytest.mark.parametrize(
    "data",
    [
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "x">]><REQ-IF>&a;</REQ-IF>'.encode("utf-16"),
        '<?xml version="1.0" encoding="cp500"?><!DOCTYPE r [<!ENTITY a "x">]><REQ-IF>&a;</REQ-IF>'.encode("cp500"),
        b'<?xml version="1.0"?>\n<!DOCTYPE REQ-IF SYSTEM "file:///etc/passwd"><REQ-IF/>',
        b"<REQ-IF>&undefined;</REQ-IF>",
    ],
)
def test_dtds_are_refused_in_any_encoding(data: bytes) -> None:
    """The fast C-parser path is only taken when a byte scan proves there is no DTD."""
    with pytest.raises(ReqifError, match=r"^invalid reqif XML: "):
        parse(data)


def test_object_types_travel_with_their_objects() -> None:
    """Extended spec §1: one SPEC-OBJECT-TYPE per type plus the default one for untyped objects."""
    module = sample()
    typed = str(uuid.uuid4())
    module.object_types = [ExportType(typed, "Shall", "statements")]
    module.roots[0].type_id = typed
    doc = parse(serialize(module))
    assert [(t.identifier, t.name, t.description) for t in doc.object_types] == [
        (f"req1-{typed}", "Shall", "statements"), (f"req1-default-type-{module.id}", "Requirement", None)]
    assert doc.object_types[0].attribute_names == [spec.name for _, spec in module.attributes]
    (root_node,) = doc.specifications[0].roots
    child_ref = root_node.children[0].object_ref
    assert doc.objects[root_node.object_ref].type_ref == f"req1-{typed}"
    assert doc.objects[child_ref].type_ref == f"req1-default-type-{module.id}"
    assert doc.objects[child_ref].attributes == module.roots[0].children[0].attributes


def test_imported_type_names_and_layouts() -> None:
    assert unique_names(["A", "A", "A (2)", "A", "B"]) == ["A", "A (2)", "A (2) (2)", "A (3)", "B"]
    assert unique_names(["A"], taken=["A"]) == ["A (2)"]
    layout = type_layout("Shall", ["owner", "risk", "owner"])
    assert check_layout(layout) == layout
    assert [(f["attribute_name"], f["order"]) for f in layout["sections"][0]["fields"]] == [("owner", 0), ("risk", 1)]
    assert check_layout(type_layout("Empty", [])) == {"sections": [{"id": "reqif", "title": "Empty", "columns": 1,
                                                                     "fields": []}]}
