"""template_data (extended contract §11): defaults, normalization, and each rule of §1, §2 and core §4.5 refused
with its path in the message."""

from __future__ import annotations

from typing import Any

import pytest

from req1_server.domain.templates import MAX_DIGITS, MAX_SEED_DEPTH, TemplateError, check_template, link_type_key


def test_defaults_fill_every_key() -> None:
    data = check_template({"modules": [{"attribute_definitions": [{}], "object_types": [{}], "lifecycle_model": {},
                                        "seed_objects": [{"heading": "G", "children": [{"heading": "R"}]}]}]})
    module = data["modules"][0]
    assert {k: module[k] for k in ("name", "prefix", "separator", "digits", "default_classification")} == {
        "name": "Untitled", "prefix": "", "separator": "-", "digits": 3, "default_classification": "normative"}
    assert module["attribute_definitions"] == [{"name": "Unnamed", "data_type": "string", "enum_values": None}]
    assert module["object_types"] == [{"name": "Unnamed", "default_classification": "normative",
                                       "required_attributes": []}]
    assert module["lifecycle_model"] == {"name": "Default Lifecycle", "initial_state": "draft", "states": [],
                                         "transitions": []}
    group = module["seed_objects"][0]
    assert (group["classification"], group["body"]) == ("heading", None)  # top level: headings
    assert group["children"][0]["classification"] == "normative"  # below: requirements
    assert data["link_types"] == []
    assert check_template(data) == data  # normalized data is a fixed point: what is read back is what is stored
    assert check_template({}) == {"modules": [], "link_types": []}


def test_rules_of_the_parts_hold() -> None:
    data = check_template({"modules": [{
        "attribute_definitions": [{"name": "Flag", "data_type": "boolean"},
                                  {"name": "Level", "data_type": "enum", "enum_values": ["A", "B"]}],
        "object_types": [{"name": "Req", "required_attributes": ["Level", "Owner", "Level"]}],
        "lifecycle_model": {"name": "L", "states": [{"name": "draft", "color": "#fff"}, {"name": "done"}],
                            "transitions": [{"from": "draft", "to": "done", "required_role": "admin"}]},
    }], "link_types": [{"name": "Derives From"}]}, global_attributes=["Owner"])
    module = data["modules"][0]
    assert module["attribute_definitions"][0]["data_type"] == "bool"  # `boolean` = `bool`
    assert module["object_types"][0]["required_attributes"] == ["Level", "Owner"]  # a global name counts
    assert module["lifecycle_model"]["states"][1] == {"name": "done", "color": None, "description": None}
    assert data["link_types"] == [{"name": "Derives From", "description": None}]


def seeds(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"heading": "leaf"}
    for _ in range(depth - 1):
        node = {"heading": "x", "children": [node]}
    return node


BAD: list[tuple[Any, str]] = [
    ([], "must be an object"),
    ({"modules": {}}, "modules: must be an array"),
    ({"modules": [1]}, "modules[0]: must be an object"),
    ({"modules": [{"name": " "}]}, "modules[0]: name must not be empty"),
    ({"modules": [{"name": 3}]}, "modules[0].name: must be a string"),
    ({"modules": [{"digits": "4"}]}, f"modules[0].digits: must be an integer from 0 to {MAX_DIGITS}"),
    ({"modules": [{"digits": True}]}, f"modules[0].digits: must be an integer from 0 to {MAX_DIGITS}"),
    ({"modules": [{"digits": -1}]}, f"modules[0].digits: must be an integer from 0 to {MAX_DIGITS}"),
    ({"modules": [{"digits": 2**31}]}, f"modules[0].digits: must be an integer from 0 to {MAX_DIGITS}"),
    ({"modules": [{"default_classification": "x"}]},
     "modules[0]: invalid classification 'x', must be one of: normative, informative, heading"),
    ({"modules": [{"attribute_definitions": [{"name": "a", "data_type": "money"}]}]},
     "modules[0].attribute_definitions[0]: invalid data_type 'money'"),
    ({"modules": [{"attribute_definitions": [{"name": "a", "data_type": "enum"}]}]},
     "modules[0].attribute_definitions[0]: enum type requires a non-empty enum_values array"),
    ({"modules": [{"attribute_definitions": [{"name": "a", "enum_values": ["x"]}]}]},
     "modules[0].attribute_definitions[0]: enum_values may only be set when data_type is 'enum', not 'string'"),
    ({"modules": [{"attribute_definitions": [{"name": "a", "data_type": "enum", "enum_values": [1]}]}]},
     "modules[0].attribute_definitions[0].enum_values: must be an array of strings"),
    ({"modules": [{"attribute_definitions": [{"name": "a"}, {"name": "a"}]}]},
     "modules[0]: attribute definition 'a' already exists in this module"),
    ({"modules": [{"object_types": [{"name": "T", "required_attributes": ["nope"]}]}]},
     "modules[0].object_types[0]: unknown attribute 'nope'"),
    ({"modules": [{"object_types": [{"name": "T", "required_attributes": "a"}]}]},
     "modules[0].object_types[0].required_attributes: must be an array"),
    ({"modules": [{"object_types": [{"name": "T"}, {"name": "T"}]}]},
     "modules[0]: object type 'T' already exists in this module"),
    ({"modules": [{"lifecycle_model": {"states": [{"name": "a"}]}}]},
     "modules[0].lifecycle_model: initial_state 'draft' is not one of the states"),
    ({"modules": [{"lifecycle_model": {"initial_state": "a", "states": [{"name": "a"}, {"name": "a"}]}}]},
     "modules[0].lifecycle_model: duplicate state 'a'"),
    ({"modules": [{"lifecycle_model": {"states": [{"name": "draft"}], "transitions": [{"from": "draft", "to": "b"}]}}]},
     "modules[0].lifecycle_model: transition references unknown state 'b'"),
    ({"modules": [{"lifecycle_model": {"transitions": [{"from": "a", "to": "b", "required_role": "boss"}]}}]},
     "modules[0].lifecycle_model: invalid required_role 'boss', must be one of: admin, editor, reviewer, viewer"),
    ({"modules": [{"seed_objects": [{"heading": "G", "children": [{"classification": "x"}]}]}]},
     "modules[0].seed_objects[0].children[0]: invalid classification 'x', must be one of: normative, informative, "
     "heading"),
    ({"modules": [{"seed_objects": [{"body": 5}]}]}, "modules[0].seed_objects[0].body: must be a string"),
    ({"modules": [{"seed_objects": [seeds(MAX_SEED_DEPTH + 1)]}]},
     "modules[0].seed_objects[0]" + ".children[0]" * MAX_SEED_DEPTH
     + f": seed objects may nest at most {MAX_SEED_DEPTH} levels"),
    ({"link_types": [{"description": "no name"}]}, "link_types[0]: missing 'name'"),
    ({"link_types": [{"name": "Derives From"}, {"name": "derives-from"}]},
     "link_types[1]: duplicate link type 'derives-from'"),
]


@pytest.mark.parametrize(("data", "detail"), BAD, ids=[detail[:50] for _, detail in BAD])
def test_refusals_name_the_place_and_the_rule(data: Any, detail: str) -> None:
    with pytest.raises(TemplateError) as caught:
        check_template(data)
    assert str(caught.value) == "invalid template_data: " + detail


def count(nodes: list[dict[str, Any]]) -> int:
    return sum(1 + count(n["children"]) for n in nodes)


def test_deepest_allowed_nesting() -> None:
    data = check_template({"modules": [{"seed_objects": [seeds(MAX_SEED_DEPTH), {"heading": "second"}]}]})
    assert count(data["modules"][0]["seed_objects"]) == MAX_SEED_DEPTH + 1


def test_link_type_names_match_ignoring_case_and_space_or_hyphen() -> None:
    assert link_type_key("Derives From") == link_type_key("derives-from") == link_type_key(" DERIVES  -from ")
    assert link_type_key("Satisfies") != link_type_key("Verifies")
