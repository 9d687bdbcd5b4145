"""Lifecycle models (spec §2): the shape of a model and the moves an object's state may make.

Pure rules: :func:`normalized` checks and normalizes a model as a whole (create and the result of a PATCH);
:func:`initial` and :func:`transition` decide an object's state on create and on a state change. A model
with no states constrains nothing (its objects' states stay free text, as without a model).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ROLES = ("viewer", "reviewer", "editor", "admin")


class LifecycleError(ValueError):
    """A 400 message; ``role`` set means a 403 for want of that role instead."""

    def __init__(self, message: str, role: str | None = None) -> None:
        super().__init__(message)
        self.role = role


def _state(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str) or not value["name"].strip():
        raise LifecycleError("each state must be an object with a non-empty 'name'")
    for key in ("color", "description"):
        if value.get(key) is not None and not isinstance(value[key], str):
            raise LifecycleError(f"state '{value['name']}': '{key}' must be a string")
    return {"name": value["name"], "color": value.get("color"), "description": value.get("description")}


def _transition(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(value.get(k), str) for k in ("from", "to")):
        raise LifecycleError("each transition must be an object with string 'from' and 'to'")
    out = {"from": value["from"], "to": value["to"]}
    role = value.get("required_role")
    if role is not None:
        if role not in ROLES:
            raise LifecycleError(f"invalid required_role '{role}', must be one of: {', '.join(sorted(ROLES))}")
        out["required_role"] = role
    return out


def normalized(initial_state: str, states: Sequence[Any], transitions: Sequence[Any]) -> dict[str, Any]:
    """``{initial_state, states, transitions}`` as stored: states carry both nullable keys, transitions omit an
    unset ``required_role``; LifecycleError names the first problem."""
    clean_states = [_state(s) for s in states]
    names: set[str] = set()
    for state in clean_states:
        if state["name"] in names:
            raise LifecycleError(f"duplicate state '{state['name']}'")
        names.add(state["name"])
    clean_transitions = [_transition(t) for t in transitions]
    if names:
        if initial_state not in names:
            raise LifecycleError(f"initial_state '{initial_state}' is not one of the states")
        for t in clean_transitions:
            for end in (t["from"], t["to"]):
                if end not in names:
                    raise LifecycleError(f"transition references unknown state '{end}'")
    return {"initial_state": initial_state, "states": clean_states, "transitions": clean_transitions}


@dataclass(frozen=True)
class Model:
    """What object writes need of a model."""

    name: str
    initial_state: str
    states: tuple[str, ...]
    transitions: tuple[Mapping[str, Any], ...]

    @classmethod
    def of(cls, row: Mapping[str, Any], prefix: str = "") -> Model:
        return cls(row[prefix + "name"], row[prefix + "initial_state"],
                   tuple(s["name"] for s in row[prefix + "states"]), tuple(row[prefix + "transitions"]))


def initial(model: Model, requested: str | None) -> str:
    """The state a new object starts in: the requested one (if the model defines it), else the initial one."""
    if requested is None:
        return model.initial_state
    if model.states and requested not in model.states:
        raise LifecycleError(f"lifecycle state '{requested}' is not defined in model '{model.name}'")
    return requested


def transition(model: Model, current: str | None, new: str | None, role: str) -> None:
    """Allow the move ``current`` → ``new`` for a caller with ``role``, or raise LifecycleError.

    An unchanged state is a no-op; from no state the only move is to ``initial_state`` (Δ).
    """
    if new == current or not model.states:
        return
    if current is None:
        if new == model.initial_state:
            return
        raise LifecycleError(f"lifecycle transition from '' to '{new}' is not allowed")
    allowed = [t for t in model.transitions if t["from"] == current and t["to"] == new]
    if not allowed:
        raise LifecycleError(f"lifecycle transition from '{current}' to '{new or ''}' is not allowed")
    needed = [t.get("required_role") for t in allowed]
    if None in needed:
        return
    lowest = min(needed, key=lambda r: ROLES.index(str(r)))
    if ROLES.index(role) < ROLES.index(str(lowest)):
        raise LifecycleError(f"insufficient role: requires {lowest}", role=str(lowest))
