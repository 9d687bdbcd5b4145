"""Baseline diff classification and module validation rules."""

from typing import Any

from req1_server.domain.diff import classify
from req1_server.domain.validation import VLink, VObject, validate


def row(
    oid: str, va: int | None, vb: int | None, a: tuple[Any, ...] = (None,) * 3, b: tuple[Any, ...] = (None,) * 3
) -> dict[str, Any]:
    return {
        "object_id": oid,
        "version_a": va,
        "version_b": vb,
        "heading_a": a[0],
        "body_a": a[1],
        "attributes_a": a[2],
        "heading_b": b[0],
        "body_b": b[1],
        "attributes_b": b[2],
    }


def test_classify() -> None:
    same = ("h", "b", {"x": 1})
    out = classify(
        [
            row("1", 1, None, same),
            row("2", None, 2, b=same),
            row("3", 1, 3, same, ("h2", "b", {"x": 1})),
            row("4", 1, 2, same, same),  # a move: new version, same content
            row("5", 2, 2, same, same),
            row("6", 1, 2, same, ("h", "b", {"x": 2})),
        ]
    )
    assert [e["object_id"] for e in out["removed"]] == ["1"]
    assert out["added"] == [{"object_id": "2", "version": 2, "heading": "h", "body": "b", "attributes": {"x": 1}}]
    assert [(m["object_id"], m["version_a"], m["version_b"], m["heading_b"]) for m in out["modified"]] == [
        ("3", 1, 3, "h2"),
        ("6", 1, 2, "h"),
    ]


def test_validation_rules() -> None:
    objects = [
        VObject("a", None, "1", None, None, "normative", {}, False),
        VObject("b", "gone", "2", "B", "<p>x</p>", "informative", {"req": 1}, True),
        VObject("c", None, "3", None, None, "heading", {"req": 1}, True),
    ]
    links = [VLink("l1", "a", "b", True, True, True), VLink("l2", "a", "zz", False, True, False)]
    issues = validate(objects, links, ["req"])
    assert [(i["rule"], i["severity"], i["object_id"] or i["link_id"]) for i in issues] == [
        ("missing_heading", "warning", "a"),
        ("missing_body", "warning", "a"),
        ("missing_required_attribute", "error", "a"),
        ("unreviewed", "info", "a"),
        ("orphan_object", "error", "b"),
        ("suspect_link", "warning", "l1"),
        ("dangling_link", "error", "l2"),
    ]
    assert issues[0]["message"] == "[1] object has no heading"
    assert issues[5]["message"] == "link a -> b is suspect"
