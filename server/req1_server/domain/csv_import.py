"""CSV import rules (spec §4.14): columns, typed attribute cells, depth from the level column."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from req1_server.domain.attributes import AttrDef, AttributeError_, coerce_text

CLASSIFICATIONS = ("normative", "informative", "heading")


class CsvImportError(ValueError):
    """A bad file or row; the message is the 400 message."""


@dataclass
class CsvRow:
    """One object to create: `depth` 0 = root; the parent is the latest object at depth - 1."""

    row: int
    depth: int
    heading: str | None
    body: str | None
    classification: str | None
    attributes: dict[str, Any] = field(default_factory=dict)


def decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CsvImportError(f"CSV body must be UTF-8 (invalid byte at offset {exc.start})") from None
    return text.removeprefix("\ufeff")


def parse_rows(text: str, definitions: Mapping[str, AttrDef]) -> list[CsvRow]:
    """Rows to create, in file order; raises with a `row N:` prefix (N = 1-based data row)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise CsvImportError("missing required CSV column: 'level'") from None
    except csv.Error as exc:
        raise CsvImportError(f"malformed CSV: {exc}") from None
    columns = [name.strip() for name in header]
    if "level" not in columns:
        raise CsvImportError("missing required CSV column: 'level'")
    index = {name: i for i, name in reversed(list(enumerate(columns)))}
    attr_columns = [
        (name, definitions[name])
        for name in columns
        if name in definitions and name not in {"level", "heading", "body", "classification"}
    ]
    rows: list[CsvRow] = []
    row_no = 0
    previous_depth = -1
    try:
        for cells in reader:
            row_no += 1

            def cell(name: str, cells: list[str] = cells) -> str:
                at = index.get(name)
                return cells[at] if at is not None and at < len(cells) else ""

            level = cell("level").strip()
            if not level:
                continue
            depth = level.count(".")
            if depth > previous_depth + 1:
                raise CsvImportError(f"row {row_no}: level '{level}' has no parent at depth {depth - 1}")
            classification = cell("classification").strip() or None
            if classification is not None and classification not in CLASSIFICATIONS:
                raise CsvImportError(
                    f"row {row_no}: invalid classification '{classification}', must be one of: "
                    "normative, informative, heading"
                )
            attributes: dict[str, Any] = {}
            for name, definition in attr_columns:
                raw = cell(name)
                if raw == "":
                    continue
                try:
                    value = coerce_text(definition, raw)
                except AttributeError_ as exc:
                    raise CsvImportError(f"row {row_no}: {exc}") from None
                if value is not None:
                    attributes[name] = value
            rows.append(
                CsvRow(row_no, depth, cell("heading") or None, cell("body") or None, classification, attributes)
            )
            previous_depth = depth
    except csv.Error as exc:
        raise CsvImportError(f"row {row_no}: malformed CSV: {exc}") from None
    return rows
