// The module grid, the default module screen: rows in outline order (level, indentation,
// collapsible subtrees), a column per attribute definition, indicators, inline editing per type
// with the API's version-conflict flow, keyboard work, drag and drop, bulk edits, saved views,
// and virtualised rendering (only the rows in view exist in the DOM) so 10,000 rows stay fast.

import { Virtualizer, elementScroll, observeElementOffset, observeElementRect } from "@tanstack/virtual-core";
import { ApiError } from "../api/client";
import type { AttributeDefinition, AttrValue, ModuleView, ObjectCounts, ReqObject } from "../api/types";
import { attrToInput, AttrInputError, coerceAttr, mergeAttributes } from "../lib/attrs";
import { h, replace } from "../lib/dom";
import {
  columnSettings,
  columnsFor,
  configFromView,
  dropTarget,
  EMPTY_CONFIG,
  filterChoices,
  indicatorsOf,
  isFiltering,
  MIN_WIDTH,
  subtreeIds,
  visibleRows,
  type Column,
  type GridConfig,
  type Indicators,
  type Row,
} from "../lib/grid";
import { renderRichText } from "../lib/richtext";
import { needsReview } from "../lib/tree";
import { hrefOf } from "../router";
import { busy, button, crumbs, hasRole, link, loading, onLeave, type Ctx } from "../ui/common";
import { download, openInTab } from "../ui/downloads";
import { errorToast, toast } from "../ui/toast";
import { connectLive, type LiveEvent } from "./live";
import type { ModuleData } from "./module";
import { renderObjectPanel } from "./objectPanel";

const ROW_ESTIMATE = 34;
const UNDO_SECONDS = 6;

interface Editing {
  id: string;
  col: string;
  cell: HTMLElement;
  /** The value typed so far (kept across a version conflict). */
  read: () => Partial<ReqObject> | null;
}

export interface GridOptions {
  object?: string;
  view?: string;
}

export async function renderGrid(ctx: Ctx, root: HTMLElement, ws: string, p: string, m: string, opts: GridOptions = {}): Promise<void> {
  replace(root, loading());
  // the first page of objects is enough to draw and work; the rest follows (see `complete` below)
  let firstPage!: (items: ReqObject[]) => void;
  const first = new Promise<ReqObject[]>((resolve) => (firstPage = resolve));
  let total = 0;
  const everything = ctx.api.listAllObjects(m, (items, count) => {
    total = count;
    firstPage(items);
  });
  everything.catch(() => firstPage([])); // the error itself surfaces through `everything` below
  const [workspace, project, module, objects, defs, linkTypes, links, users, views, counted] = await Promise.all([
    ctx.api.getWorkspace(ws),
    ctx.api.getProject(ws, p),
    ctx.api.getModule(m),
    Promise.race([first, everything]),
    ctx.api.attributeDefinitions(m).then((pg) => pg.items),
    ctx.api.linkTypes(),
    ctx.api.moduleLinks(m).then((pg) => pg.items),
    ctx.api
      .listUsers()
      .then((pg) => new Map(pg.items.map((u) => [u.id, u.display_name || u.email])))
      .catch(() => new Map<string, string>()),
    ctx.api.listViews(m).then((pg) => pg.items),
    ctx.api.moduleIndicators(m).then((r) => r.items).catch(() => [] as ObjectCounts[]),
  ]);
  const data: ModuleData = { ws, p, module, objects, defs, linkTypes, links, users };
  const canEdit = hasRole(ctx, "editor");
  const savedViews: ModuleView[] = views;
  let currentView: ModuleView | null = savedViews.find((v) => v.id === opts.view) ?? savedViews.find((v) => v.is_default) ?? null;
  let config: GridConfig = currentView ? configFromView(currentView) : structuredClone(EMPTY_CONFIG);
  let dirty = false;
  let cols: Column[] = columnsFor(defs, config.columns);
  let shown: Column[] = cols.filter((c) => !c.hidden);
  let loadingRest = objects.length < total;
  const collapsed = new Set<string>();
  const pendingDelete = new Set<string>();
  let rows: Row[] = [];
  let indicators = indicatorsOf(links);
  let counts = new Map(counted.map((c) => [c.object_id, c]));
  let active = { row: 0, col: 1 };
  let anchor = 0;
  const selection = new Set<string>();
  let editing: Editing | null = null;
  let selectedPanel: string | null = opts.object ?? null;

  // ---- layout -------------------------------------------------------------------------------
  const scroller = h("div", {
    class: "mgrid",
    role: "treegrid",
    tabindex: 0,
    "aria-label": `${module.name} objects`,
    "aria-multiselectable": "true",
  });
  const head = h("div", { class: "mgrid-head", role: "rowgroup" });
  const body = h("div", { class: "mgrid-body", role: "rowgroup" });
  scroller.append(head, body);
  const panel = h("aside", { class: "panel", "aria-label": "Selected object", hidden: true });
  const layout = h("div", { class: "module-grid no-panel" }, h("div", { class: "mgrid-main" }, scroller), panel);
  const notice = h("div", { class: "grid-notice", "aria-live": "polite" });
  const status = h("p", { class: "muted grid-status", "aria-live": "polite" });

  // ---- rows ---------------------------------------------------------------------------------
  function recompute(): void {
    const all = visibleRows(data.objects, collapsed, config);
    rows = pendingDelete.size ? all.filter((r) => !pendingDelete.has(r.obj.id)) : all;
    active.row = Math.min(active.row, Math.max(rows.length - 1, 0));
    scroller.setAttribute("aria-rowcount", String(rows.length + 1));
    scroller.setAttribute("aria-colcount", String(shown.length));
    status.textContent = `${rows.length} of ${data.objects.length} objects${loadingRest ? ` (loading ${total - data.objects.length} more…)` : ""}${isFiltering(config.filter) ? " (filtered)" : ""}${config.sort.length ? " (sorted)" : ""}`;
  }

  function setColumns(): void {
    shown = cols.filter((c) => !c.hidden);
    scroller.style.setProperty("--cols", shown.map((c) => `${c.width}px`).join(" "));
    scroller.style.setProperty("--grid-width", `${shown.reduce((s, c) => s + c.width, 0)}px`);
    active.col = Math.min(active.col, shown.length - 1);
    drawHead();
  }

  const rowCache = new Map<string, { key: string; el: HTMLElement }>();
  const colSignature = (): string => shown.map((c) => c.key).join("|");

  function rowKey(r: Row, index: number): string {
    const ind = indicators.get(r.obj.id);
    return [r.obj.id, r.obj.current_version, r.obj.level, r.depth, r.collapsed, r.hasChildren, selection.has(r.obj.id), index, colSignature(), ind?.in, ind?.out, ind?.suspect, countKey(r.obj.id)].join(";");
  }

  const virtualizer = new Virtualizer<HTMLDivElement, HTMLElement>({
    count: 0,
    getScrollElement: () => scroller,
    estimateSize: () => ROW_ESTIMATE,
    overscan: 8,
    scrollToFn: elementScroll,
    observeElementRect,
    observeElementOffset,
    getItemKey: (i) => rows[i]?.obj.id ?? i,
    onChange: () => drawRows(),
  });

  function drawRows(): void {
    const items = virtualizer.getVirtualItems();
    const margin = virtualizer.options.scrollMargin;
    body.style.height = `${virtualizer.getTotalSize() - margin}px`;
    const keep = new Set<HTMLElement>();
    for (const item of items) {
      const r = rows[item.index];
      if (!r) continue;
      const key = rowKey(r, item.index);
      let cached = rowCache.get(r.obj.id);
      if (!cached || cached.key !== key) {
        if (editing?.id === r.obj.id && cached) {
          cached.key = key; // never rebuild a row under an open editor
        } else {
          cached = { key, el: buildRow(r, item.index) };
          rowCache.set(r.obj.id, cached);
        }
      }
      const el = cached.el;
      el.style.transform = `translateY(${item.start - margin}px)`;
      keep.add(el);
      if (el.parentNode !== body) body.appendChild(el);
      virtualizer.measureElement(el);
    }
    for (const child of [...body.children]) if (!keep.has(child as HTMLElement)) child.remove();
    markActive();
  }

  /** Forget built rows (they are rebuilt on demand), except the one under an open editor. */
  function dropRows(): void {
    for (const id of [...rowCache.keys()]) if (id !== editing?.id) rowCache.delete(id);
  }

  function refresh(keepScroll = true): void {
    recompute();
    dropRows();
    virtualizer.setOptions({ ...virtualizer.options, count: rows.length, scrollMargin: head.offsetHeight });
    if (!keepScroll) scroller.scrollTop = 0;
    virtualizer.measure();
    drawRows();
  }

  function cellId(id: string, col: string): string {
    return `c-${id}-${col.replace(/[^a-zA-Z0-9_-]/g, "_")}`;
  }

  function buildRow(r: Row, index: number): HTMLElement {
    const o = r.obj;
    const el = h("div", {
      class: `mgrid-row${selection.has(o.id) ? " selected" : ""}${o.classification === "heading" ? " is-heading" : ""}`,
      role: "row",
      id: `row-${o.id}`,
      "aria-rowindex": index + 2,
      "aria-level": r.depth,
      "aria-selected": selection.has(o.id) ? "true" : "false",
      "aria-expanded": r.hasChildren ? String(!r.collapsed) : null,
      draggable: canEdit && !config.sort.length && !isFiltering(config.filter) ? "true" : null,
      dataset: { index: String(index), id: o.id },
    });
    shown.forEach((c, ci) => {
      const cell = h("div", { class: `cell cell-${c.kind}`, role: "gridcell", id: cellId(o.id, c.key), "aria-colindex": ci + 1, dataset: { col: String(ci) } });
      fillCell(cell, r, c);
      el.appendChild(cell);
    });
    return el;
  }

  function fillCell(cell: HTMLElement, r: Row, c: Column): void {
    const o = r.obj;
    cell.replaceChildren();
    switch (c.kind) {
      case "id":
        cell.append(h("span", { class: "mono", title: o.id }, o.id.slice(-8)));
        break;
      case "level":
        cell.append(o.level);
        break;
      case "main": {
        const toggle = r.hasChildren
          ? h("button", { type: "button", class: "twisty", tabindex: -1, "aria-label": r.collapsed ? `Expand ${o.level}` : `Collapse ${o.level}`, dataset: { toggle: o.id } }, r.collapsed ? "▸" : "▾")
          : h("span", { class: "twisty", "aria-hidden": "true" });
        const wrap = h("div", { class: "main-cell", dataset: { depth: String(Math.min(r.depth, 8)) } });
        wrap.style.paddingInlineStart = `${(r.depth - 1) * 1.1}rem`;
        wrap.append(
          toggle,
          h("div", { class: "main-text" },
            h("div", { class: "main-title" }, h("span", { class: "level" }, o.level), o.heading ? h("strong", { class: "obj-heading" }, o.heading) : null),
            o.body ? h("div", { class: "obj-body" }, bodyNodes(o)) : null,
          ),
        );
        cell.append(wrap);
        break;
      }
      case "indicators":
        cell.append(indicatorBadges(o, indicators.get(o.id), counts.get(o.id)));
        break;
      case "attr": {
        const v = o.attributes?.[c.def?.name ?? ""];
        cell.append(attrDisplay(c.def, v));
        break;
      }
    }
  }

  /** Sanitized body nodes, parsed once per object version and cloned after (scrolling rebuilds rows). */
  const bodies = new Map<string, { version: number; frag: DocumentFragment }>();
  function bodyNodes(o: ReqObject): Node {
    let hit = bodies.get(o.id);
    if (!hit || hit.version !== o.current_version) {
      hit = { version: o.current_version, frag: renderRichText(o.body) };
      bodies.set(o.id, hit);
    }
    return hit.frag.cloneNode(true);
  }

  function attrDisplay(def: AttributeDefinition | undefined, v: AttrValue | undefined): Node {
    if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) return document.createTextNode("");
    if (Array.isArray(v)) return h("span", { class: "chips" }, v.map((x) => h("span", { class: "chip" }, String(x))));
    if (typeof v === "boolean") return document.createTextNode(v ? "yes" : "no");
    if (def?.data_type === "user_ref" && typeof v === "string") return document.createTextNode(users.get(v) ?? v);
    if (def?.data_type === "rich_text" && typeof v === "string") return h("div", { class: "obj-body" }, renderRichText(v));
    if (def?.data_type === "date" && typeof v === "string") return document.createTextNode(v.slice(0, 10));
    return document.createTextNode(String(v));
  }

  function countKey(id: string): string {
    const c = counts.get(id);
    return c ? `${c.comments}/${c.open_comments}/${c.attachments}` : "";
  }

  async function refreshCounts(): Promise<void> {
    const items = await ctx.api.moduleIndicators(m).then((r) => r.items).catch(() => null);
    if (!items) return;
    counts = new Map(items.map((c) => [c.object_id, c]));
    drawRows();
  }

  function indicatorBadges(o: ReqObject, ind: Indicators | undefined, c: ObjectCounts | undefined): HTMLElement {
    const wrap = h("span", { class: "indicators" });
    if (ind && (ind.in || ind.out)) {
      wrap.append(h("span", { class: "ind ind-links", title: `${ind.out} outgoing, ${ind.in} incoming links` }, `→${ind.out} ←${ind.in}`));
    }
    if (ind?.suspect) wrap.append(h("span", { class: "badge suspect", title: "A link to or from this object is suspect" }, "suspect"));
    if (needsReview(o)) wrap.append(h("span", { class: "badge review", title: "Content changed since the last review" }, "review"));
    if (c?.comments) {
      const title = `${c.comments} comment${c.comments === 1 ? "" : "s"}, ${c.open_comments} open`;
      wrap.append(h("span", { class: `ind ind-comments${c.open_comments ? " open" : ""}`, title, "aria-label": title }, `💬${c.open_comments || c.comments}`));
    }
    if (c?.attachments) {
      const title = `${c.attachments} attachment${c.attachments === 1 ? "" : "s"}`;
      wrap.append(h("span", { class: "ind ind-attachments", title, "aria-label": title }, `📎${c.attachments}`));
    }
    return wrap;
  }

  // ---- header: sort, resize, reorder --------------------------------------------------------
  function drawHead(): void {
    const row = h("div", { class: "mgrid-row head", role: "row", "aria-rowindex": 1 });
    shown.forEach((c, ci) => {
      const sort = config.sort.find((s) => s.key === c.key);
      const th = h("div", {
        class: "cell head-cell",
        role: "columnheader",
        "aria-colindex": ci + 1,
        "aria-sort": sort ? (sort.dir === "asc" ? "ascending" : "descending") : null,
        draggable: "true",
        dataset: { key: c.key },
      });
      const sortBtn = h("button", { type: "button", class: "head-btn", tabindex: -1, title: "Sort (Shift: add to the sort)" }, c.label, sort ? (sort.dir === "asc" ? " ▲" : " ▼") : "");
      sortBtn.addEventListener("click", (ev) => cycleSort(c.key, (ev as MouseEvent).shiftKey));
      const handle = h("span", { class: "resize", "aria-hidden": "true", title: "Drag to resize" });
      handle.addEventListener("pointerdown", (ev) => startResize(ev, c));
      th.append(sortBtn, handle);
      th.addEventListener("dragstart", (ev) => {
        ev.dataTransfer?.setData("application/x-req1-column", c.key);
      });
      th.addEventListener("dragover", (ev) => {
        if (ev.dataTransfer?.types.includes("application/x-req1-column")) ev.preventDefault();
      });
      th.addEventListener("drop", (ev) => {
        const from = ev.dataTransfer?.getData("application/x-req1-column");
        if (!from || from === c.key) return;
        ev.preventDefault();
        moveColumn(from, c.key);
      });
      row.appendChild(th);
    });
    head.replaceChildren(row);
  }

  function cycleSort(key: string, add: boolean): void {
    const cur = config.sort.find((s) => s.key === key);
    const next = !cur ? "asc" : cur.dir === "asc" ? "desc" : null;
    const others = add ? config.sort.filter((s) => s.key !== key) : [];
    config.sort = next ? [...others, { key, dir: next }] : others;
    changed();
    drawHead();
    refresh();
  }

  function moveColumn(from: string, to: string): void {
    const a = cols.findIndex((c) => c.key === from);
    const [col] = cols.splice(a, 1);
    cols.splice(cols.findIndex((c) => c.key === to), 0, col);
    changed();
    setColumns();
    refresh();
    drawChooser();
  }

  function startResize(ev: PointerEvent, c: Column): void {
    ev.preventDefault();
    ev.stopPropagation();
    const x0 = ev.clientX;
    const w0 = c.width;
    const move = (e: PointerEvent): void => {
      c.width = Math.max(MIN_WIDTH, Math.round(w0 + e.clientX - x0));
      scroller.style.setProperty("--cols", shown.map((s) => `${s.width}px`).join(" "));
      scroller.style.setProperty("--grid-width", `${shown.reduce((s, x) => s + x.width, 0)}px`);
    };
    const up = (): void => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      changed();
      virtualizer.measure();
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }

  // ---- active cell, selection, panel --------------------------------------------------------
  function markActive(): void {
    scroller.querySelector(".cell.active")?.classList.remove("active");
    const r = rows[active.row];
    const c = shown[active.col];
    if (!r || !c) {
      scroller.removeAttribute("aria-activedescendant");
      return;
    }
    const cell = document.getElementById(cellId(r.obj.id, c.key));
    if (cell) {
      cell.classList.add("active");
      scroller.setAttribute("aria-activedescendant", cell.id);
    }
  }

  let panelTimer: ReturnType<typeof setTimeout> | undefined;
  function setActive(row: number, col: number, opts: { extend?: boolean; toggle?: boolean; keepSelection?: boolean } = {}): void {
    if (!rows.length) return;
    active = { row: Math.max(0, Math.min(rows.length - 1, row)), col: Math.max(0, Math.min(shown.length - 1, col)) };
    const id = rows[active.row].obj.id;
    if (opts.extend) {
      selection.clear();
      const [a, b] = [Math.min(anchor, active.row), Math.max(anchor, active.row)];
      for (let i = a; i <= b; i++) selection.add(rows[i].obj.id);
    } else if (opts.toggle) {
      if (selection.has(id)) selection.delete(id);
      else selection.add(id);
      anchor = active.row;
    } else if (!opts.keepSelection) {
      selection.clear();
      selection.add(id);
      anchor = active.row;
    }
    virtualizer.scrollToIndex(active.row, { align: "auto" });
    drawRows();
    document.getElementById(cellId(id, shown[active.col].key))?.scrollIntoView({ block: "nearest", inline: "nearest" });
    drawBulk();
    clearTimeout(panelTimer);
    panelTimer = setTimeout(() => showPanel(id), 150);
  }

  function showPanel(id: string | null): void {
    selectedPanel = id;
    history.replaceState(null, "", hrefOf({ name: "module", ws, p, m, object: id ?? undefined, view: currentView?.id }));
    const obj = data.objects.find((o) => o.id === id);
    layout.classList.toggle("no-panel", !obj);
    panel.hidden = !obj;
    if (!obj) {
      panel.replaceChildren();
      return;
    }
    void renderObjectPanel(ctx, panel, data, obj, {
      reload: reloadAll,
      countsChanged: () => void refreshCounts(),
      close: () => showPanel(null),
      select: (target) => {
        const i = rows.findIndex((r) => r.obj.id === target);
        if (i >= 0) setActive(i, active.col);
      },
    });
  }

  // ---- data ---------------------------------------------------------------------------------
  async function reloadAll(): Promise<void> {
    const [objs, lnks] = await Promise.all([ctx.api.listAllObjects(m), ctx.api.moduleLinks(m).then((pg) => pg.items)]);
    const activeId = rows[active.row]?.obj.id;
    loadingRest = false;
    data.objects = objs;
    data.links = lnks;
    indicators = indicatorsOf(lnks);
    void refreshCounts();
    refresh();
    const i = activeId ? rows.findIndex((r) => r.obj.id === activeId) : -1;
    if (i >= 0) active.row = i;
    markActive();
  }

  function replaceObject(fresh: ReqObject): void {
    const i = data.objects.findIndex((o) => o.id === fresh.id);
    if (i >= 0) data.objects[i] = fresh;
    const r = rows.find((x) => x.obj.id === fresh.id);
    if (r) r.obj = fresh;
    rowCache.delete(fresh.id);
    drawRows();
    if (selectedPanel === fresh.id) showPanel(fresh.id);
  }

  // ---- editing ------------------------------------------------------------------------------
  function editable(c: Column): boolean {
    return canEdit && (c.kind === "main" || c.kind === "attr");
  }

  function startEdit(keep?: Partial<ReqObject>): void {
    const r = rows[active.row];
    const c = shown[active.col];
    if (!r || !c || editing) return;
    if (!editable(c)) {
      if (!canEdit) toast("You can view this module; editing needs the editor role", "info");
      return;
    }
    const cell = document.getElementById(cellId(r.obj.id, c.key));
    if (!cell) return;
    const obj = r.obj;
    const baseVersion = obj.current_version; // what the user saw: a later save by anyone is a conflict
    const form = h("div", { class: "cell-editor", role: "group", "aria-label": `Edit ${c.label} of ${obj.level}` });
    let read: () => Partial<ReqObject> | null;
    let focusEl: HTMLElement;
    if (c.kind === "main") {
      const heading = h("input", { type: "text", class: "edit-heading", "aria-label": "Heading", value: keep?.heading ?? obj.heading ?? "", maxlength: 2000 });
      const rich = h("div", { class: "edit-body", contenteditable: "true", role: "textbox", "aria-multiline": "true", "aria-label": "Body (rich text)" });
      rich.append(renderRichText(keep?.body !== undefined ? keep.body : obj.body));
      const fmt = (cmd: string, label: string): HTMLButtonElement =>
        button(label, () => {
          rich.focus();
          document.execCommand(cmd);
        }, { class: "small", title: cmd, "aria-label": cmd });
      form.append(heading, h("div", { class: "rt-tools", role: "toolbar", "aria-label": "Formatting" }, fmt("bold", "B"), fmt("italic", "I"), fmt("insertUnorderedList", "•")), rich);
      read = () => ({ heading: heading.value.trim() || null, body: rich.textContent?.trim() ? rich.innerHTML : null });
      focusEl = heading;
    } else {
      const def = c.def as AttributeDefinition;
      const current = keep?.attributes ? keep.attributes[def.name] : obj.attributes?.[def.name];
      const { control, value } = attrEditor(def, current);
      form.append(control);
      read = () => {
        try {
          return { attributes: mergeAttributes(obj.attributes, { [def.name]: value() }) };
        } catch (err) {
          if (err instanceof AttrInputError) {
            toast(err.message, "error");
            return null;
          }
          throw err;
        }
      };
      focusEl = control;
    }
    const save = button("Save", () => void commit(), { class: "small primary" });
    const cancel = button("Cancel", () => stopEdit(), { class: "small" });
    form.append(h("div", { class: "edit-actions" }, save, cancel, h("small", { class: "muted" }, c.kind === "main" ? "Ctrl+Enter saves · Esc cancels" : "Enter saves · Esc cancels")));
    form.addEventListener("keydown", (ev) => {
      ev.stopPropagation();
      const multiline = (ev.target as HTMLElement).isContentEditable || (ev.target as HTMLElement).tagName === "SELECT" && (ev.target as HTMLSelectElement).multiple;
      if (ev.key === "Escape") {
        ev.preventDefault();
        stopEdit();
      } else if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey || !multiline)) {
        ev.preventDefault();
        void commit();
      } else if (ev.key === "Tab" && c.kind === "attr") {
        ev.preventDefault();
        void commit(ev.shiftKey ? -1 : 1);
      }
    });
    cell.replaceChildren(form);
    cell.classList.add("editing");
    editing = { id: obj.id, col: c.key, cell, read };
    focusEl.focus();

    async function commit(step = 0): Promise<void> {
      const patch = read();
      if (!patch) return;
      try {
        save.disabled = true;
        const fresh = await ctx.api.updateObject(m, obj.id, { ...patch, expected_version: baseVersion } as never);
        stopEdit(false);
        replaceObject(fresh);
        if (step) setActive(active.row, active.col + step);
        const ind = (patch as ReqObject).heading !== undefined || (patch as ReqObject).body !== undefined || patch.attributes;
        if (ind) void refreshLinks();
      } catch (err) {
        save.disabled = false;
        if (err instanceof ApiError && err.status === 409) conflict(obj.id, patch, err);
        else errorToast(err, "Save");
      }
    }
  }

  function stopEdit(focus = true): void {
    if (!editing) return;
    const { id } = editing;
    editing = null;
    rowCache.delete(id);
    drawRows();
    if (focus) scroller.focus();
  }

  /** Someone else saved first: say so, keep what was typed, offer the latest version. */
  function conflict(id: string, mine: Partial<ReqObject>, err: ApiError): void {
    const reloadBtn = button("Load latest version (keep my edit)", async () => {
      const fresh = await busy(reloadBtn, () => ctx.api.getObject(m, id), "Load latest");
      if (!fresh) return;
      notice.replaceChildren();
      stopEdit(false);
      replaceObject(fresh);
      startEdit(mine.attributes ? { attributes: { ...(fresh.attributes ?? {}), ...pickChanged(mine.attributes, fresh) } } : mine);
    }, { class: "primary small" });
    const discard = button("Discard my edit", async () => {
      notice.replaceChildren();
      stopEdit();
      const fresh = await ctx.api.getObject(m, id).catch(() => null);
      if (fresh) replaceObject(fresh);
    }, { class: "small" });
    replace(
      notice,
      h("div", { class: "conflict", role: "alert" },
        h("strong", null, "Someone else changed this object while you were editing."),
        h("span", null, ` ${err.message}`),
        reloadBtn,
        discard,
      ),
    );
  }

  /** The attribute the user edited, so a reload after a conflict keeps only that change of theirs. */
  function pickChanged(attrs: Record<string, AttrValue>, fresh: ReqObject): Record<string, AttrValue> {
    const c = shown[active.col];
    const name = c?.def?.name;
    return name && name in attrs ? { [name]: attrs[name] } : name ? { [name]: null } : attrs ?? fresh.attributes ?? {};
  }

  async function refreshLinks(): Promise<void> {
    const lnks = await ctx.api.moduleLinks(m).then((pg) => pg.items).catch(() => null);
    if (!lnks) return;
    data.links = lnks;
    indicators = indicatorsOf(lnks);
    drawRows();
  }

  function attrEditor(def: AttributeDefinition, current: AttrValue | undefined): { control: HTMLElement; value: () => AttrValue } {
    const type = def.data_type === "boolean" ? "bool" : def.data_type;
    const raw = attrToInput(def, current);
    const label = `${def.name} (${type}${def.multi_select ? ", several" : ""})`;
    if (type === "enum") {
      const values = Array.isArray(def.enum_values) ? def.enum_values : [];
      const chosen = new Set(Array.isArray(raw) ? raw : [raw]);
      const sel = h("select", { "aria-label": label, multiple: def.multi_select || null, size: def.multi_select ? Math.min(6, values.length) : null },
        def.multi_select ? null : h("option", { value: "" }, "—"),
        values.map((v) => h("option", { value: v, selected: chosen.has(v) }, v)));
      return { control: sel, value: () => coerceAttr(def, def.multi_select ? [...sel.selectedOptions].map((o) => o.value) : sel.value) };
    }
    if (type === "bool") {
      const sel = h("select", { "aria-label": label }, h("option", { value: "" }, "—"), h("option", { value: "true", selected: raw === "true" }, "yes"), h("option", { value: "false", selected: raw === "false" }, "no"));
      return { control: sel, value: () => coerceAttr(def, sel.value) };
    }
    if (type === "user_ref") {
      const sel = h("select", { "aria-label": label }, h("option", { value: "" }, "—"), [...users].map(([id, name]) => h("option", { value: id, selected: raw === id }, name)));
      return { control: sel, value: () => coerceAttr(def, sel.value) };
    }
    if (type === "rich_text") {
      const rich = h("div", { class: "edit-body", contenteditable: "true", role: "textbox", "aria-multiline": "true", "aria-label": label, tabindex: 0 });
      rich.append(renderRichText(typeof current === "string" ? current : ""));
      return { control: rich, value: () => (rich.textContent?.trim() ? rich.innerHTML : null) };
    }
    const input = h("input", {
      "aria-label": label,
      type: type === "integer" || type === "float" ? "number" : type === "date" ? "date" : "text",
      step: type === "integer" ? "1" : type === "float" ? "any" : null,
      value: Array.isArray(raw) ? raw.join(", ") : raw,
    });
    return { control: input, value: () => coerceAttr(def, input.value) };
  }

  // ---- structure: create, move, delete with undo ---------------------------------------------
  async function insert(kind: "after" | "child"): Promise<void> {
    if (!canEdit) return;
    const r = rows[active.row];
    let input: { parent_id?: string | null; position?: number } = {};
    if (r && kind === "child") input = { parent_id: r.obj.id };
    else if (r) {
      const sibs = data.objects.filter((o) => o.parent_id === r.obj.parent_id && !o.deleted_at).sort((a, b) => a.position - b.position || (a.id < b.id ? -1 : 1));
      input = { parent_id: r.obj.parent_id, position: sibs.findIndex((o) => o.id === r.obj.id) + 1 };
    }
    try {
      const created = await ctx.api.createObject(m, { ...input, heading: "New object" } as never);
      if (r && kind === "child") collapsed.delete(r.obj.id);
      await reloadAll();
      const i = rows.findIndex((x) => x.obj.id === created.id);
      if (i >= 0) {
        setActive(i, shown.findIndex((c) => c.kind === "main"));
        startEdit();
      }
    } catch (err) {
      errorToast(err, "Create");
    }
  }

  async function move(action: "up" | "down" | "indent" | "dedent"): Promise<void> {
    const r = rows[active.row];
    if (!canEdit || !r) return;
    try {
      await ctx.api.moveObject(m, r.obj.id, action, r.obj.current_version);
      await reloadAll();
      const i = rows.findIndex((x) => x.obj.id === r.obj.id);
      if (i >= 0) setActive(i, active.col);
    } catch (err) {
      errorToast(err, "Move");
    }
  }

  let undoTimer: ReturnType<typeof setTimeout> | undefined;
  let undoBatch: string[] = [];
  function remove(): void {
    if (!canEdit) return;
    const ids = selection.size ? [...selection] : rows[active.row] ? [rows[active.row].obj.id] : [];
    if (!ids.length) return;
    void flushDeletes();
    undoBatch = ids;
    ids.forEach((id) => pendingDelete.add(id));
    selection.clear();
    refresh();
    setActive(active.row, active.col);
    const undo = button("Undo", () => undoDelete(), { class: "small" });
    replace(notice, h("div", { class: "undo", role: "status" }, `Deleted ${ids.length} object${ids.length > 1 ? "s" : ""}. `, undo, h("small", { class: "muted" }, ` Ctrl+Z within ${UNDO_SECONDS} s`)));
    undoTimer = setTimeout(() => void flushDeletes(), UNDO_SECONDS * 1000);
  }

  function undoDelete(): void {
    if (!undoBatch.length) return;
    clearTimeout(undoTimer);
    const restored = undoBatch;
    restored.forEach((id) => pendingDelete.delete(id));
    undoBatch = [];
    notice.replaceChildren();
    refresh();
    // the restored rows are the selection again, as before the delete
    const first = rows.findIndex((r) => restored.includes(r.obj.id));
    if (first >= 0) setActive(first, active.col);
    restored.forEach((id) => selection.add(id));
    dropRows();
    drawRows();
    toast("Delete undone", "success");
    scroller.focus();
  }

  /** The deletes happen when the undo window closes (or the screen is left), not before. */
  async function flushDeletes(): Promise<void> {
    clearTimeout(undoTimer);
    const batch = undoBatch;
    undoBatch = [];
    if (!batch.length) return;
    notice.replaceChildren();
    for (const id of batch) {
      try {
        await ctx.api.deleteObject(m, id);
      } catch (err) {
        errorToast(err, "Delete");
      }
    }
    batch.forEach((id) => pendingDelete.delete(id));
    if (document.body.contains(scroller)) await reloadAll();
  }
  onLeave(() => void flushDeletes());

  // ---- keyboard -----------------------------------------------------------------------------
  const pageRows = (): number => Math.max(1, Math.floor(scroller.clientHeight / ROW_ESTIMATE) - 1);
  scroller.addEventListener("keydown", (ev) => {
    if (editing || ev.target !== scroller) return;
    const { row, col } = active;
    const alt = ev.altKey && ev.shiftKey;
    const ctrl = ev.ctrlKey || ev.metaKey;
    let handled = true;
    if (alt && ev.key === "ArrowRight") void move("indent");
    else if (alt && ev.key === "ArrowLeft") void move("dedent");
    else if (alt && ev.key === "ArrowUp") void move("up");
    else if (alt && ev.key === "ArrowDown") void move("down");
    else if (ev.key === "ArrowDown") setActive(row + 1, col, { extend: ev.shiftKey });
    else if (ev.key === "ArrowUp") setActive(row - 1, col, { extend: ev.shiftKey });
    else if (ev.key === "ArrowRight" && ctrl) toggle(rows[row]?.obj.id, false);
    else if (ev.key === "ArrowLeft" && ctrl) toggle(rows[row]?.obj.id, true);
    else if (ev.key === "ArrowRight") setActive(row, col + 1, { keepSelection: true });
    else if (ev.key === "ArrowLeft") setActive(row, col - 1, { keepSelection: true });
    else if (ev.key === "Home") setActive(ctrl ? 0 : row, 0, { keepSelection: !ctrl });
    else if (ev.key === "End") setActive(ctrl ? rows.length - 1 : row, shown.length - 1, { keepSelection: !ctrl });
    else if (ev.key === "PageDown") setActive(row + pageRows(), col, { extend: ev.shiftKey });
    else if (ev.key === "PageUp") setActive(row - pageRows(), col, { extend: ev.shiftKey });
    else if (ev.key === "Enter" && ctrl) void insert(ev.shiftKey ? "child" : "after");
    else if (ev.key === "Insert") void insert(ev.shiftKey ? "child" : "after");
    else if (ev.key === "Enter" || ev.key === "F2") startEdit();
    else if (ev.key === " ") setActive(row, col, { toggle: true });
    else if (ev.key === "Delete") remove();
    else if (ev.key === "z" && ctrl) undoDelete();
    else if (ev.key === "a" && ctrl) {
      rows.forEach((r) => selection.add(r.obj.id));
      dropRows();
      drawRows();
      drawBulk();
    } else if (ev.key === "Escape") {
      selection.clear();
      if (rows[row]) selection.add(rows[row].obj.id);
      dropRows();
      drawRows();
      drawBulk();
    } else handled = false;
    if (handled) ev.preventDefault();
  });

  function toggle(id: string | undefined, collapse: boolean): void {
    const r = rows.find((x) => x.obj.id === id);
    if (!r || !r.hasChildren) return;
    if (collapse) collapsed.add(r.obj.id);
    else collapsed.delete(r.obj.id);
    const activeId = rows[active.row]?.obj.id;
    refresh();
    const i = rows.findIndex((x) => x.obj.id === activeId);
    if (i >= 0) active.row = i;
    markActive();
  }

  // ---- mouse and drag and drop --------------------------------------------------------------
  body.addEventListener("click", (ev) => {
    const target = ev.target as HTMLElement;
    const tog = target.closest<HTMLElement>("[data-toggle]");
    if (tog) {
      const id = tog.dataset.toggle as string;
      toggle(id, !collapsed.has(id));
      scroller.focus();
      return;
    }
    if (target.closest(".cell-editor") || target.closest("a")) return;
    const rowEl = target.closest<HTMLElement>(".mgrid-row");
    const cellEl = target.closest<HTMLElement>(".cell");
    if (!rowEl || !cellEl) return;
    const me = ev as MouseEvent;
    if (editing) stopEdit(false);
    setActive(Number(rowEl.dataset.index), Number(cellEl.dataset.col), { extend: me.shiftKey, toggle: me.ctrlKey || me.metaKey });
    scroller.focus();
  });
  body.addEventListener("dblclick", (ev) => {
    if ((ev.target as HTMLElement).closest(".cell-editor")) return;
    startEdit();
  });
  let dragging: string | null = null;
  body.addEventListener("dragstart", (ev) => {
    const rowEl = (ev.target as HTMLElement).closest<HTMLElement>(".mgrid-row");
    if (!rowEl || editing) return;
    dragging = rowEl.dataset.id ?? null;
    ev.dataTransfer?.setData("text/plain", dragging ?? "");
    if (ev.dataTransfer) ev.dataTransfer.effectAllowed = "move";
  });
  const zoneOf = (ev: DragEvent, rowEl: HTMLElement): "before" | "after" | "child" => {
    const rect = rowEl.getBoundingClientRect();
    const y = (ev.clientY - rect.top) / Math.max(rect.height, 1);
    return y < 0.25 ? "before" : y > 0.75 ? "after" : "child";
  };
  body.addEventListener("dragover", (ev) => {
    const rowEl = (ev.target as HTMLElement).closest<HTMLElement>(".mgrid-row");
    if (!dragging || !rowEl) return;
    ev.preventDefault();
    body.querySelectorAll(".drop-before,.drop-after,.drop-child").forEach((el) => el.classList.remove("drop-before", "drop-after", "drop-child"));
    rowEl.classList.add(`drop-${zoneOf(ev, rowEl)}`);
  });
  body.addEventListener("dragend", () => {
    dragging = null;
    body.querySelectorAll(".drop-before,.drop-after,.drop-child").forEach((el) => el.classList.remove("drop-before", "drop-after", "drop-child"));
  });
  body.addEventListener("drop", (ev) => {
    const rowEl = (ev.target as HTMLElement).closest<HTMLElement>(".mgrid-row");
    const id = dragging;
    dragging = null;
    if (!rowEl || !id) return;
    ev.preventDefault();
    const moving = data.objects.find((o) => o.id === id);
    const target = data.objects.find((o) => o.id === rowEl.dataset.id);
    if (!moving || !target || subtreeIds(data.objects, id).has(target.id)) return;
    const to = dropTarget(data.objects, moving, target, zoneOf(ev, rowEl));
    void (async () => {
      try {
        await ctx.api.moveObjectTo(m, id, to.parent_id, to.position, moving.current_version);
        await reloadAll();
        const i = rows.findIndex((x) => x.obj.id === id);
        if (i >= 0) setActive(i, active.col);
      } catch (err) {
        errorToast(err, "Move");
      }
    })();
  });

  // ---- toolbar: views, columns, filter, bulk --------------------------------------------------
  const viewSel = h("select", { "aria-label": "Saved view" });
  function drawViewSelect(): void {
    viewSel.replaceChildren(
      h("option", { value: "" }, "Standard view"),
      ...savedViews.map((v) => h("option", { value: v.id, selected: v.id === currentView?.id }, `${v.name}${v.is_default ? " (default)" : ""}`)),
    );
    viewSel.value = currentView?.id ?? "";
    saveBtn.disabled = !currentView || !dirty;
  }
  viewSel.addEventListener("change", () => {
    currentView = savedViews.find((v) => v.id === viewSel.value) ?? null;
    config = currentView ? configFromView(currentView) : structuredClone(EMPTY_CONFIG);
    dirty = false;
    applyConfig();
    history.replaceState(null, "", hrefOf({ name: "module", ws, p, m, object: selectedPanel ?? undefined, view: currentView?.id }));
  });
  const saveBtn = button("Save view", async () => {
    if (!currentView) return;
    const saved = await busy(saveBtn, () => ctx.api.updateView(m, (currentView as ModuleView).id, viewPayload()), "Save view");
    if (saved) {
      Object.assign(currentView, saved);
      dirty = false;
      drawViewSelect();
      toast(`View “${saved.name}” saved`, "success");
    }
  }, { class: "small" });
  const newName = h("input", { type: "text", "aria-label": "New view name", placeholder: "New view name", maxlength: 200, class: "small-input" });
  const asDefault = h("input", { type: "checkbox", "aria-label": "Default view of the module" });
  const saveAsBtn = button("Save as view", async () => {
    const name = newName.value.trim();
    if (!name) {
      newName.focus();
      toast("Give the view a name", "info");
      return;
    }
    const created = await busy(saveAsBtn, () => ctx.api.createView(m, { name, is_default: asDefault.checked, ...viewPayload() }), "Save view");
    if (created) {
      if (created.is_default) savedViews.forEach((v) => (v.is_default = false));
      savedViews.push(created);
      currentView = created;
      dirty = false;
      newName.value = "";
      drawViewSelect();
      history.replaceState(null, "", hrefOf({ name: "module", ws, p, m, object: selectedPanel ?? undefined, view: created.id }));
      toast(`View “${created.name}” saved`, "success");
    }
  }, { class: "small" });

  function viewPayload(): { column_config: unknown; filter_config: unknown; sort_config: unknown } {
    return { column_config: columnSettings(cols), filter_config: config.filter, sort_config: config.sort };
  }

  function changed(): void {
    dirty = true;
    config.columns = columnSettings(cols);
    saveBtn.disabled = !currentView;
  }

  const chooser = h("div", { class: "col-chooser" });
  function drawChooser(): void {
    chooser.replaceChildren(
      h("ul", { class: "plain" },
        cols.map((c, i) => {
          const box = h("input", { type: "checkbox", checked: !c.hidden, disabled: c.kind === "main" || null, "aria-label": `Show ${c.label}` });
          box.addEventListener("change", () => {
            c.hidden = !box.checked;
            changed();
            setColumns();
            refresh();
          });
          const up = button("↑", () => i > 0 && moveColumn(c.key, cols[i - 1].key), { class: "small", "aria-label": `Move ${c.label} left`, disabled: i === 0 || null });
          const width = h("input", { type: "number", min: MIN_WIDTH, step: 10, value: c.width, class: "small-input", "aria-label": `Width of ${c.label}` });
          width.addEventListener("change", () => {
            c.width = Math.max(MIN_WIDTH, Number(width.value) || c.width);
            changed();
            setColumns();
            refresh();
          });
          return h("li", null, h("label", null, box, ` ${c.label}`), up, width);
        }),
      ),
    );
  }

  const filterText = h("input", { type: "search", "aria-label": "Filter rows", placeholder: "Filter rows", value: config.filter.text ?? "" });
  let filterTimer: ReturnType<typeof setTimeout> | undefined;
  filterText.addEventListener("input", () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => {
      config.filter = { ...config.filter, text: filterText.value || undefined };
      changed();
      refresh(false);
    }, 200);
  });
  const attrFilters = h("span", { class: "attr-filters" });
  function drawAttrFilters(): void {
    attrFilters.replaceChildren(
      ...defs
        .filter((d) => ["enum", "bool", "boolean", "string", "user_ref", "integer"].includes(d.data_type))
        .map((d) => {
          const sel = h("select", { "aria-label": `Filter by ${d.name}` },
            h("option", { value: "" }, `${d.name}: any`),
            h("option", { value: "(empty)", selected: config.filter.attrs?.[d.name] === "(empty)" }, `${d.name}: (empty)`),
            filterChoices(d, data.objects).map((v) =>
              h("option", { value: v, selected: config.filter.attrs?.[d.name] === v }, `${d.name}: ${d.data_type === "user_ref" ? users.get(v) ?? v : v}`)));
          sel.addEventListener("change", () => {
            const attrs = { ...(config.filter.attrs ?? {}) };
            if (sel.value) attrs[d.name] = sel.value;
            else delete attrs[d.name];
            config.filter = { ...config.filter, attrs };
            changed();
            refresh(false);
          });
          return sel;
        }),
    );
  }

  const bulk = h("div", { class: "bulk", role: "group", "aria-label": "Bulk edit", hidden: true });
  function drawBulk(): void {
    const n = selection.size;
    bulk.hidden = !(canEdit && n > 1 && defs.length > 0);
    if (bulk.hidden) return;
    if (bulk.dataset.count === String(n) && bulk.childElementCount) return;
    bulk.dataset.count = String(n);
    const which = h("select", { "aria-label": "Attribute to set" }, defs.map((d) => h("option", { value: d.name }, d.name)));
    const slot = h("span");
    let value: () => AttrValue = () => null;
    const pick = (): void => {
      const def = defs.find((d) => d.name === which.value) as AttributeDefinition;
      const ed = attrEditor(def, null);
      value = ed.value;
      slot.replaceChildren(ed.control);
    };
    which.addEventListener("change", pick);
    pick();
    const apply = button(`Set for ${n} objects`, async () => {
      let v: AttrValue;
      try {
        v = value();
      } catch (err) {
        errorToast(err);
        return;
      }
      const ids = [...selection];
      const name = which.value;
      let failed = 0;
      await busy(apply, async () => {
        for (const id of ids) {
          const o = data.objects.find((x) => x.id === id);
          if (!o) continue;
          try {
            replaceObject(await ctx.api.updateObject(m, id, { attributes: mergeAttributes(o.attributes, { [name]: v }), expected_version: o.current_version } as never));
          } catch (err) {
            failed++;
            errorToast(err, `Set ${name} on ${o.level}`);
          }
        }
      });
      toast(`${name} set on ${ids.length - failed} of ${ids.length} objects`, failed ? "error" : "success");
    }, { class: "small primary" });
    bulk.replaceChildren(h("strong", null, `${n} selected:`), " set ", which, " to ", slot, apply);
  }

  function applyConfig(): void {
    cols = columnsFor(defs, config.columns);
    filterText.value = config.filter.text ?? "";
    setColumns();
    drawChooser();
    drawAttrFilters();
    drawViewSelect();
    refresh(false);
  }

  // ---- live updates from other users (server-sent events) -------------------------------------
  let liveTimer: ReturnType<typeof setTimeout> | undefined;
  const liveBadge = h("span", { class: "live-state", dataset: { live: "off" } }, "○ connecting to live updates…");
  const setLive = (on: boolean): void => {
    liveBadge.dataset.live = on ? "on" : "off";
    liveBadge.textContent = on ? "● live" : "○ reconnecting…";
    liveBadge.title = on ? "Changes by others appear as they are saved" : "Live updates are reconnecting; the grid catches up when they are back";
  };
  const live = connectLive(ctx.api, m, (ev: LiveEvent) => {
    if (ev.kind === "resync") {
      void reloadAll();
      return;
    }
    if (ev.kind !== "change") return;
    // our own writes come back too: nothing to do when every row named is already that new here
    const known = new Map(data.objects.map((o) => [o.id, o.current_version]));
    if (ev.items && ev.items.every(([id, v]) => (known.get(id) ?? -1) >= v)) return;
    // coalesce bursts (an import, a move renumbering siblings) into one reload; an open editor
    // keeps its row and its base version, so a concurrent change still ends in the conflict flow
    clearTimeout(liveTimer);
    liveTimer = setTimeout(() => void reloadAll(), 150);
  }, setLive);
  onLeave(() => live.close());

  // ---- assemble -----------------------------------------------------------------------------
  const exports = h("span", { class: "group", role: "group", "aria-label": "Export and publish" },
    h("span", { class: "muted" }, "Export:"),
    button("ReqIF", (ev) => void download(ctx.api, ev.currentTarget as HTMLElement, `/modules/${m}/reqif/export`, { format: "reqif" }, `${m}.reqif`), { class: "small" }),
    button("CSV", (ev) => void download(ctx.api, ev.currentTarget as HTMLElement, `/modules/${m}/publish`, { format: "csv" }, "objects.csv"), { class: "small" }),
    button("HTML", (ev) => void openInTab(ctx.api, ev.currentTarget as HTMLElement, `/modules/${m}/publish`, { format: "html" }), { class: "small" }),
  );
  replace(
    root,
    crumbs(link({ name: "workspaces" }, "Workspaces"), link({ name: "workspace", ws }, workspace.name), link({ name: "project", ws, p }, project.name), module.name),
    h("div", { class: "module-head" },
      h("h1", null, module.name, module.prefix ? h("span", { class: "tag" }, module.prefix) : null),
      h("nav", { class: "module-tools", "aria-label": "Module" },
        h("span", { class: "group", role: "group", "aria-label": "Screen" },
          h("strong", { "aria-current": "page" }, "Grid"),
          link({ name: "module", ws, p, m, mode: "document" }, "Document"),
        ),
        link({ name: "baselines", ws, p, m }, "Baselines"),
        link({ name: "traceability", ws, p, m }, "Traceability"),
        link({ name: "validate", ws, p, m }, "Validate"),
        link({ name: "reviews", ws, p, m }, "Reviews"),
        link({ name: "proposals", ws, p, m }, "Proposals"),
        link({ name: "objectTypes", ws, p, m }, "Object types"),
        hasRole(ctx, "admin") ? link({ name: "webhooks", ws, p, m }, "Webhooks") : null,
        exports,
        savedViews.length ? h("span", { class: "group view-links", role: "group", "aria-label": "Saved views" }, h("span", { class: "muted" }, "Views:"), savedViews.map((v) => link({ name: "module", ws, p, m, view: v.id }, v.name))) : null,
      ),
    ),
    module.description ? h("p", { class: "lead" }, module.description) : null,
    h("div", { class: "grid-toolbar", role: "toolbar", "aria-label": "Grid" },
      h("label", { class: "inline" }, "View ", viewSel),
      saveBtn,
      canEdit ? h("span", { class: "group" }, newName, h("label", { class: "inline" }, asDefault, " default"), saveAsBtn) : null,
      h("details", { class: "columns" }, h("summary", null, "Columns"), chooser),
      filterText,
      attrFilters,
      button("Expand all", () => {
        collapsed.clear();
        refresh();
      }, { class: "small" }),
      button("Collapse all", () => {
        data.objects.forEach((o) => o.parent_id && collapsed.add(o.parent_id));
        refresh(false);
      }, { class: "small" }),
      h("details", { class: "keys" }, h("summary", null, "Keys"), keyList()),
    ),
    bulk,
    notice,
    h("div", { class: "grid-statusbar" }, status, liveBadge),
    layout,
  );
  applyConfig();
  virtualizer._didMount();
  virtualizer._willUpdate();
  refresh(false);
  onLeave(() => virtualizer.setOptions({ ...virtualizer.options, count: 0 }));
  const selectRequested = (): boolean => {
    const i = opts.object ? rows.findIndex((r) => r.obj.id === opts.object) : -1;
    if (i >= 0) setActive(i, shown.findIndex((c) => c.kind === "main"));
    return i >= 0;
  };
  if (!selectRequested()) {
    active = { row: 0, col: Math.max(0, shown.findIndex((c) => c.kind === "main")) };
    markActive();
  }
  if (loadingRest) {
    // the rest of a large module: merged in when it arrives (a live reload may have come first)
    const all = await everything;
    if (loadingRest && document.body.contains(scroller)) {
      loadingRest = false;
      const activeId = rows[active.row]?.obj.id;
      data.objects = all;
      refresh();
      drawAttrFilters();
      const i = activeId ? rows.findIndex((r) => r.obj.id === activeId) : -1;
      if (i >= 0) active.row = i;
      markActive();
      if (opts.object && activeId !== opts.object) selectRequested();
    }
  }
}

function keyList(): HTMLElement {
  const pairs: [string, string][] = [
    ["Arrows, Home/End, PgUp/PgDn", "move"],
    ["Enter / F2", "edit the cell (Enter or Ctrl+Enter saves, Esc cancels, Tab saves and moves)"],
    ["Ctrl+Enter / Insert", "new object after"],
    ["Ctrl+Shift+Enter / Shift+Insert", "new child"],
    ["Alt+Shift+→ / ←", "indent / outdent"],
    ["Alt+Shift+↑ / ↓", "move up / down"],
    ["Ctrl+→ / ←", "expand / collapse"],
    ["Shift+↑/↓, Space, Ctrl+A", "select rows (bulk edit)"],
    ["Delete, Ctrl+Z", "delete, undo"],
  ];
  return h("dl", { class: "keys-list" }, pairs.map(([k, v]) => [h("dt", null, k), h("dd", null, v)]));
}
