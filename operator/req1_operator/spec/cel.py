"""The CRD's CEL rules (`x-kubernetes-validations`) evaluated in the operator, so they are written exactly once.

Cross-field rules are declared on the models with `cel()`/`rules()` and end up in the generated CRD, where the API
server enforces them at apply time. The operator must not act on a spec the API server would refuse (a resource
created before a rule existed, or a spec handed to the renderer directly), so `parse_spec` runs the very same
rules here with cel-python over the structural schema the CRD is generated from: one definition, one message,
both places. Transition rules (those that read `oldSelf`) compare with the stored object and only the API server
can check them; they are skipped here.

Kubernetes adds CEL functions of its own; the few the rules use are provided below (`substring`, `isQuantity`,
`quantity`, `isGreaterThan`). A rule calling anything else fails `tests/unit/test_operator_spec.py`, which
evaluates every rule of the CRD.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import celpy
from celpy import celtypes

from req1_operator.spec.base import QUANTITY_PATTERN

_OLD_SELF = re.compile(r"\boldSelf\b")
_NUMBER = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(.*)$")
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


class QuantityValue(Decimal):
    """A resource quantity's value (the Kubernetes CEL `quantity` type, as far as the rules need it)."""


def parse_quantity(text: str) -> QuantityValue:
    """`500m` -> 0.5, `1Gi` -> 1073741824, `1e3` -> 1000; ValueError for anything else."""
    found = _NUMBER.match(text) if re.match(QUANTITY_PATTERN, text) else None
    if found is None:
        raise ValueError(f"{text!r} is not a quantity")
    number, suffix = Decimal(found.group(1)), found.group(2)
    if suffix in _BINARY:
        return QuantityValue(number * 1024 ** _BINARY[suffix])
    if suffix in _DECIMAL:
        return QuantityValue(number.scaleb(_DECIMAL[suffix]))
    return QuantityValue(number.scaleb(int(suffix[1:])))  # decimal exponent: e3, E-2


def _substring(text: str, start: int, end: int | None = None) -> celtypes.StringType:
    return celtypes.StringType(text[int(start) :] if end is None else text[int(start) : int(end)])


def _is_quantity(text: str) -> celtypes.BoolType:
    return celtypes.BoolType(bool(re.match(QUANTITY_PATTERN, str(text))))


def _greater(left: QuantityValue, right: QuantityValue) -> celtypes.BoolType:
    return celtypes.BoolType(left > right)


#: The Kubernetes CEL library functions the rules use, by name (member calls receive the target first).
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "substring": _substring,
    "isQuantity": _is_quantity,
    "quantity": lambda text: parse_quantity(str(text)),
    "isGreaterThan": _greater,
}


@functools.cache
def _environment() -> celpy.Environment:
    # Building the CEL grammar takes a quarter of a second: on first use, not when the spec package is imported.
    return celpy.Environment()


@functools.cache
def _program(expression: str) -> celpy.Runner:
    env = _environment()
    return env.program(env.compile(expression), functions=FUNCTIONS)


def local(rule: dict[str, Any]) -> bool:
    """Whether the operator can check this rule (transition rules need the stored object)."""
    return not _OLD_SELF.search(rule["rule"])


@dataclass(frozen=True)
class Violation:
    """A rule that did not hold: where (wire names and list indexes below `spec`) and the rule's message."""

    loc: tuple[str | int, ...]
    message: str


def _message(rule: dict[str, Any], this: celtypes.Value) -> str:
    """`messageExpression` when it evaluates to a string, else `message`, as the API server does."""
    expression = rule.get("messageExpression")
    if expression:
        try:
            out = _program(expression).evaluate({"self": this})
        except celpy.CELEvalError:
            out = None
        if isinstance(out, str):
            return str(out)
    return str(rule["message"])


def holds(rule: dict[str, Any], this: celtypes.Value) -> bool:
    """True only when the rule evaluates to true; an evaluation error counts as a violation."""
    try:
        result = _program(rule["rule"]).evaluate({"self": this})
    except celpy.CELEvalError:
        return False
    return isinstance(result, celtypes.BoolType) and bool(result)


def violations(schema: dict[str, Any], value: Any, loc: tuple[str | int, ...] = ()) -> Iterator[Violation]:
    """Every local rule of `schema` and its sub-schemas that `value` (the defaulted wire form) breaks."""
    rules = [r for r in schema.get("x-kubernetes-validations", ()) if local(r)]
    if rules:
        this = celpy.json_to_cel(value)
        for rule in rules:
            if not holds(rule, this):
                yield Violation(loc, _message(rule, this))
    if isinstance(value, dict):
        properties = schema.get("properties")
        for key, sub in value.items():
            child = properties.get(key) if properties is not None else schema.get("additionalProperties")
            if isinstance(child, dict):
                yield from violations(child, sub, (*loc, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            yield from violations(schema["items"], item, (*loc, index))
