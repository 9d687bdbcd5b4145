import { describe, expect, it } from "vitest";
import type { AttributeDefinition, Link, ReqObject } from "../api/types";
import { columnSettings, columnsFor, configFromView, dropTarget, EMPTY_CONFIG, indicatorsOf, subtreeIds, visibleRows } from "./grid";

function obj(id: string, level: string, parent: string | null, position: number, extra: Partial<ReqObject> = {}): ReqObject {
  return {
    id, module_id: "m", parent_id: parent, position, level, heading: `H ${level}`, body: null, attributes: null,
    current_version: 1, classification: "normative", content_fingerprint: "f", reviewed_fingerprint: "f",
    reviewed_at: null, reviewed_by: null, deleted_at: null, created_at: "", updated_at: "", ...extra,
  };
}
const def = (name: string, data_type: AttributeDefinition["data_type"], enum_values: string[] | null = null): AttributeDefinition =>
  ({ id: name, module_id: "m", name, data_type, default_value: null, enum_values, multi_select: false, created_at: "" });

// 1, 1.1, 1.1.1, 1.2, 2
const tree = [
  obj("a", "1", null, 0, { attributes: { prio: "high" } }),
  obj("b", "1.1", "a", 0, { attributes: { prio: "low" } }),
  obj("c", "1.1.1", "b", 0),
  obj("d", "1.2", "a", 1, { attributes: { prio: "high" } }),
  obj("e", "2", null, 1, { heading: "Zeta", attributes: { prio: "medium" } }),
];

describe("visibleRows", () => {
  it("keeps outline order with depths and child markers", () => {
    const rows = visibleRows(tree, new Set(), EMPTY_CONFIG);
    expect(rows.map((r) => [r.obj.id, r.depth, r.hasChildren])).toEqual([
      ["a", 1, true], ["b", 2, true], ["c", 3, false], ["d", 2, false], ["e", 1, false],
    ]);
  });
  it("hides the subtree of a collapsed row, and only it", () => {
    expect(visibleRows(tree, new Set(["b"]), EMPTY_CONFIG).map((r) => r.obj.id)).toEqual(["a", "b", "d", "e"]);
    expect(visibleRows(tree, new Set(["a"]), EMPTY_CONFIG).map((r) => r.obj.id)).toEqual(["a", "e"]);
    expect(visibleRows(tree, new Set(["c"]), EMPTY_CONFIG).map((r) => r.collapsed)).toEqual([false, false, false, false, false]);
  });
  it("filters by text and attribute, sorts with document order breaking ties", () => {
    const byAttr = { ...EMPTY_CONFIG, filter: { attrs: { prio: "high" } } };
    expect(visibleRows(tree, new Set(["a"]), byAttr).map((r) => r.obj.id)).toEqual(["a", "d"]);
    expect(visibleRows(tree, new Set(), { ...EMPTY_CONFIG, filter: { text: "zeta" } }).map((r) => r.obj.id)).toEqual(["e"]);
    expect(visibleRows(tree, new Set(), { ...EMPTY_CONFIG, filter: { attrs: { prio: "(empty)" } } }).map((r) => r.obj.id)).toEqual(["c"]);
    const sorted = visibleRows(tree, new Set(), { ...EMPTY_CONFIG, sort: [{ key: "attr:prio", dir: "asc" }] });
    expect(sorted.map((r) => r.obj.id)).toEqual(["c", "a", "d", "b", "e"]);
  });
});

describe("columns and views", () => {
  it("orders, sizes and hides columns by the saved settings; new definitions are appended", () => {
    const cols = columnsFor([def("prio", "enum", ["low", "high"]), def("due", "date")], [
      { key: "attr:due", width: 90 }, { key: "main", hidden: true }, { key: "id", hidden: true }, { key: "attr:gone" },
    ]);
    expect(cols.map((c) => c.key)).toEqual(["attr:due", "main", "id", "indicators", "attr:prio"]);
    expect(cols.find((c) => c.key === "main")?.hidden).toBe(false); // the main column cannot be hidden
    expect(cols.find((c) => c.key === "id")?.hidden).toBe(true);
    expect(columnSettings(cols)[0]).toEqual({ key: "attr:due", width: 90 });
  });
  it("reads stored configs leniently", () => {
    const cfg = configFromView({ column_config: [{ key: "id" }, 3, null], filter_config: { text: "x", attrs: { a: "1", b: 2 } }, sort_config: [{ key: "main", dir: "up" }, { key: "id", dir: "desc" }] });
    expect(cfg).toEqual({ columns: [{ key: "id" }], filter: { text: "x", attrs: { a: "1" } }, sort: [{ key: "id", dir: "desc" }] });
    expect(configFromView({ column_config: {}, filter_config: null, sort_config: "x" })).toEqual({ columns: [], filter: { text: undefined, attrs: {} }, sort: [] });
  });
});

describe("structure helpers", () => {
  it("counts links per end and marks both ends of a suspect link", () => {
    const links = [{ source_object_id: "a", target_object_id: "b", suspect: true }, { source_object_id: "a", target_object_id: "e", suspect: false }] as Link[];
    const ind = indicatorsOf(links);
    expect(ind.get("a")).toEqual({ out: 2, in: 0, suspect: true });
    expect(ind.get("b")).toEqual({ out: 0, in: 1, suspect: true });
    expect(ind.get("e")?.suspect).toBe(false);
  });
  it("computes drop targets as the API's move_to index", () => {
    expect(dropTarget(tree, tree[4], tree[1], "before")).toEqual({ parent_id: "a", position: 0 });
    expect(dropTarget(tree, tree[4], tree[1], "after")).toEqual({ parent_id: "a", position: 1 });
    expect(dropTarget(tree, tree[4], tree[1], "child")).toEqual({ parent_id: "b", position: 1 });
    // moving the first sibling after the second: the index is counted without the moving object
    expect(dropTarget(tree, tree[1], tree[3], "after")).toEqual({ parent_id: "a", position: 1 });
  });
  it("finds a subtree", () => {
    expect([...subtreeIds(tree, "a")].sort()).toEqual(["a", "b", "c", "d"]);
  });
});
