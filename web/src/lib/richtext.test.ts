import { describe, expect, it } from "vitest";
import { isSafeUrl, plainText, renderHighlight, renderRichText, unescapeHtml } from "./richtext";

function html(frag: DocumentFragment): string {
  const div = document.createElement("div");
  div.appendChild(frag);
  return div.innerHTML;
}

describe("renderRichText", () => {
  it("keeps allowed structure", () => {
    const out = html(renderRichText("<p>Hello <strong>world</strong></p><ul><li>a</li></ul><table><tbody><tr><td colspan=\"2\">x</td></tr></tbody></table>"));
    expect(out).toBe('<p>Hello <strong>world</strong></p><ul><li>a</li></ul><table><tbody><tr><td colspan="2">x</td></tr></tbody></table>');
  });

  it("drops scripts, handlers, styles and javascript: URLs", () => {
    const out = html(
      renderRichText('<p onclick="alert(1)" style="color:red">t</p><script>alert(1)</script><a href="javascript:alert(1)">x</a><img src="x" onerror="alert(1)"><svg><script>alert(2)</script></svg>'),
    );
    expect(out).not.toMatch(/script|onclick|onerror|style=|javascript:|iframe/i);
    expect(out).toContain("<p>t</p>");
    expect(out).toContain(">x</a>");
  });

  it("keeps safe links with rel and target", () => {
    const frag = renderRichText('<a href="https://example.com/a">x</a><a href="mailto:a@b">m</a>');
    const links = Array.from(frag.querySelectorAll("a"));
    expect(links.map((a) => a.getAttribute("href"))).toEqual(["https://example.com/a", "mailto:a@b"]);
    expect(links[0].getAttribute("rel")).toContain("noopener");
  });

  it("unwraps unknown elements but keeps their text", () => {
    expect(html(renderRichText("<custom-el><b>bold</b> text</custom-el>"))).toBe("<b>bold</b> text");
  });

  it("handles empty bodies", () => {
    expect(html(renderRichText(null))).toBe("");
    expect(html(renderRichText(""))).toBe("");
  });
});

describe("isSafeUrl", () => {
  it("classifies schemes", () => {
    expect(isSafeUrl("https://x", "href")).toBe(true);
    expect(isSafeUrl(" JaVaScRiPt:alert(1)", "href")).toBe(false);
    expect(isSafeUrl("java\tscript:alert(1)", "href")).toBe(false);
    expect(isSafeUrl("data:text/html;base64,xx", "href")).toBe(false);
    expect(isSafeUrl("data:image/png;base64,xx", "src")).toBe(true);
    expect(isSafeUrl("data:image/svg+xml;base64,xx", "src")).toBe(false);
    expect(isSafeUrl("mailto:a@b", "src")).toBe(false);
    expect(isSafeUrl("/relative/path", "href")).toBe(true);
  });
});

describe("renderHighlight", () => {
  it("turns only <mark> into elements and unescapes the rest", () => {
    const frag = renderHighlight("the &lt;b&gt;brake&lt;/b&gt; <mark>pedal</mark> &amp; <mark>force</mark>");
    const div = document.createElement("div");
    div.appendChild(frag);
    expect(div.querySelectorAll("mark")).toHaveLength(2);
    expect(div.querySelector("b")).toBeNull();
    expect(div.textContent).toBe("the <b>brake</b> pedal & force");
  });

  it("never creates other elements from markup-looking text", () => {
    const div = document.createElement("div");
    div.appendChild(renderHighlight('<img src=x onerror=alert(1)><mark>hit</mark>'));
    expect(div.querySelector("img")).toBeNull();
    expect(div.querySelector("mark")?.textContent).toBe("hit");
  });

  it("tolerates unbalanced marks and nulls", () => {
    const div = document.createElement("div");
    div.appendChild(renderHighlight("a <mark>b"));
    expect(div.innerHTML).toBe("a <mark>b</mark>");
    expect(renderHighlight(null).childNodes).toHaveLength(0);
  });
});

describe("text helpers", () => {
  it("unescapes entities and extracts plain text", () => {
    expect(unescapeHtml("&lt;&#39;&#x27;&quot;&amp;&nbsp;")).toBe("<''\"&&nbsp;");
    expect(plainText("<p>a  <b>b</b></p>\n<p>c</p>")).toBe("a b c");
  });
});
