"""The pure rules of change proposals (extended contract §4): the graph, the role per move, the shape of
diff_data, and the object PATCH that applying it makes."""

from __future__ import annotations

import uuid

import pytest

from req1_server.domain.change_proposals import (
    NOT_CHANGES,
    STATUSES,
    Change,
    ProposalError,
    check_move,
    grouped,
    object_updates,
    parse_diff,
    proposal_status,
    role_needed_for_move,
)

OID = uuid.UUID("01890000-0000-7000-8000-000000000001")
EDGES = {("draft", "submitted"), ("draft", "approved"), ("draft", "rejected"), ("submitted", "in_review"),
         ("submitted", "approved"), ("submitted", "rejected"), ("submitted", "draft"), ("in_review", "approved"),
         ("in_review", "rejected"), ("approved", "applied"), ("approved", "rejected"), ("rejected", "draft")}


def test_graph_is_exactly_the_contracts() -> None:
    for current in STATUSES:
        for wanted in STATUSES:
            if (current, wanted) in EDGES:
                check_move(current, wanted)
            else:
                with pytest.raises(ProposalError, match=f"from '{current}' to '{wanted}' is not allowed"):
                    check_move(current, wanted)


def test_status_words_and_roles() -> None:
    with pytest.raises(ProposalError, match="invalid status 'done', must be one of: draft, submitted, in_review, "
                                            "approved, rejected, applied"):
        proposal_status("done")
    assert [role_needed_for_move(s) for s in STATUSES] == [None, "reviewer", "reviewer", "reviewer", "reviewer",
                                                          "editor"]


@pytest.mark.parametrize(("raw", "message"), [
    ("x", NOT_CHANGES), ({"a": 1}, NOT_CHANGES), ([None], NOT_CHANGES), ([{"field": "heading"}], NOT_CHANGES),
    ([{"object_id": 5, "field": "heading"}], NOT_CHANGES), ([{"object_id": str(OID), "field": 3}], NOT_CHANGES),
    ([{"object_id": str(OID), "field": "body", "new_value": 1}], NOT_CHANGES),
    ([{"object_id": str(OID), "field": "parent_id"}], "unsupported field 'parent_id'"),
    ([{"object_id": str(OID), "field": "classification", "new_value": None}], "invalid classification 'None'"),
])
def test_bad_diff_data(raw: object, message: str) -> None:
    with pytest.raises(ProposalError, match=message):
        parse_diff(raw)


def test_diff_data_parses_and_groups_per_object_in_id_order() -> None:
    other = uuid.UUID("01890000-0000-7000-8000-000000000000")
    assert parse_diff({}) == [] and parse_diff([]) == []
    changes = parse_diff([{"object_id": str(OID), "field": "heading", "old_value": None, "new_value": "h"},
                          {"object_id": str(other), "field": "attributes.prio", "old_value": 1, "new_value": [2]}])
    assert changes[1] == Change(other, "attributes.prio", 1, [2]) and changes[1].attribute == "prio"
    assert list(grouped(changes)) == [other, OID]


def test_object_updates_merge_attributes_and_refuse_stale_values() -> None:
    row = {"heading": "h", "body": None, "classification": "normative", "lifecycle_state": None,
           "attributes": {"prio": 1, "owner": "x"}}
    changes = [Change(OID, "heading", "h", "H"), Change(OID, "attributes.prio", 1, 2),
               Change(OID, "attributes.owner", "x", None), Change(OID, "attributes.new", None, "n")]
    assert object_updates(row, changes) == {"heading": "H", "attributes": {"prio": 2, "new": "n"}}
    assert row["attributes"] == {"prio": 1, "owner": "x"}  # the row read is left as it was
    with pytest.raises(ProposalError, match=f"object {OID} field 'body' changed since the proposal was made"):
        object_updates(row, [Change(OID, "body", "<p>old</p>", "new")])
