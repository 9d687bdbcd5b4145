// Attribute-level history: the server stores a full snapshot per version; the UI
// answers "what changed in this version" by comparing consecutive snapshots.

import type { AttrValue, ObjectHistory } from "../api/types";

export interface FieldChange {
  field: string; // "heading", "body" or "attributes.<name>"
  before: AttrValue | undefined;
  after: AttrValue | undefined;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** Field-level changes from `prev` to `cur` (prev undefined = the first version). */
export function changesBetween(prev: ObjectHistory | undefined, cur: ObjectHistory): FieldChange[] {
  const out: FieldChange[] = [];
  if (!same(prev?.heading, cur.heading)) out.push({ field: "heading", before: prev?.heading ?? undefined, after: cur.heading });
  if (!same(prev?.body, cur.body)) out.push({ field: "body", before: prev?.body ?? undefined, after: cur.body });
  const a = prev?.attribute_values ?? {};
  const b = cur.attribute_values ?? {};
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const name of names) {
    if (!same(a[name], b[name])) out.push({ field: `attributes.${name}`, before: a[name], after: b[name] });
  }
  return out;
}

/** History rows (any order) paired with their changes, newest first. */
export function historyWithChanges(rows: ObjectHistory[]): { row: ObjectHistory; changes: FieldChange[] }[] {
  const asc = [...rows].sort((x, y) => x.version - y.version);
  const out = asc.map((row, i) => ({ row, changes: changesBetween(i > 0 ? asc[i - 1] : undefined, row) }));
  return out.reverse();
}

/** Human-readable short form of an attribute value. */
export function formatValue(v: AttrValue | undefined): string {
  if (v === undefined || v === null) return "—";
  if (Array.isArray(v)) return v.join(", ");
  if (typeof v === "boolean") return v ? "yes" : "no";
  return String(v);
}
