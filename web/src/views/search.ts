// Global full-text search (GET /search): ranked hits with <mark> highlights.

import { h, replace } from "../lib/dom";
import { renderHighlight } from "../lib/richtext";
import { button, crumbs, empty, link, loading, type Ctx } from "../ui/common";

const PAGE = 50;

export async function renderSearch(ctx: Ctx, root: HTMLElement, q: string): Promise<void> {
  if (!q.trim()) {
    replace(root, crumbs(link({ name: "workspaces" }, "Workspaces"), "Search"), h("h1", null, "Search"), empty("Type words in the search box above. Use \"quotes\" for phrases, or and -word."));
    return;
  }
  replace(root, loading("Searching…"));
  const list = h("ol", { class: "hits" });
  const more = h("div", null);
  const heading = h("h1", null);
  let offset = 0;

  async function loadPage(): Promise<void> {
    const page = await ctx.api.search(q, offset, PAGE);
    heading.textContent = `${page.total} result${page.total === 1 ? "" : "s"} for “${q}”`;
    for (const hit of page.items) {
      const to = { name: "module" as const, ws: hit.workspace_id, p: hit.project_id, m: hit.module_id, object: hit.id };
      const title = link(to, h("span", { class: "level" }, hit.level), " ");
      title.appendChild(hit.highlight?.heading ? renderHighlight(hit.highlight.heading) : document.createTextNode(hit.heading ?? "(no heading)"));
      list.appendChild(
        h(
          "li",
          null,
          h("h3", null, title),
          h("small", { class: "muted" }, hit.module_name),
          hit.highlight?.body ? h("p", { class: "snippet" }, renderHighlight(hit.highlight.body)) : null,
        ),
      );
    }
    offset += page.items.length;
    replace(more, 
      offset < page.total
        ? button("Show more", () => void loadPage(), { class: "small" })
        : page.total === 0
          ? empty("Nothing matched.")
          : null,
    );
  }

  await loadPage();
  replace(root, crumbs(link({ name: "workspaces" }, "Workspaces"), "Search"), heading, list, more);
}
