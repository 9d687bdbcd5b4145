"""Property test: any sequence of inserts, moves and removals keeps levels a consistent outline."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from req1_server.domain.outline import MoveError, Outline, level_text, parse_level

ACTIONS = ["up", "down", "indent", "dedent", "move_to", "insert", "remove"]


def check_consistent(outline: Outline[int]) -> None:
    placements = outline.placements()
    assert set(placements) == set(outline.parent), "every node reachable exactly once"
    order = outline.document_order()
    paths = [placements[n].level_path for n in order]
    assert paths == sorted(paths), "document order is level order"
    assert len(set(paths)) == len(paths)
    for node, place in placements.items():
        assert outline.parent[node] == place.parent_id
        siblings = outline.children[place.parent_id]
        assert siblings[place.position] == node
        if place.parent_id is None:
            assert len(place.level_path) == 1
        else:
            assert place.level_path[:-1] == placements[place.parent_id].level_path
        assert place.level_path[-1] == place.position + 1
        assert parse_level(place.level) == place.level_path


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.integers(0, 50), st.integers(-2, 60), st.integers(-1, 8)), max_size=60
    )
)
def test_random_operations_keep_levels_consistent(ops: list[tuple[str, int, int, int]]) -> None:
    outline: Outline[int] = Outline()
    next_id = 0
    for action, pick, target, position in ops:
        nodes = sorted(outline.parent)
        if action == "insert" or not nodes:
            parent = None if not nodes or target % 3 == 0 else nodes[target % len(nodes)]
            outline.insert(next_id, parent, None if position < 0 else position)
            next_id += 1
        else:
            node = nodes[pick % len(nodes)]
            if action == "remove":
                parent_before = outline.parent[node]
                children = list(outline.children.get(node, []))
                lifted = outline.remove(node)
                assert lifted == children
                assert all(outline.parent[c] == parent_before for c in lifted)
            else:
                parent_id = None if target < 0 else nodes[target % len(nodes)]
                before = outline.placements()
                try:
                    outline.move(node, action, parent_id, None if position < 0 else position)
                except MoveError:
                    assert outline.placements() == before, "a refused move changes nothing"
        check_consistent(outline)


def build() -> Outline[str]:
    # 1 a, 1.1 a1, 1.2 a2, 2 b, 3 c
    return Outline.from_rows([("a", None, 0), ("a1", "a", 0), ("a2", "a", 1), ("b", None, 1), ("c", None, 2)])


def levels(outline: Outline[str]) -> dict[str, str]:
    return {k: v.level for k, v in outline.placements().items()}


def test_actions_and_messages() -> None:
    outline = build()
    assert levels(outline) == {"a": "1", "a1": "1.1", "a2": "1.2", "b": "2", "c": "3"}
    outline.move("b", "indent")
    assert levels(outline)["b"] == "1.3"
    outline.move("b", "dedent")
    assert levels(outline)["b"] == "2"
    outline.move("c", "up")
    assert levels(outline) == {"a": "1", "a1": "1.1", "a2": "1.2", "c": "2", "b": "3"}
    outline.move("a", "move_to", "c", 0)
    assert levels(outline) == {"c": "1", "a": "1.1", "a1": "1.1.1", "a2": "1.1.2", "b": "2"}
    for node, action, parent, message in [
        ("c", "up", None, "object is already at the top"),
        ("b", "down", None, "object is already at the bottom"),
        ("c", "indent", None, "cannot indent: no previous sibling to become parent"),
        ("c", "dedent", None, "cannot dedent: object is already at root level"),
        ("c", "move_to", "a1", "cannot move an object under itself or its descendants"),
        ("c", "move_to", "zz", "parent must belong to the same module"),
        ("c", "sideways", None, "invalid action 'sideways', must be one of: up, down, indent, dedent, move_to"),
    ]:
        with pytest.raises(MoveError) as info:
            outline.move(node, action, parent, 0)
        assert str(info.value) == message


def test_remove_lifts_children_in_place() -> None:
    outline = build()
    outline.remove("a")
    assert levels(outline) == {"a1": "1", "a2": "2", "b": "3", "c": "4"}


def test_level_parsing_is_numeric() -> None:
    assert parse_level("1.10") > parse_level("1.9")
    assert level_text((2, 3, 1)) == "2.3.1"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=0, max_size=40), st.lists(st.integers(-1, 80), max_size=80))
def test_append_keeps_placements_equal_to_recomputing(start: list[int], parents: list[int]) -> None:
    """`append` (bulk imports) must give exactly what `placements()` recomputes after each append."""
    outline: Outline[int] = Outline()
    for node, parent in enumerate(start):
        outline.insert(node, parent if parent < node and parent % 3 else None, parent % 2 or None)
    placements = outline.placements()
    for offset, parent in enumerate(parents):
        node = 1000 + offset
        target = parent if parent in outline else None
        place = outline.append(node, target, placements)
        assert placements == outline.placements()
        assert place == placements[node]
    check_consistent(outline)
