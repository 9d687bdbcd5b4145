"""The CLI's pure output: tables, the object tree, validation and diff summaries, API error messages."""

from __future__ import annotations

from typing import Any

import pytest

from req1_server.client import render
from req1_server.client.api import ApiError, Response, error_from


def obj(oid: str, level: str, parent: str | None, position: int, reviewed: bool = False) -> dict[str, Any]:
    return {"id": oid, "level": level, "parent_id": parent, "position": position, "heading": f"H {level}",
            "classification": "normative", "current_version": 1, "content_fingerprint": "f",
            "reviewed_fingerprint": "f" if reviewed else None}


def test_table_aligns_and_caps_columns() -> None:
    out = render.table(["ID", "NAME"], [("1", "short"), ("22", "x" * 30)], {"NAME": 10}).splitlines()
    assert out[0] == "ID  NAME"
    assert out[1] == "1   short"
    assert out[2] == "22  xxxxxxxxx…"
    assert render.cell(None) == "-"
    assert render.cell("a\nb  c") == "a b c"


def test_objects_table_columns_and_reviewed_state() -> None:
    stale = {**obj("b", "2", None, 1), "reviewed_fingerprint": "old"}  # reviewed before a later edit
    lines = render.objects_table([obj("a", "1", None, 0, reviewed=True), stale]).splitlines()
    assert lines[0].split() == ["LEVEL", "ID", "HEADING", "CLASS", "VER", "REVIEWED"]
    assert lines[1].split()[-1] == "yes"
    assert lines[2].split()[-1] == "no"


def test_tree_indents_by_parent_and_orders_by_position() -> None:
    objects = [obj("c", "1.1", "a", 0), obj("b", "2", None, 1, reviewed=True), obj("a", "1", None, 0),
               obj("d", "1.1.1", "c", 0), obj("e", "9", "gone", 0)]
    lines = render.objects_tree(objects).splitlines()
    assert [line.split("(")[0].rstrip() for line in lines] == [
        "[ ] 1 H 1", "  [ ] 1.1 H 1.1", "    [ ] 1.1.1 H 1.1.1", "[R] 2 H 2", "[ ] 9 H 9"]


def test_validation_counts_and_error_detection() -> None:
    report = {"object_count": 3, "link_count": 1, "issues": [
        {"rule": "unreviewed", "severity": "info", "message": "[1] a — needs review"},
        {"rule": "orphan_object", "severity": "error", "message": "[2] orphan"}]}
    text = render.validation(report)
    assert text.splitlines()[0] == "3 objects, 1 links: 1 errors, 0 warnings, 1 info"
    assert "orphan_object" in text
    assert render.has_errors(report)
    assert not render.has_errors({"issues": report["issues"][:1]})


def test_diff_summary() -> None:
    text = render.diff({"added": [{"object_id": "n", "version": 1, "heading": "new"}], "removed": [],
                        "modified": [{"object_id": "m", "version_a": 1, "version_b": 2,
                                      "heading_a": "old", "heading_b": "renamed"}]})
    assert text.splitlines() == ["+ n  v1  new", "~ m  v1 -> v2  old -> renamed", "1 added, 0 removed, 1 modified"]


def test_error_from_uses_the_envelope_message_else_the_status() -> None:
    err = error_from(404, b'{"error":{"code":"NOT_FOUND","message":"module 1 not found"}}')
    assert (err.message, err.status, err.code, err.exit_code) == ("module 1 not found", 404, "NOT_FOUND", 1)
    assert error_from(502, b"<html>\nBad gateway</html>").message == "HTTP 502: <html> Bad gateway</html>"
    assert error_from(500, b"").message == "HTTP 500"
    assert ApiError("m", status=400, code="BAD_REQUEST").as_json() == {
        "error": {"code": "BAD_REQUEST", "message": "m", "status": 400}}


def test_a_success_that_is_not_json_is_an_error_not_a_traceback() -> None:
    with pytest.raises(ApiError, match="is the URL that of a req1 server"):
        Response(200, b"<html>welcome</html>", "text/html").json()
    assert Response(200, b'{"a":1}', "application/json").json() == {"a": 1}
    assert Response(204, b"", "").json() is None
