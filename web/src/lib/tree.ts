// Document structure helpers: the server sends objects in document order with a
// derived `level` ("2.3.1"); the UI needs depth, siblings and heading tags from it.

import type { ReqObject } from "../api/types";

/** Depth of a level string: "1" → 1, "2.3.1" → 3. */
export function depthOf(level: string | null | undefined): number {
  if (!level) return 1;
  return level.split(".").filter(Boolean).length || 1;
}

/** Heading tag for an object at a depth in the document (h2 for top level, capped at h6). */
export function headingTag(depth: number): "h2" | "h3" | "h4" | "h5" | "h6" {
  const n = Math.min(Math.max(depth + 1, 2), 6);
  return `h${n}` as "h2" | "h3" | "h4" | "h5" | "h6";
}

/** Compare two level strings numerically per segment (document order). */
export function compareLevels(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? -1;
    const y = pb[i] ?? -1;
    if (x !== y) return x - y;
  }
  return 0;
}

/** Objects in document order (the server already sends them so; this makes it certain). */
export function documentOrder(objects: ReqObject[]): ReqObject[] {
  return [...objects].sort((a, b) => compareLevels(a.level, b.level) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Live siblings of an object (same parent), in position order. */
export function siblingsOf(objects: ReqObject[], obj: ReqObject): ReqObject[] {
  return objects
    .filter((o) => o.parent_id === obj.parent_id && !o.deleted_at)
    .sort((a, b) => a.position - b.position || (a.id < b.id ? -1 : 1));
}

/** Which structural moves are possible for an object, so buttons can be disabled up front. */
export function possibleMoves(objects: ReqObject[], obj: ReqObject): { up: boolean; down: boolean; indent: boolean; dedent: boolean } {
  const sibs = siblingsOf(objects, obj);
  const idx = sibs.findIndex((o) => o.id === obj.id);
  return {
    up: idx > 0,
    down: idx >= 0 && idx < sibs.length - 1,
    indent: idx > 0,
    dedent: obj.parent_id !== null,
  };
}

/** True when the object's content changed since it was last reviewed. */
export function needsReview(obj: ReqObject): boolean {
  return obj.reviewed_fingerprint !== obj.content_fingerprint;
}
