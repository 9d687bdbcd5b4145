// Rendering of server-provided markup. The server already sanitizes object bodies;
// this is defence in depth: bodies are parsed inert (into a <template>, whose content
// never runs scripts or loads resources) and only allowlisted elements and attributes
// are copied into live DOM nodes.

const ALLOWED_TAGS = new Set([
  "p", "br", "hr", "div", "span", "blockquote", "pre", "code",
  "h1", "h2", "h3", "h4", "h5", "h6",
  "ul", "ol", "li", "dl", "dt", "dd",
  "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col",
  "strong", "b", "em", "i", "u", "s", "del", "ins", "sub", "sup", "mark", "small", "abbr", "cite", "q",
  "a", "img",
]);

const ALLOWED_ATTRS: Record<string, Set<string>> = {
  a: new Set(["href", "title"]),
  img: new Set(["src", "alt", "title", "width", "height"]),
  td: new Set(["colspan", "rowspan"]),
  th: new Set(["colspan", "rowspan", "scope"]),
  ol: new Set(["start", "type"]),
  abbr: new Set(["title"]),
  col: new Set(["span"]),
  colgroup: new Set(["span"]),
};

/** Elements whose content is dropped with them (not unwrapped). */
const DROP_WITH_CONTENT = new Set(["script", "style", "template", "iframe", "object", "embed", "noscript", "svg", "math"]);

/** True when a URL is safe for the given attribute: http(s)/mailto links, http(s) or data:image images. */
export function isSafeUrl(url: string, attr: "href" | "src"): boolean {
  // eslint-disable-next-line no-control-regex
  const trimmed = url.replace(/[\u0000-\u0020]/g, "").toLowerCase();
  if (attr === "src" && /^data:image\/(png|gif|jpe?g|webp|bmp);/.test(trimmed)) return true;
  if (/^https?:/.test(trimmed)) return true;
  if (attr === "href" && trimmed.startsWith("mailto:")) return true;
  // Relative URLs and fragments have no scheme.
  return !/^[a-z][a-z0-9+.-]*:/.test(trimmed);
}

function copyNode(src: Node, into: Node): void {
  for (const child of Array.from(src.childNodes)) {
    if (child.nodeType === Node.TEXT_NODE) {
      into.appendChild(document.createTextNode(child.textContent ?? ""));
      continue;
    }
    if (child.nodeType !== Node.ELEMENT_NODE) continue;
    const el = child as Element;
    const tag = el.tagName.toLowerCase();
    if (DROP_WITH_CONTENT.has(tag)) continue;
    if (!ALLOWED_TAGS.has(tag)) {
      copyNode(el, into); // unwrap unknown elements, keep their text
      continue;
    }
    const out = document.createElement(tag);
    const allowed = ALLOWED_ATTRS[tag];
    if (allowed) {
      for (const attr of Array.from(el.attributes)) {
        const name = attr.name.toLowerCase();
        if (!allowed.has(name)) continue;
        if ((name === "href" || name === "src") && !isSafeUrl(attr.value, name)) continue;
        out.setAttribute(name, attr.value);
      }
    }
    if (tag === "a") {
      out.setAttribute("rel", "noopener noreferrer nofollow");
      out.setAttribute("target", "_blank");
    }
    copyNode(el, out);
    into.appendChild(out);
  }
}

/**
 * Parse markup without running or loading anything: a <template>'s content belongs to the
 * document's shared inert template document. Far cheaper than a DOMParser document per body
 * (a module view renders thousands of bodies).
 */
function parseInert(html: string): DocumentFragment {
  const template = document.createElement("template");
  template.innerHTML = html;
  return template.content;
}

/** Parse `html` inertly and return an allowlisted fragment ready to insert. */
export function renderRichText(html: string | null | undefined): DocumentFragment {
  const frag = document.createDocumentFragment();
  if (!html) return frag;
  copyNode(parseInert(html), frag);
  return frag;
}

/** Plain text of a body (for previews and diff summaries). */
export function plainText(html: string | null | undefined): string {
  if (!html) return "";
  return (parseInert(html).textContent ?? "").replace(/\s+/g, " ").trim();
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", "#39": "'", "#x27": "'" };

/** Decode the HTML entities an escaped text may contain. */
export function unescapeHtml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
    const lower = name.toLowerCase();
    if (lower in ENTITIES) return ENTITIES[lower];
    if (lower.startsWith("#x")) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    if (lower.startsWith("#")) return String.fromCodePoint(parseInt(lower.slice(1), 10));
    return whole;
  });
}

/**
 * Render a search highlight: HTML-escaped text whose only markup is <mark>…</mark>
 * (contract §4.8). Anything else stays literal text.
 */
export function renderHighlight(text: string | null | undefined): DocumentFragment {
  const frag = document.createDocumentFragment();
  if (!text) return frag;
  const parts = text.split(/(<mark>|<\/mark>)/);
  let marked: HTMLElement | null = null;
  for (const part of parts) {
    if (part === "<mark>") {
      if (!marked) marked = document.createElement("mark");
      continue;
    }
    if (part === "</mark>") {
      if (marked) frag.appendChild(marked);
      marked = null;
      continue;
    }
    if (!part) continue;
    const node = document.createTextNode(unescapeHtml(part));
    (marked ?? frag).appendChild(node);
  }
  if (marked) frag.appendChild(marked);
  return frag;
}
