"""Rich-text sanitizing (spec §4.3.2): an allowlist so stored HTML can never carry script."""

from __future__ import annotations

import html
import re

import nh3

ALLOWED_TAGS: set[str] = {
    "p",
    "br",
    "hr",
    "div",
    "span",
    "blockquote",
    "pre",
    "code",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "caption",
    "colgroup",
    "col",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "s",
    "strike",
    "del",
    "ins",
    "sub",
    "sup",
    "small",
    "mark",
    "kbd",
    "q",
    "a",
    "img",
}
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
    "*": {"class"},
}
URL_SCHEMES: set[str] = {"http", "https", "mailto", "data"}
_DATA_IMAGE = re.compile(r"^\s*data:image/[a-z0-9.+-]+[;,]", re.IGNORECASE)
_SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):")


def _filter_attribute(tag: str, attr: str, value: str) -> str | None:
    """Allow `data:` only for images; keep `mailto:` out of image sources."""
    if attr not in {"href", "src"}:
        return value
    match = _SCHEME.match(value)
    if match is None:
        return value  # relative URL
    scheme = match.group(1).lower()
    if tag == "img":
        if scheme in {"http", "https"}:
            return value
        return value if _DATA_IMAGE.match(value) else None
    return value if scheme in {"http", "https", "mailto"} else None


# built once: `nh3.clean` rebuilds the allowlist per call, which is most of its cost (ReqIF/CSV imports)
_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=URL_SCHEMES,
    attribute_filter=_filter_attribute,
    link_rel="noopener noreferrer",
    strip_comments=True,
)


def sanitize_html(value: str | None) -> str | None:
    """Clean HTML by the allowlist; None stays None."""
    if value is None:
        return None
    return _CLEANER.clean(value)


_BLOCK_TAGS = re.compile(r"<\s*/?\s*(p|div|br|li|tr|h[1-6]|blockquote|pre|table|ul|ol|dt|dd)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"[ \t\r\f\v]+")
_NEWLINES = re.compile(r"\s*\n\s*")


def html_to_text(value: str | None) -> str:
    """Plain text of (sanitized) HTML: block tags become line breaks, entities are decoded."""
    if not value:
        return ""
    text = _BLOCK_TAGS.sub("\n", value)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    text = _SPACE.sub(" ", text)
    text = _NEWLINES.sub("\n", text)
    return text.strip()
