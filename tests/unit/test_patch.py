"""The one PATCH mechanism: which fields a partial update sets, and the statement it becomes (no services)."""

from __future__ import annotations

from req1_server.store.patch import changes, merged, update_sql
from req1_server.typed import BodyModel, OptInt, OptName, OptText, validate


class Patch(BodyModel):
    name: OptName = None
    description: OptText = None
    digits: OptInt = None


def patch(data: dict[str, object]) -> Patch:
    return validate(Patch, data, "field")


def test_absent_keeps_null_clears_only_nullable() -> None:
    assert changes(patch({}), {"description"}) == {}
    assert changes(patch({"description": None}), {"description"}) == {"description": None}
    assert changes(patch({"name": None, "digits": None}), {"description"}) == {}
    assert changes(patch({"name": "n", "digits": 4}), {"description"}) == {"name": "n", "digits": 4}
    assert changes(patch({"name": "n", "digits": 4}), skip={"digits"}) == {"name": "n"}


def test_merged_is_the_row_after_the_update() -> None:
    assert merged({"name": "a", "digits": 3}, {"digits": 4}) == {"name": "a", "digits": 4}


def test_update_statement_numbers_where_columns_first() -> None:
    sql, args = update_sql("project", {"name": "n", "description": None}, ["id", "workspace_id"], "id", touch=True)
    assert sql == ("UPDATE project SET name = $3, description = $4, updated_at = now() "
                   "WHERE id = $1 AND workspace_id = $2 RETURNING id")
    assert args == ["n", None]
    empty, no_args = update_sql("link_type", {}, ["id"], "id, name")
    assert empty == "UPDATE link_type SET id = id WHERE id = $1 RETURNING id, name" and no_args == []
    derived, _ = update_sql("link", {"suspect": False}, ["id"], "id", derived=["source_fingerprint = 'x'"])
    assert "SET suspect = $2, source_fingerprint = 'x' WHERE" in derived
