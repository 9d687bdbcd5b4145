"""CSV import rules, publish formats, and the CSV publish → import round trip."""

import pytest

from req1_server.domain.attributes import AttrDef
from req1_server.domain.csv_import import CsvImportError, decode, parse_rows
from req1_server.domain.publish import PublishError, PubObject, render, resolve_format

DEFS = {
    "weight": AttrDef("weight", "integer"),
    "tags": AttrDef("tags", "enum", ("a", "b"), multi_select=True),
    "ok": AttrDef("ok", "bool"),
}


def test_rows_depth_and_types() -> None:
    text = decode(
        '\ufefflevel,heading,body,weight,tags,ok,ignored\n1,A,,5,a;b,yes,x\n,skip,,,,,\n1.1,B,<p>b</p>,,["b"],0,\n'.encode()
    )
    rows = parse_rows(text, DEFS)
    assert [(r.row, r.depth, r.heading, r.body, r.attributes) for r in rows] == [
        (1, 0, "A", None, {"weight": 5, "tags": ["a", "b"], "ok": True}),
        (3, 1, "B", "<p>b</p>", {"tags": ["b"], "ok": False}),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("heading\nx\n", "missing required CSV column: 'level'"),
        ("", "missing required CSV column: 'level'"),
        ("level,weight\n1,1\n2,x\n", "row 2: attribute 'weight' must be an integer"),
        (
            "level,classification\n1,weird\n",
            "row 1: invalid classification 'weird', must be one of: normative, informative, heading",
        ),
        ("level\n1\n1.1.1\n", "row 2: level '1.1.1' has no parent at depth 1"),
    ],
)
def test_row_errors(text: str, message: str) -> None:
    with pytest.raises(CsvImportError) as info:
        parse_rows(text, DEFS)
    assert str(info.value) == message


def test_non_utf8_rejected() -> None:
    with pytest.raises(CsvImportError, match="UTF-8"):
        decode(b"level\n\xff\n")


OBJECTS = [
    PubObject("1", "1", "Intro <x>", "<p>Hi <script>alert(1)</script></p>", "heading", 2, {"weight": 5}),
    PubObject("2", "1.1", "Sub", '<p>Body, "quoted"\nline</p>', "normative", 1, {"tags": ["a"], "ok": True}),
]


def test_formats() -> None:
    html = render("html", "M & N", OBJECTS, [])
    assert "<h1>M &amp; N</h1>" in html and "<h2>1 Intro &lt;x&gt;</h2>" in html and "<h3>1.1 Sub</h3>" in html
    assert "<script" not in html
    md = render("md", "M", OBJECTS, [])
    assert md.startswith("# M\n\nGenerated: ") and "## 1 Intro <x>" in md and "*Classification: heading*" in md
    assert "### 1.1 Sub" in md and "<p>" not in md
    assert resolve_format("markdown") == "md" and resolve_format(None) == "html"
    with pytest.raises(PublishError, match="unsupported format 'pdf', supported: html, md, csv"):
        resolve_format("pdf")


def test_csv_publish_reimports_unchanged() -> None:
    out = render("csv", "M", OBJECTS, ["weight", "tags", "ok"])
    assert out.splitlines()[0] == "id,level,heading,body,classification,version,weight,tags,ok"
    rows = parse_rows(out, DEFS)
    assert [(r.depth, r.heading, r.body, r.classification, r.attributes) for r in rows] == [
        (0, "Intro <x>", OBJECTS[0].body, "heading", {"weight": 5}),
        (1, "Sub", OBJECTS[1].body, "normative", {"tags": ["a"], "ok": True}),
    ]
