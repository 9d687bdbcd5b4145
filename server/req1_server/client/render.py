"""Pure text output: tables, the object tree, validation and diff summaries (no I/O, unit-tested)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

Row = Sequence[Any]


def cell(value: Any, width: int | None = None) -> str:
    """One table cell: None as '-', newlines flattened, long text cut with an ellipsis."""
    text = "-" if value is None or value == "" else " ".join(str(value).split())
    if width is not None and len(text) > width:
        text = text[: max(width - 1, 0)] + "…"
    return text


def table(headers: Sequence[str], rows: Iterable[Row], widths: dict[str, int] | None = None) -> str:
    """Left-aligned columns separated by two spaces; ``widths`` caps free-text columns."""
    caps = widths or {}
    cells = [[cell(v, caps.get(h)) for h, v in zip(headers, row, strict=True)] for row in rows]
    sizes = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(sizes[i]) for i, h in enumerate(headers)).rstrip()]
    lines += ["  ".join(c.ljust(sizes[i]) for i, c in enumerate(r)).rstrip() for r in cells]
    return "\n".join(lines)


def is_reviewed(obj: dict[str, Any]) -> bool:
    """Reviewed = the review covers the current content (a later edit clears it)."""
    fp = obj.get("reviewed_fingerprint")
    return fp is not None and fp == obj.get("content_fingerprint")


def objects_table(objects: Iterable[dict[str, Any]]) -> str:
    rows = [(o.get("level"), o["id"], o.get("heading"), o.get("classification"), o.get("current_version"),
             "yes" if is_reviewed(o) else "no") for o in objects]
    return table(["LEVEL", "ID", "HEADING", "CLASS", "VER", "REVIEWED"], rows, {"HEADING": 60})


def objects_tree(objects: Sequence[dict[str, Any]]) -> str:
    """Indented by parent and position, ``[R]`` for reviewed; orphans (parent not listed) after the roots."""
    known = {o["id"] for o in objects}
    children: dict[str | None, list[dict[str, Any]]] = {}
    orphans: list[dict[str, Any]] = []
    for o in objects:
        parent = o.get("parent_id")
        (children.setdefault(parent, []) if parent is None or parent in known else orphans).append(o)
    for siblings in [*children.values(), orphans]:
        siblings.sort(key=lambda o: (o.get("position") or 0, o["id"]))
    lines: list[str] = []
    roots = children.get(None, []) + orphans
    stack: list[tuple[dict[str, Any], int]] = [(o, 0) for o in reversed(roots)]
    seen: set[str] = set()
    while stack:
        obj, depth = stack.pop()
        if obj["id"] in seen:
            continue
        seen.add(obj["id"])
        mark = "[R]" if is_reviewed(obj) else "[ ]"
        lines.append(f"{'  ' * depth}{mark} {cell(obj.get('level'))} {cell(obj.get('heading'))}  ({obj['id']})")
        stack += [(c, depth + 1) for c in reversed(children.get(obj["id"], []))]
    return "\n".join(lines)


def validation(report: dict[str, Any]) -> str:
    """Counts per severity, then one line per issue."""
    issues = report.get("issues") or []
    counts = {s: sum(1 for i in issues if i.get("severity") == s) for s in ("error", "warning", "info")}
    lines = [f"{report.get('object_count', 0)} objects, {report.get('link_count', 0)} links: "
             f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} info"]
    lines += [f"{i.get('severity', '?'):7}  {i.get('rule', '?'):26}  {i.get('message', '')}" for i in issues]
    return "\n".join(lines)


def has_errors(report: dict[str, Any]) -> bool:
    return any(i.get("severity") == "error" for i in report.get("issues") or [])


def diff(result: dict[str, Any]) -> str:
    """``+`` added, ``-`` removed, ``~`` modified (with versions), then a count line."""
    lines = [f"+ {e['object_id']}  v{e.get('version')}  {cell(e.get('heading'))}" for e in result.get("added", [])]
    lines += [f"- {e['object_id']}  v{e.get('version')}  {cell(e.get('heading'))}" for e in result.get("removed", [])]
    for e in result.get("modified", []):
        heading = cell(e.get("heading_b"))
        if e.get("heading_a") != e.get("heading_b"):
            heading = f"{cell(e.get('heading_a'))} -> {heading}"
        lines.append(f"~ {e['object_id']}  v{e.get('version_a')} -> v{e.get('version_b')}  {heading}")
    lines.append(f"{len(result.get('added', []))} added, {len(result.get('removed', []))} removed, "
                 f"{len(result.get('modified', []))} modified")
    return "\n".join(lines)
