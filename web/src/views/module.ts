// Module view: the object tree rendered as a document (levels, headings, bodies),
// with inline create/edit, structural moves and a side panel per selected object.

import type { AttributeDefinition, Link, LinkType, Module, MoveAction, ReqObject } from "../api/types";
import { h, replace } from "../lib/dom";
import { formatValue } from "../lib/history";
import { renderHighlight, renderRichText } from "../lib/richtext";
import { depthOf, headingTag, needsReview, possibleMoves } from "../lib/tree";
import { hrefOf } from "../router";
import { busy, button, crumbs, empty, hasRole, link, loading, type Ctx } from "../ui/common";
import { download, openInTab } from "../ui/downloads";
import { toast } from "../ui/toast";
import { attributeSection } from "./attributes";
import { objectForm } from "./objectForm";
import { renderObjectPanel } from "./objectPanel";

export interface ModuleData {
  ws: string;
  p: string;
  module: Module;
  objects: ReqObject[];
  defs: AttributeDefinition[];
  linkTypes: LinkType[];
  links: Link[];
  users: Map<string, string>;
}

/** Where an inline create form sits: after an object, as its last child, or at the end. */
type Placement = { kind: "after" | "child"; anchor: string } | { kind: "end" };

interface ViewState {
  selected: string | null;
  editing: string | null;
  creating: Placement | null;
}

export async function renderModule(ctx: Ctx, root: HTMLElement, ws: string, p: string, m: string, objectId?: string): Promise<void> {
  replace(root, loading());
  const [workspace, project, module, objects, defs, linkTypes, links, users] = await Promise.all([
    ctx.api.getWorkspace(ws),
    ctx.api.getProject(ws, p),
    ctx.api.getModule(m),
    ctx.api.listAllObjects(m),
    ctx.api.attributeDefinitions(m).then((pg) => pg.items),
    ctx.api.linkTypes(),
    ctx.api.moduleLinks(m).then((pg) => pg.items),
    ctx.api
      .listUsers()
      .then((pg) => new Map(pg.items.map((u) => [u.id, u.display_name || u.email])))
      .catch(() => new Map<string, string>()),
  ]);
  const data: ModuleData = { ws, p, module, objects, defs, linkTypes, links, users };
  const state: ViewState = { selected: objectId ?? null, editing: null, creating: null };
  const canEdit = hasRole(ctx, "editor");

  const doc = h("article", { class: "document", "aria-label": `${module.name} document` });
  const panel = h("aside", { class: "panel", "aria-label": "Selected object" });
  const results = h("section", { class: "module-results", "aria-live": "polite" });
  const grid = h("div", { class: "module-grid no-panel" }, doc, panel);
  const body = h("div", { class: "objects" });
  const tail = h("div", { class: "doc-tail" });
  doc.append(body, tail);
  /** Rendered section per object, so a click redraws two sections, not the whole document. */
  const sections = new Map<string, HTMLElement>();
  let suspects = new Set<string>();

  async function reload(): Promise<void> {
    const [objs, lnks] = await Promise.all([ctx.api.listAllObjects(m), ctx.api.moduleLinks(m).then((pg) => pg.items)]);
    data.objects = objs;
    data.links = lnks;
    draw();
  }

  function select(id: string | null, scroll = false): void {
    const url = hrefOf({ name: "module", ws, p, m, object: id ?? undefined, mode: "document" });
    history.replaceState(null, "", url);
    update({ selected: id });
    if (scroll && id) document.getElementById(`obj-${id}`)?.scrollIntoView({ block: "center" });
  }

  /** Change the view state and redraw only the objects (and panel) it touches. */
  function update(patch: Partial<ViewState>): void {
    const before = { ...state };
    Object.assign(state, patch);
    const touched = new Set<string>();
    for (const st of [before, state]) {
      if (st.selected) touched.add(st.selected);
      if (st.editing) touched.add(st.editing);
      if (st.creating && st.creating.kind !== "end") touched.add(st.creating.anchor);
    }
    for (const id of touched) redrawObject(id);
    drawTail();
    if (before.selected !== state.selected) drawPanel();
  }

  function redrawObject(id: string): void {
    const old = sections.get(id);
    const obj = data.objects.find((o) => o.id === id);
    if (!old || !obj) return;
    const fresh = objectSection(obj);
    old.replaceWith(fresh);
    sections.set(id, fresh);
  }

  function suspectIds(): Set<string> {
    const ids = new Set<string>();
    for (const l of data.links) {
      if (l.suspect) {
        ids.add(l.source_object_id);
        ids.add(l.target_object_id);
      }
    }
    return ids;
  }

  async function move(obj: ReqObject, action: MoveAction, trigger: HTMLElement): Promise<void> {
    const moved = await busy(trigger, () => ctx.api.moveObject(m, obj.id, action, obj.current_version), "Move");
    if (moved) {
      await reload();
      document.querySelector<HTMLButtonElement>(`#obj-${CSS.escape(obj.id)} [data-move="${action}"]`)?.focus();
    }
  }

  async function remove(obj: ReqObject, trigger: HTMLElement): Promise<void> {
    const label = `${obj.level} ${obj.heading ?? ""}`.trim();
    if (!window.confirm(`Delete object ${label}? Its children move up to its place; history and baselines keep it.`)) return;
    const ok = await busy(trigger, async () => {
      await ctx.api.deleteObject(m, obj.id);
      return true;
    }, "Delete");
    if (ok) {
      toast(`Deleted ${label}`, "success");
      if (state.selected === obj.id) history.replaceState(null, "", hrefOf({ name: "module", ws, p, m, mode: "document" }));
      if (state.selected === obj.id) state.selected = null;
      await reload();
    }
  }

  function createFormAt(place: Placement): HTMLElement {
    let parentId: string | null = null;
    let position: number | undefined;
    if (place.kind === "after") {
      const anchor = data.objects.find((o) => o.id === place.anchor);
      parentId = anchor?.parent_id ?? null;
      position = anchor ? anchor.position + 1 : undefined;
    } else if (place.kind === "child") {
      parentId = place.anchor;
    }
    const form = objectForm(
      ctx,
      { moduleId: m, parentId, position, defaultClassification: module.default_classification },
      data.defs,
      async (created) => {
        state.creating = null;
        toast(`Created ${created.level}`, "success");
        await reload();
        select(created.id, true);
      },
      () => update({ creating: null }),
    );
    return h("div", { class: "obj creating", style: `--depth:${place.kind === "child" ? 2 : 1}` }, form);
  }

  function objectActions(obj: ReqObject): HTMLElement {
    const can = possibleMoves(data.objects, obj);
    const moveBtn = (action: MoveAction, label: string, symbol: string, enabled: boolean) => {
      const b = h("button", { type: "button", class: "icon", title: label, "aria-label": `${label}: ${obj.level}`, disabled: !enabled, dataset: { move: action } }, symbol);
      b.addEventListener("click", (ev) => {
        ev.stopPropagation();
        void move(obj, action, b);
      });
      return b;
    };
    const act = (label: string, fn: (b: HTMLButtonElement) => void, cls = "") => {
      const b: HTMLButtonElement = button(label, (ev) => {
        ev.stopPropagation();
        fn(b);
      }, { class: `small ${cls}`.trim() });
      return b;
    };
    return h(
      "div",
      { class: "obj-actions", role: "toolbar", "aria-label": `Actions for ${obj.level}` },
      canEdit
        ? [
            act("Edit", () => update({ editing: obj.id, creating: null })),
            act("Add after", () => update({ creating: { kind: "after", anchor: obj.id }, editing: null })),
            act("Add child", () => update({ creating: { kind: "child", anchor: obj.id }, editing: null })),
            moveBtn("up", "Move up", "↑", can.up),
            moveBtn("down", "Move down", "↓", can.down),
            moveBtn("indent", "Indent", "→", can.indent),
            moveBtn("dedent", "Dedent", "←", can.dedent),
            act("Delete", (b) => void remove(obj, b), "danger"),
          ]
        : null,
    );
  }

  function objectSection(obj: ReqObject): HTMLElement {
    const depth = depthOf(obj.level);
    const selected = state.selected === obj.id;
    if (state.editing === obj.id) {
      const form = objectForm(
        ctx,
        { moduleId: m, object: obj, defaultClassification: module.default_classification },
        data.defs,
        async (saved) => {
          state.editing = null;
          toast(`Saved ${saved.level} (version ${saved.current_version})`, "success");
          await reload();
        },
        () => update({ editing: null }),
      );
      return h("section", { class: "obj editing", id: `obj-${obj.id}`, style: `--depth:${depth}` }, form);
    }
    const headingEl = h(headingTag(depth), { class: "obj-heading" });
    const title = h(
      "button",
      { type: "button", class: "obj-title", "aria-pressed": selected ? "true" : "false", "aria-label": `Select ${obj.level} ${obj.heading ?? ""}` },
      h("span", { class: "level" }, obj.level),
      " ",
      obj.heading ? obj.heading : h("span", { class: "muted" }, "(no heading)"),
    );
    title.addEventListener("click", () => select(selected ? null : obj.id));
    headingEl.appendChild(title);
    const badges = h(
      "span",
      { class: "badges" },
      obj.classification !== "normative" ? h("span", { class: "badge" }, obj.classification) : null,
      needsReview(obj) && obj.classification !== "heading" ? h("span", { class: "badge warn", title: "Content changed since last review" }, "needs review") : null,
      suspects.has(obj.id) ? h("span", { class: "badge suspect", title: "A link to or from this object is suspect" }, "⚠ suspect link") : null,
    );
    const attrs = Object.entries(obj.attributes ?? {}).filter(([, v]) => v !== null);
    const body = h("div", { class: "obj-body" });
    body.appendChild(renderRichText(obj.body));
    return h(
      "section",
      {
        class: [
          "obj",
          selected ? "selected" : "",
          obj.classification === "heading" ? "is-heading" : "",
          needsReview(obj) && obj.classification !== "heading" ? "needs-review" : "",
          suspects.has(obj.id) ? "has-suspect" : "",
        ].filter(Boolean).join(" "),
        id: `obj-${obj.id}`,
        style: `--depth:${depth}`,
      },
      // Actions only on the selected object: a 10,000-object module stays a light document.
      h("header", { class: "obj-head" }, headingEl, badges, selected ? objectActions(obj) : null),
      obj.body ? body : null,
      attrs.length
        ? h(
            "dl",
            { class: "obj-attrs" },
            attrs.map(([k, v]) => {
              const userRef = data.defs.find((d) => d.name === k)?.data_type === "user_ref" && typeof v === "string";
              return h("div", null, h("dt", null, k), h("dd", null, userRef ? data.users.get(v as string) ?? formatValue(v) : formatValue(v)));
            }),
          )
        : null,
      state.creating?.kind !== "end" && state.creating?.anchor === obj.id ? createFormAt(state.creating) : null,
    );
  }

  function drawDocument(): void {
    suspects = suspectIds();
    sections.clear();
    const live = data.objects.filter((o) => !o.deleted_at);
    const frag = document.createDocumentFragment();
    for (const o of live) {
      const section = objectSection(o);
      sections.set(o.id, section);
      frag.appendChild(section);
    }
    replace(body, live.length === 0 ? empty("This module has no objects yet.") : null, frag);
    drawTail();
  }

  function drawTail(): void {
    replace(
      tail,
      state.creating?.kind === "end" ? createFormAt(state.creating) : null,
      canEdit && !state.creating
        ? button("+ Add object at end", () => update({ creating: { kind: "end" }, editing: null }), { class: "add-end" })
        : null,
    );
  }

  function drawPanel(): void {
    const obj = data.objects.find((o) => o.id === state.selected);
    grid.classList.toggle("no-panel", !obj);
    if (obj) {
      panel.hidden = false;
      void renderObjectPanel(ctx, panel, data, obj, {
        reload,
        close: () => select(null),
        select: (id) => select(id, true),
      });
    } else {
      panel.hidden = true;
      panel.replaceChildren();
    }
  }

  function draw(): void {
    drawDocument();
    drawPanel();
  }

  // Search within the module (ranked, with highlights).
  const q = h("input", { type: "search", name: "q", placeholder: "Search this module", "aria-label": "Search this module" });
  const searchForm = h("form", { class: "search-inline", role: "search", "aria-label": "This module" }, q, h("button", { type: "submit" }, "Search"));

  // Filters hide objects with CSS only, so toggling them costs no re-render.
  const filter = h(
    "select",
    { name: "filter", "aria-label": "Show objects" },
    h("option", { value: "" }, "All objects"),
    h("option", { value: "needs-review" }, "Needing review"),
    h("option", { value: "has-suspect" }, "With suspect links"),
  );
  filter.addEventListener("change", () => {
    doc.classList.remove("only-needs-review", "only-has-suspect");
    if (filter.value) doc.classList.add(`only-${filter.value}`);
  });

  // Keyboard: arrows move between objects, Escape clears the selection.
  doc.addEventListener("keydown", (ev) => {
    const target = ev.target as HTMLElement;
    if (ev.key === "Escape" && state.selected && !state.editing && !state.creating) {
      select(null);
      return;
    }
    if (!target.classList.contains("obj-title") || (ev.key !== "ArrowDown" && ev.key !== "ArrowUp")) return;
    const only = filter.value; // the visible objects are those the filter keeps
    const titles = Array.from(body.querySelectorAll<HTMLElement>(".obj-title")).filter((t) => {
      const section = t.closest("section.obj");
      return !only || section?.classList.contains(only) || section?.classList.contains("selected");
    });
    const i = titles.indexOf(target);
    const next = titles[ev.key === "ArrowDown" ? i + 1 : i - 1];
    if (next) {
      ev.preventDefault();
      next.focus();
    }
  });
  searchForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = q.value.trim();
    if (!text) {
      results.replaceChildren();
      return;
    }
    const page = await busy(searchForm.querySelector("button"), () => ctx.api.searchObjects(m, text), "Search");
    if (!page) return;
    const clear = button("Clear", () => {
      results.replaceChildren();
      q.value = "";
    }, { class: "small" });
    replace(
      results,
      h("h2", null, `${page.total} match${page.total === 1 ? "" : "es"} for “${text}”`, " ", clear),
      page.items.length === 0
        ? null
        : h(
            "ol",
            { class: "hits" },
            page.items.map((o) => {
              const go = h("button", { type: "button", class: "link" }, h("span", { class: "level" }, o.level), " ", o.highlight ? renderHighlight(o.highlight.heading) : o.heading ?? "");
              go.addEventListener("click", () => select(o.id, true));
              return h("li", null, go, o.highlight?.body ? h("p", { class: "snippet" }, renderHighlight(o.highlight.body)) : null);
            }),
          ),
    );
  });

  const attrSlot = h("div", null);
  const drawAttrs = (open = false): void => {
    const section = attributeSection(ctx, m, data.defs, async () => {
      data.defs = (await ctx.api.attributeDefinitions(m)).items;
      drawAttrs(true);
      draw();
    });
    (section as HTMLDetailsElement).open = open;
    replace(attrSlot, section);
  };
  drawAttrs();

  const exportReqif = button("ReqIF", (ev) => void download(ctx.api, ev.currentTarget as HTMLElement, `/modules/${m}/reqif/export`, { format: "reqif" }, `${m}.reqif`), { class: "small" });
  const exportReqifz = button("ReqIFz", (ev) => void download(ctx.api, ev.currentTarget as HTMLElement, `/modules/${m}/reqif/export`, { format: "reqifz" }, `${m}.reqifz`), { class: "small" });
  const pubHtml = button("HTML", (ev) => void openInTab(ctx.api, ev.currentTarget as HTMLElement, `/modules/${m}/publish`, { format: "html" }), { class: "small" });
  const pubMd = button("Markdown", (ev) => void openInTab(ctx.api, ev.currentTarget as HTMLElement, `/modules/${m}/publish`, { format: "md" }), { class: "small" });
  const pubCsv = button("CSV", (ev) => void download(ctx.api, ev.currentTarget as HTMLElement, `/modules/${m}/publish`, { format: "csv" }, "objects.csv"), { class: "small" });

  replace(root, 
    crumbs(
      link({ name: "workspaces" }, "Workspaces"),
      link({ name: "workspace", ws }, workspace.name),
      link({ name: "project", ws, p }, project.name),
      module.name,
    ),
    h(
      "div",
      { class: "module-head" },
      h("h1", null, module.name, module.prefix ? h("span", { class: "tag" }, module.prefix) : null),
      h(
        "div",
        { class: "module-tools" },
        h("span", { class: "group", role: "group", "aria-label": "Screen" }, link({ name: "module", ws, p, m }, "Grid"), h("strong", { "aria-current": "page" }, "Document")),
        searchForm,
        filter,
        link({ name: "baselines", ws, p, m }, "Baselines"),
        link({ name: "traceability", ws, p, m }, "Traceability"),
        link({ name: "validate", ws, p, m }, "Validate"),
        link({ name: "reviews", ws, p, m }, "Reviews"),
        link({ name: "proposals", ws, p, m }, "Proposals"),
        link({ name: "objectTypes", ws, p, m }, "Object types"),
        hasRole(ctx, "admin") ? link({ name: "webhooks", ws, p, m }, "Webhooks") : null,
        h("span", { class: "group", role: "group", "aria-label": "Export" }, h("span", { class: "muted" }, "Export:"), exportReqif, exportReqifz),
        h("span", { class: "group", role: "group", "aria-label": "Publish" }, h("span", { class: "muted" }, "Publish:"), pubHtml, pubMd, pubCsv),
      ),
    ),
    module.description ? h("p", { class: "lead" }, module.description) : null,
    attrSlot,
    results,
    grid,
  );
  draw();
  if (state.selected) document.getElementById(`obj-${state.selected}`)?.scrollIntoView({ block: "center" });
}
