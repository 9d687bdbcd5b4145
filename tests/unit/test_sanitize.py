"""The rich-text allowlist keeps document markup and drops everything that could run."""

import pytest

from req1_server.domain.sanitize import html_to_text, sanitize_html


@pytest.mark.parametrize(
    "dirty",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<p style="background:url(javascript:alert(1))">x</p>',
        '<iframe src="https://evil"></iframe>',
        '<img src="data:text/html;base64,PHNjcmlwdD4=">',
        "<svg><script>alert(1)</script></svg>",
    ],
)
def test_dangerous_markup_is_removed(dirty: str) -> None:
    clean = sanitize_html(dirty) or ""
    for bad in ("script", "onerror", "javascript:", "style=", "iframe", "data:text"):
        assert bad not in clean.lower()


def test_document_markup_is_kept() -> None:
    html = (
        "<h2>T</h2><p>a <strong>b</strong> <em>c</em> <code>d</code></p><ul><li>x</li></ul>"
        '<table><tbody><tr><td colspan="2">t</td></tr></tbody></table>'
        '<a href="https://example.com/x">l</a> <a href="mailto:a@b.c">m</a>'
        '<img src="data:image/png;base64,iVBOR" alt="i"><img src="https://example.com/i.png">'
    )
    clean = sanitize_html(html) or ""
    for kept in (
        "<h2>",
        "<strong>",
        "<em>",
        "<code>",
        "<li>",
        'colspan="2"',
        "https://example.com/x",
        "mailto:a@b.c",
        "data:image/png",
        "https://example.com/i.png",
    ):
        assert kept in clean


def test_sanitizing_is_idempotent_and_none_stays_none() -> None:
    once = sanitize_html("<p>a<br>b &amp; c<b>d</p>")
    assert sanitize_html(once) == once
    assert sanitize_html(None) is None


def test_plain_text() -> None:
    assert html_to_text("<p>Hello&nbsp;<b>world</b></p><p>second &lt;line&gt;</p>") == "Hello\xa0world\nsecond <line>"
    assert html_to_text(None) == ""
