"""Attribute definition and value rules with the API's messages (spec §4.5)."""

from typing import Any

import pytest

from req1_server.domain.attributes import (
    AttrDef,
    AttributeError_,
    check_definition,
    check_required,
    coerce_text,
    normalize_data_type,
    validate_attributes,
)

DEFS = {
    "s": AttrDef("s", "string"),
    "i": AttrDef("i", "integer", default_value="3"),
    "f": AttrDef("f", "float"),
    "b": AttrDef("b", "bool", default_value="true"),
    "d": AttrDef("d", "date"),
    "e": AttrDef("e", "enum", ("low", "high")),
    "m": AttrDef("m", "enum", ("a", "b", "c"), multi_select=True),
    "r": AttrDef("r", "rich_text"),
}


def test_valid_values_and_typed_defaults() -> None:
    out = validate_attributes(
        {"s": "x", "f": 1, "d": "2024-02-29", "e": "low", "m": ["a", "c"], "r": "<p onclick='x'>y</p>", "b": None},
        DEFS,
        apply_defaults=True,
    )
    assert out == {"s": "x", "f": 1, "d": "2024-02-29", "e": "low", "m": ["a", "c"], "r": "<p>y</p>", "i": 3}
    assert validate_attributes({"m": "b"}, DEFS)["m"] == ["b"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"zz": 1}, "unknown attribute 'zz'"),
        ({"s": 1}, "attribute 's' must be a string"),
        ({"i": True}, "attribute 'i' must be an integer"),
        ({"i": 1.5}, "attribute 'i' must be an integer"),
        ({"f": False}, "attribute 'f' must be a number"),
        ({"b": "yes"}, "attribute 'b' must be a boolean"),
        ({"d": "31/12/2024"}, "attribute 'd' must be an ISO 8601 date"),
        ({"e": "mid"}, "attribute 'e' value 'mid' not in allowed values: [\"low\", \"high\"]"),
        ({"m": ["a", "a"]}, "attribute 'm' value 'a' is repeated"),
        ([], "attributes must be a JSON object"),
    ],
)
def test_invalid_values(values: Any, message: str) -> None:
    with pytest.raises(AttributeError_, match="^" + message.replace("[", r"\[").replace("]", r"\]") + "$"):
        validate_attributes(values, DEFS)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("enum", None, None, False), "enum type requires a non-empty enum_values array"),
        (("string", ["a"], None, False), "enum_values may only be set when data_type is 'enum', not 'string'"),
        (("integer", None, "abc", False), "default_value 'abc' is not a valid integer"),
        (("float", None, "x", False), "default_value 'x' is not a valid float"),
        (("bool", None, "maybe", False), "default_value 'maybe' is not a valid boolean"),
        (("enum", ["a"], "b", False), "default_value 'b' is not in enum_values: [\"a\"]"),
    ],
)
def test_definition_rules(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(AttributeError_) as info:
        check_definition(*args)
    assert str(info.value) == message


def test_data_type_alias_and_required() -> None:
    assert normalize_data_type("boolean") == "bool"
    with pytest.raises(AttributeError_, match="invalid data_type 'x'"):
        normalize_data_type("x")
    with pytest.raises(AttributeError_, match="missing required attribute 'i'"):
        check_required({"i": None}, ["i"])


def test_text_cells() -> None:
    assert coerce_text(DEFS["b"], "yes") is True
    assert coerce_text(DEFS["i"], " 7 ") == 7
    assert coerce_text(DEFS["m"], '["a","b"]') == ["a", "b"]
    assert coerce_text(DEFS["m"], "a; c") == ["a", "c"]
    with pytest.raises(AttributeError_, match="attribute 'i' must be an integer"):
        coerce_text(DEFS["i"], "x")
