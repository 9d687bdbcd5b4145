"""Moving rich text between req1's HTML and ReqIF's namespaced XHTML."""

from __future__ import annotations

import functools
import html
from html.parser import HTMLParser
from xml.etree import ElementTree as ET

XHTML_NS = "http://www.w3.org/1999/xhtml"
VOID = {"br", "hr", "img", "col", "wbr", "area", "base", "input", "link", "meta", "source", "track"}


@functools.lru_cache(maxsize=4096)
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def local(tag: object) -> str:
    """Element name without its `{namespace}` (comments and processing instructions have none)."""
    return _local(tag) if isinstance(tag, str) else ""


def element_to_html(element: ET.Element) -> str:
    """Serialize an XHTML subtree as HTML (prefixes dropped, void elements unclosed)."""
    parts: list[str] = []
    _write(element, parts)
    return "".join(parts)


def _write(element: ET.Element, parts: list[str]) -> None:
    name = local(element.tag)
    attrs = "".join(f' {local(k)}="{html.escape(v, quote=True)}"' for k, v in element.attrib.items())
    parts.append(f"<{name}{attrs}>")
    if name in VOID:
        if element.tail:
            parts.append(html.escape(element.tail, quote=False))
        return
    if element.text:
        parts.append(html.escape(element.text, quote=False))
    for child in element:
        _write(child, parts)
    parts.append(f"</{name}>")
    if element.tail:
        parts.append(html.escape(element.tail, quote=False))


def the_value_to_html(the_value: ET.Element) -> str:
    """Inner content of THE-VALUE; a lone wrapping `<div>` (what exporters add) is unwrapped."""
    children = list(the_value)
    text = (the_value.text or "").strip()
    if len(children) == 1 and not text and not (children[0].tail or "").strip() and local(children[0].tag) == "div":
        inner = children[0]
        parts = [html.escape(inner.text, quote=False)] if inner.text else []
        for child in inner:
            _write(child, parts)
        return "".join(parts)
    parts = [html.escape(the_value.text, quote=False)] if the_value.text else []
    for child in children:
        _write(child, parts)
    return "".join(parts)


class _Builder(HTMLParser):
    """HTML (sanitized, so well nested) → ElementTree elements in the XHTML namespace."""

    def __init__(self, root: ET.Element) -> None:
        super().__init__(convert_charrefs=True)
        self.stack = [root]
        self.last: ET.Element | None = None

    def _append_text(self, data: str) -> None:
        top = self.stack[-1]
        if len(top):
            child = top[-1]
            child.tail = (child.tail or "") + data
        else:
            top.text = (top.text or "") + data

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = ET.SubElement(self.stack[-1], f"{{{XHTML_NS}}}{tag}", {k: v or "" for k, v in attrs})
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        ET.SubElement(self.stack[-1], f"{{{XHTML_NS}}}{tag}", {k: v or "" for k, v in attrs})

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if local(self.stack[depth].tag) == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self._append_text(data)


def html_to_xhtml_div(body: str) -> ET.Element:
    """Wrap HTML in one `xhtml:div` element tree, ready to place in THE-VALUE."""
    root = ET.Element(f"{{{XHTML_NS}}}div")
    builder = _Builder(root)
    builder.feed(body)
    builder.close()
    return root
