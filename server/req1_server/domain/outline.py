"""The object tree of one module: sibling order, moves and derived levels (spec §4.3.1, §4.3.2).

Handlers load the live skeleton `(id, parent_id, position)` of a module, apply one structural change
here, and write back only the rows whose parent, position or level changed. Keeping the rules in one
pure class lets a property test exercise exactly what production runs.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class MoveError(ValueError):
    """A structural change that the rules forbid; the message is the API's 400 message."""


@dataclass(frozen=True)
class Placement(Generic[K]):
    """Where a node sits after a change: parent, 0-based index among live siblings, level path."""

    parent_id: K | None
    position: int
    level_path: tuple[int, ...]

    @property
    def level(self) -> str:
        return level_text(self.level_path)


def level_text(path: Iterable[int]) -> str:
    return ".".join(str(p) for p in path)


def parse_level(text: str) -> tuple[int, ...]:
    """`"2.10.1"` → `(2, 10, 1)`; non-numeric segments sort first as 0 (document order, Δ)."""
    parts: list[int] = []
    for segment in text.strip().split("."):
        segment = segment.strip()
        parts.append(int(segment) if segment.isdigit() else 0)
    return tuple(parts)


class Outline(Generic[K]):
    """Ordered children lists keyed by parent (None = root) over the live objects of one module."""

    def __init__(self) -> None:
        self.children: dict[K | None, list[K]] = {None: []}
        self.parent: dict[K, K | None] = {}

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[K, K | None, int]]) -> Outline[K]:
        """Build from `(id, parent_id, position)`; siblings ordered by `(position, id)`."""
        outline: Outline[K] = cls()
        keyed: dict[K | None, list[tuple[int, str, K]]] = {}
        for node_id, parent_id, position in rows:
            outline.parent[node_id] = parent_id
            keyed.setdefault(parent_id, []).append((position, str(node_id), node_id))
        for parent_id, items in keyed.items():
            items.sort(key=lambda item: (item[0], item[1]))
            outline.children[parent_id] = [item[2] for item in items]
        return outline

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.parent

    def __len__(self) -> int:
        return len(self.parent)

    def siblings(self, node_id: K) -> list[K]:
        return self.children.setdefault(self.parent[node_id], [])

    def is_descendant_or_self(self, candidate: K | None, ancestor: K) -> bool:
        """True when `candidate` is `ancestor` or lies below it."""
        seen: set[K] = set()
        while candidate is not None and candidate not in seen:
            if candidate == ancestor:
                return True
            seen.add(candidate)
            candidate = self.parent.get(candidate)
        return False

    # -- changes -------------------------------------------------------------------------------

    def insert(self, node_id: K, parent_id: K | None, index: int | None = None) -> None:
        """Add a node under `parent_id` at `index` (clamped); None appends."""
        if parent_id is not None and parent_id not in self.parent:
            raise MoveError("parent must belong to the same module")
        siblings = self.children.setdefault(parent_id, [])
        at = len(siblings) if index is None else max(0, min(index, len(siblings)))
        siblings.insert(at, node_id)
        self.parent[node_id] = parent_id
        self.children.setdefault(node_id, [])

    def append(self, node_id: K, parent_id: K | None, placements: dict[K, Placement[K]]) -> Placement[K]:
        """Add a node as the last child of `parent_id`, recording its placement in `placements` (this
        outline's `placements()`, kept current). Appending moves no other node, so bulk writers (imports)
        get every placement in one pass instead of recomputing the whole outline per batch."""
        self.insert(node_id, parent_id)
        position = len(self.children[parent_id]) - 1
        prefix = placements[parent_id].level_path if parent_id is not None else ()
        place = Placement(parent_id, position, (*prefix, position + 1))
        placements[node_id] = place
        return place

    def remove(self, node_id: K) -> list[K]:
        """Delete a node; its children take its place under its parent, in order. Returns them."""
        siblings = self.siblings(node_id)
        at = siblings.index(node_id)
        lifted = self.children.pop(node_id, [])
        siblings[at : at + 1] = lifted
        parent_id = self.parent.pop(node_id)
        for child in lifted:
            self.parent[child] = parent_id
        return lifted

    def _detach(self, node_id: K) -> None:
        self.siblings(node_id).remove(node_id)

    def _attach(self, node_id: K, parent_id: K | None, index: int | None) -> None:
        siblings = self.children.setdefault(parent_id, [])
        at = len(siblings) if index is None else max(0, min(index, len(siblings)))
        siblings.insert(at, node_id)
        self.parent[node_id] = parent_id

    def move(self, node_id: K, action: str, parent_id: K | None = None, position: int | None = None) -> None:
        """Apply one move action of spec §4.3.1, raising MoveError with the API message."""
        siblings = self.siblings(node_id)
        at = siblings.index(node_id)
        if action == "up":
            if at == 0:
                raise MoveError("object is already at the top")
            siblings[at - 1], siblings[at] = siblings[at], siblings[at - 1]
        elif action == "down":
            if at == len(siblings) - 1:
                raise MoveError("object is already at the bottom")
            siblings[at + 1], siblings[at] = siblings[at], siblings[at + 1]
        elif action == "indent":
            if at == 0:
                raise MoveError("cannot indent: no previous sibling to become parent")
            new_parent = siblings[at - 1]
            self._detach(node_id)
            self._attach(node_id, new_parent, None)
        elif action == "dedent":
            old_parent = self.parent[node_id]
            if old_parent is None:
                raise MoveError("cannot dedent: object is already at root level")
            grand = self.parent[old_parent]
            self._detach(node_id)
            self._attach(node_id, grand, self.siblings(old_parent).index(old_parent) + 1)
        elif action == "move_to":
            if parent_id is not None and parent_id not in self.parent:
                raise MoveError("parent must belong to the same module")
            if self.is_descendant_or_self(parent_id, node_id):
                raise MoveError("cannot move an object under itself or its descendants")
            self._detach(node_id)
            self._attach(node_id, parent_id, position)
        else:
            raise MoveError(f"invalid action '{action}', must be one of: up, down, indent, dedent, move_to")

    # -- derived -------------------------------------------------------------------------------

    def placements(self) -> dict[K, Placement[K]]:
        """Parent, index and level path of every node reachable from the root."""
        out: dict[K, Placement[K]] = {}
        stack: list[tuple[K | None, tuple[int, ...]]] = [(None, ())]
        while stack:
            parent_id, prefix = stack.pop()
            for index, child in enumerate(self.children.get(parent_id, [])):
                path = (*prefix, index + 1)
                out[child] = Placement(parent_id, index, path)
                stack.append((child, path))
        return out

    def document_order(self) -> list[K]:
        """Depth-first pre-order from the root."""
        order: list[K] = []
        stack: list[K] = list(reversed(self.children.get(None, [])))
        while stack:
            node = stack.pop()
            order.append(node)
            stack.extend(reversed(self.children.get(node, [])))
        return order
