"""The one PATCH mechanism: a typed partial update becomes the columns to set.

The contract's rule (§1.1): a field absent from the body keeps its value; ``null`` clears a nullable field
and is ignored for any other. Resources name their nullable fields; :func:`changes` applies the rule and
:func:`update_sql` turns what is left into one ``UPDATE … SET`` with numbered parameters.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from req1_server.typed import BodyModel


def changes(body: BodyModel, nullable: Collection[str] = (), *, skip: Collection[str] = ()) -> dict[str, Any]:
    """The fields present in the request that change something, by column name."""
    out: dict[str, Any] = {}
    for name in type(body).model_fields:
        if name in skip or not body.given(name):
            continue
        value = getattr(body, name)
        if value is None and name not in nullable:
            continue
        out[name] = value
    return out


def merged(row: Mapping[str, Any], updates: Mapping[str, Any]) -> dict[str, Any]:
    """The row as it will be after ``updates`` (for checks that need the whole result)."""
    return {**dict(row), **updates}


def update_sql(table: str, updates: Mapping[str, Any], where: Sequence[str], returning: str,
               touch: bool = False, derived: Sequence[str] = ()) -> tuple[str, list[Any]]:
    """``UPDATE table SET …`` for ``updates``; ``where`` columns are the first parameters, in order.
    ``derived`` are assignments computed by the database (``col = <expression>``)."""
    first = len(where) + 1
    sets = [f"{column} = ${first + index}" for index, column in enumerate(updates)] + list(derived)
    if touch:
        sets.append("updated_at = now()")
    condition = " AND ".join(f"{column} = ${index + 1}" for index, column in enumerate(where))
    sql = f"UPDATE {table} SET {', '.join(sets) or where[0] + ' = ' + where[0]} WHERE {condition} RETURNING {returning}"
    return sql, list(updates.values())
