"""The skip-when-unchanged rule of the apply layer, without a cluster."""

from __future__ import annotations

import copy
from typing import Any

from req1_operator.kube.apply import HASH_ANNOTATION, Owner, contains, up_to_date, with_ownership

OWNER = Owner("req1.io/v1alpha1", "Req1Instance", "x", "uid-1", "ns")
DESIRED = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "x-api", "labels": {"a": "b"}},
    "data": {"k": "v"},
}


def live_from(obj: dict[str, Any]) -> dict[str, Any]:
    live = copy.deepcopy(obj)
    live["metadata"]["uid"] = "u"
    live["metadata"]["resourceVersion"] = "7"
    live["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z"
    return live


def test_ownership_and_hash_added() -> None:
    obj = with_ownership(OWNER, DESIRED)
    assert obj["metadata"]["namespace"] == "ns"
    assert obj["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    assert obj["metadata"]["ownerReferences"][0]["controller"] is True
    assert HASH_ANNOTATION in obj["metadata"]["annotations"]
    assert "ownerReferences" not in DESIRED["metadata"]


def test_unchanged_live_object_is_up_to_date_despite_server_defaults() -> None:
    obj = with_ownership(OWNER, DESIRED)
    assert up_to_date(live_from(obj), obj)


def test_edited_field_or_new_render_or_absent_is_not_up_to_date() -> None:
    obj = with_ownership(OWNER, DESIRED)
    edited = live_from(obj)
    edited["data"]["k"] = "hand-edited"
    assert not up_to_date(edited, obj)
    assert not up_to_date(None, obj)
    changed = copy.deepcopy(DESIRED)
    changed["data"] = {"k": "v", "k2": "v2"}
    assert not up_to_date(live_from(obj), with_ownership(OWNER, changed))


def test_contains_compares_numbers_and_lists() -> None:
    assert contains({"a": [{"x": 1, "y": 2}]}, {"a": [{"x": 1.0}]})
    assert not contains({"a": [1, 2]}, {"a": [1]})
