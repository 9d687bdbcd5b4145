// The module grid's model, kept pure so it is unit-tested without a DOM: which columns exist and in
// which order and width (a saved view's column_config), which rows are visible (outline order with
// collapsed subtrees, or filtered/sorted), and how a cell reads as text.

import type { AttributeDefinition, AttrValue, Link, ReqObject } from "../api/types";
import { compareLevels, depthOf, needsReview } from "./tree";

export type ColumnKind = "id" | "level" | "main" | "attr" | "indicators";

export interface Column {
  key: string;
  kind: ColumnKind;
  label: string;
  width: number;
  hidden: boolean;
  def?: AttributeDefinition;
}

/** A saved view's configs as this UI writes them (the API stores them as opaque JSON). */
export interface ColumnSetting {
  key: string;
  width?: number;
  hidden?: boolean;
}
export interface SortSetting {
  key: string;
  dir: "asc" | "desc";
}
export interface FilterSetting {
  text?: string;
  attrs?: Record<string, string>;
}
export interface GridConfig {
  columns: ColumnSetting[];
  sort: SortSetting[];
  filter: FilterSetting;
}

export const EMPTY_CONFIG: GridConfig = { columns: [], sort: [], filter: {} };
export const MIN_WIDTH = 48;

const BASE: Omit<Column, "hidden">[] = [
  { key: "id", kind: "id", label: "ID", width: 96 },
  { key: "main", kind: "main", label: "Requirement", width: 480 },
  { key: "indicators", kind: "indicators", label: "Indicators", width: 120 },
];

export const attrKey = (name: string): string => `attr:${name}`;

/** Every column (base columns, then one per attribute definition), ordered and sized by the config. */
export function columnsFor(defs: AttributeDefinition[], settings: ColumnSetting[]): Column[] {
  const all: Column[] = [
    ...BASE.map((c) => ({ ...c, hidden: false })),
    ...defs.map((d) => ({ key: attrKey(d.name), kind: "attr" as const, label: d.name, width: 140, hidden: false, def: d })),
  ];
  const byKey = new Map(all.map((c) => [c.key, c]));
  const ordered: Column[] = [];
  for (const s of settings) {
    const col = byKey.get(s.key);
    if (!col) continue; // a column of a deleted attribute definition
    byKey.delete(s.key);
    ordered.push({ ...col, width: Math.max(MIN_WIDTH, s.width ?? col.width), hidden: Boolean(s.hidden) && col.key !== "main" });
  }
  return [...ordered, ...byKey.values()];
}

export function columnSettings(cols: Column[]): ColumnSetting[] {
  return cols.map((c) => ({ key: c.key, width: c.width, ...(c.hidden ? { hidden: true } : {}) }));
}

/** Read a stored view leniently: the API accepts any JSON, so anything unexpected is dropped. */
export function configFromView(view: { column_config: unknown; filter_config: unknown; sort_config: unknown }): GridConfig {
  const columns = Array.isArray(view.column_config)
    ? view.column_config.filter((c): c is ColumnSetting => typeof c === "object" && c !== null && typeof (c as ColumnSetting).key === "string")
    : [];
  const sort = Array.isArray(view.sort_config)
    ? view.sort_config.filter((s): s is SortSetting => typeof s === "object" && s !== null && typeof s.key === "string" && (s.dir === "asc" || s.dir === "desc"))
    : [];
  const f = (typeof view.filter_config === "object" && view.filter_config !== null ? view.filter_config : {}) as Record<string, unknown>;
  const attrs: Record<string, string> = {};
  if (typeof f.attrs === "object" && f.attrs !== null) {
    for (const [k, v] of Object.entries(f.attrs)) if (typeof v === "string" && v !== "") attrs[k] = v;
  }
  return { columns, sort, filter: { text: typeof f.text === "string" ? f.text : undefined, attrs } };
}

export interface Row {
  obj: ReqObject;
  depth: number;
  hasChildren: boolean;
  collapsed: boolean;
}

function attrText(value: AttrValue | undefined): string {
  if (value === undefined || value === null) return "";
  if (Array.isArray(value)) return value.join(", ");
  if (typeof value === "boolean") return value ? "yes" : "no";
  return String(value);
}

/** Plain text of a body (tags dropped) for filtering and sorting; the grid renders the sanitized HTML. */
export function bodyText(body: string | null): string {
  return (body ?? "").replace(/<[^>]*>/g, " ").replace(/&nbsp;/g, " ").replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/\s+/g, " ").trim();
}

export function matches(obj: ReqObject, filter: FilterSetting): boolean {
  const text = filter.text?.trim().toLowerCase();
  if (text && !`${obj.level} ${obj.heading ?? ""} ${bodyText(obj.body)}`.toLowerCase().includes(text)) return false;
  for (const [name, wanted] of Object.entries(filter.attrs ?? {})) {
    const value = obj.attributes?.[name];
    if (wanted === "(empty)") {
      if (!(value === undefined || value === null || (Array.isArray(value) && value.length === 0))) return false;
    } else if (Array.isArray(value)) {
      if (!value.map(String).includes(wanted)) return false;
    } else if (attrText(value) !== wanted) {
      return false;
    }
  }
  return true;
}

export function isFiltering(filter: FilterSetting): boolean {
  return Boolean(filter.text?.trim()) || Object.keys(filter.attrs ?? {}).length > 0;
}

function sortValue(obj: ReqObject, key: string): string | number {
  if (key === "id") return obj.id;
  if (key === "main") return (obj.heading || bodyText(obj.body)).toLowerCase();
  if (key.startsWith("attr:")) {
    const v = obj.attributes?.[key.slice(5)];
    return typeof v === "number" ? v : attrText(v).toLowerCase();
  }
  return 0;
}

/**
 * Visible rows. Without sort or filter: outline (document) order, descendants of collapsed rows
 * hidden. A filter keeps matching rows (at their depth); a sort orders them flat, document order
 * breaking ties.
 */
export function visibleRows(objects: ReqObject[], collapsed: ReadonlySet<string>, config: GridConfig): Row[] {
  const live = objects.filter((o) => !o.deleted_at);
  const parents = new Set<string>();
  for (const o of live) if (o.parent_id) parents.add(o.parent_id);
  const rows: Row[] = [];
  const filtering = isFiltering(config.filter);
  const sorting = config.sort.length > 0;
  if (!filtering && !sorting) {
    let hideBelow = Infinity; // depth under which rows are hidden (inside a collapsed subtree)
    for (const o of live) {
      const depth = depthOf(o.level);
      if (depth > hideBelow) continue;
      hideBelow = Infinity;
      const isCollapsed = collapsed.has(o.id) && parents.has(o.id);
      rows.push({ obj: o, depth, hasChildren: parents.has(o.id), collapsed: isCollapsed });
      if (isCollapsed) hideBelow = depth;
    }
    return rows;
  }
  for (const o of live) {
    if (matches(o, config.filter)) rows.push({ obj: o, depth: depthOf(o.level), hasChildren: parents.has(o.id), collapsed: false });
  }
  if (sorting) {
    rows.sort((a, b) => {
      for (const s of config.sort) {
        const x = sortValue(a.obj, s.key);
        const y = sortValue(b.obj, s.key);
        if (x !== y) return (x < y ? -1 : 1) * (s.dir === "desc" ? -1 : 1);
      }
      return compareLevels(a.obj.level, b.obj.level);
    });
  }
  return rows;
}

export interface Indicators {
  out: number;
  in: number;
  suspect: boolean;
}

/** Link counts and suspect state per object, from the module's links. */
export function indicatorsOf(links: Link[]): Map<string, Indicators> {
  const out = new Map<string, Indicators>();
  const get = (id: string): Indicators => {
    let v = out.get(id);
    if (!v) out.set(id, (v = { out: 0, in: 0, suspect: false }));
    return v;
  };
  for (const l of links) {
    const s = get(l.source_object_id);
    const t = get(l.target_object_id);
    s.out++;
    t.in++;
    if (l.suspect) s.suspect = t.suspect = true;
  }
  return out;
}

/** A cell as plain text (copying, tests, the accessible name of non-main cells). */
export function cellText(obj: ReqObject, col: Column, users: Map<string, string>): string {
  switch (col.kind) {
    case "id":
      return obj.id.slice(-8);
    case "level":
      return obj.level;
    case "main":
      return [obj.heading ?? "", bodyText(obj.body)].filter(Boolean).join(" — ");
    case "indicators":
      return needsReview(obj) ? "needs review" : "reviewed";
    case "attr": {
      const v = obj.attributes?.[col.def?.name ?? ""];
      if (col.def?.data_type === "user_ref" && typeof v === "string") return users.get(v) ?? v;
      return attrText(v);
    }
  }
}

/** Distinct values of an attribute for a filter's choices: the enum's values, else those present. */
export function filterChoices(def: AttributeDefinition, objects: ReqObject[]): string[] {
  if (Array.isArray(def.enum_values) && def.enum_values.length) return [...def.enum_values];
  if (def.data_type === "bool" || def.data_type === "boolean") return ["yes", "no"];
  const seen = new Set<string>();
  for (const o of objects) {
    const v = o.attributes?.[def.name];
    if (Array.isArray(v)) v.forEach((x) => seen.add(String(x)));
    else if (v !== undefined && v !== null) seen.add(attrText(v));
    if (seen.size > 50) break;
  }
  return [...seen].sort();
}

/** Where a structural move puts an object, from the visible row it was dropped on. */
export function dropTarget(
  objects: ReqObject[],
  moving: ReqObject,
  target: ReqObject,
  where: "before" | "after" | "child",
): { parent_id: string | null; position: number } {
  const parent = where === "child" ? target.id : target.parent_id;
  // the index among the siblings once the moving object has left them
  const sibs = objects
    .filter((o) => o.parent_id === parent && !o.deleted_at && o.id !== moving.id)
    .sort((a, b) => a.position - b.position || (a.id < b.id ? -1 : 1));
  if (where === "child") return { parent_id: parent, position: sibs.length };
  const idx = sibs.findIndex((o) => o.id === target.id);
  return { parent_id: parent, position: where === "before" ? idx : idx + 1 };
}

/** The subtree of an object (itself and every descendant), for drag-and-drop refusal. */
export function subtreeIds(objects: ReqObject[], id: string): Set<string> {
  const ids = new Set([id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const o of objects) {
      if (o.parent_id && ids.has(o.parent_id) && !ids.has(o.id)) {
        ids.add(o.id);
        grew = true;
      }
    }
  }
  return ids;
}
