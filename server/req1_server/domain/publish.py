"""Publish formats (spec §4.16): one module rendered as HTML, Markdown, CSV, text or YAML."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from req1_server.domain.sanitize import html_to_text, sanitize_html

FORMATS = {"html": "html", "md": "md", "markdown": "md", "csv": "csv", "txt": "txt", "text": "txt", "yaml": "yaml"}
CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "yaml": "application/yaml; charset=utf-8",
}


class PublishError(ValueError):
    pass


@dataclass(frozen=True)
class PubObject:
    id: str
    level: str
    heading: str | None
    body: str | None
    classification: str
    version: int
    attributes: dict[str, Any]

    @property
    def depth(self) -> int:
        return self.level.count(".")


def resolve_format(name: str | None) -> str:
    key = (name or "html").strip().lower()
    if key not in FORMATS:
        raise PublishError(f"unsupported format '{name}', supported: html, md, csv")
    return FORMATS[key]


def render(
    fmt: str,
    module_name: str,
    objects: Sequence[PubObject],
    attribute_names: Sequence[str],
    now: dt.datetime | None = None,
) -> str:
    if fmt == "html":
        return render_html(module_name, objects)
    if fmt == "md":
        return render_markdown(module_name, objects, now)
    if fmt == "csv":
        return render_csv(objects, attribute_names)
    if fmt == "txt":
        return render_text(module_name, objects)
    return render_yaml(module_name, objects)


def _title(obj: PubObject) -> str:
    return f"{obj.level} {obj.heading or ''}".rstrip()


def render_html(module_name: str, objects: Sequence[PubObject]) -> str:
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(module_name)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.45}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .4em}</style>",
        f"</head><body>\n<h1>{html.escape(module_name)}</h1>\n",
    ]
    for obj in objects:
        tag = f"h{min(obj.depth + 2, 6)}"
        parts.append(f'<section id="obj-{obj.id}"><{tag}>{html.escape(_title(obj))}</{tag}>\n')
        if obj.body:
            parts.append(f'<div class="body">{sanitize_html(obj.body)}</div>\n')
        parts.append("</section>\n")
    parts.append("</body></html>\n")
    return "".join(parts)


def render_markdown(module_name: str, objects: Sequence[PubObject], now: dt.datetime | None = None) -> str:
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# {module_name}", "", f"Generated: {stamp}", ""]
    for obj in objects:
        lines.append(f"{'#' * min(obj.depth + 2, 6)} {_title(obj)}")
        lines.append("")
        if obj.classification != "normative":
            lines.extend([f"*Classification: {obj.classification}*", ""])
        text = html_to_text(obj.body)
        if text:
            lines.extend([text, ""])
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def render_csv(objects: Sequence[PubObject], attribute_names: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["id", "level", "heading", "body", "classification", "version", *attribute_names])
    for obj in objects:
        writer.writerow(
            [
                obj.id,
                obj.level,
                obj.heading or "",
                obj.body or "",
                obj.classification,
                obj.version,
                *(_cell(obj.attributes.get(name)) for name in attribute_names),
            ]
        )
    return buffer.getvalue()


def render_text(module_name: str, objects: Sequence[PubObject]) -> str:
    lines = [module_name, "=" * len(module_name), ""]
    for obj in objects:
        lines.append(f"{'  ' * obj.depth}{_title(obj)}")
        text = html_to_text(obj.body)
        if text:
            lines.extend(f"{'  ' * obj.depth}  {line}" for line in text.splitlines())
        lines.append("")
    return "\n".join(lines)


def render_yaml(module_name: str, objects: Sequence[PubObject]) -> str:
    """YAML via JSON scalars (JSON is valid YAML), so no YAML library is needed."""
    lines = [f"module: {json.dumps(module_name, ensure_ascii=False)}", "objects:"]
    for obj in objects:
        lines.append(f"  - id: {json.dumps(obj.id)}")
        lines.append(f"    level: {json.dumps(obj.level)}")
        lines.append(f"    heading: {json.dumps(obj.heading, ensure_ascii=False)}")
        lines.append(f"    body: {json.dumps(html_to_text(obj.body), ensure_ascii=False)}")
        lines.append(f"    classification: {json.dumps(obj.classification)}")
        lines.append(f"    version: {obj.version}")
        lines.append(f"    attributes: {json.dumps(obj.attributes, ensure_ascii=False, sort_keys=True)}")
    return "\n".join(lines) + "\n"
