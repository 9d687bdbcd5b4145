"""Fingerprint per spec §4.3.2: stable across key order, sensitive to every content field."""

import hashlib

from req1_server.domain.fingerprint import canonical_json, content_fingerprint


def test_matches_the_documented_formula() -> None:
    expected = hashlib.sha256('H\0<p>b</p>\0{"a":1,"b":"é"}'.encode()).hexdigest()
    assert content_fingerprint("H", "<p>b</p>", {"b": "é", "a": 1}) == expected


def test_nulls_and_empty_attributes() -> None:
    assert content_fingerprint(None, None, None) == hashlib.sha256(b"\0\0").hexdigest()
    assert content_fingerprint(None, None, {}) == hashlib.sha256(b"\0\0{}").hexdigest()


def test_key_order_does_not_matter_but_content_does() -> None:
    base = content_fingerprint("a", "b", {"x": 1, "y": [1, 2]})
    assert base == content_fingerprint("a", "b", {"y": [1, 2], "x": 1})
    assert base != content_fingerprint("a", "b", {"x": 2, "y": [1, 2]})
    assert base != content_fingerprint("a ", "b", {"x": 1, "y": [1, 2]})
    assert canonical_json({"b": 1, "a": None}) == '{"a":null,"b":1}'
