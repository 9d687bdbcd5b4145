import { describe, expect, it } from "vitest";
import type { AttributeDefinition, ObjectHistory, ReqObject } from "../api/types";
import { attrToInput, AttrInputError, coerceAttr, mergeAttributes } from "./attrs";
import { changesBetween, formatValue, historyWithChanges } from "./history";
import { compareLevels, depthOf, documentOrder, headingTag, needsReview, possibleMoves } from "./tree";

function obj(id: string, level: string, parent: string | null, position: number, extra: Partial<ReqObject> = {}): ReqObject {
  return {
    id, module_id: "m", parent_id: parent, position, level, heading: id, body: null, attributes: {}, current_version: 1,
    classification: "normative", content_fingerprint: "f", reviewed_fingerprint: null, reviewed_at: null, reviewed_by: null,
    deleted_at: null, created_at: "", updated_at: "", ...extra,
  };
}

function def(name: string, data_type: AttributeDefinition["data_type"], extra: Partial<AttributeDefinition> = {}): AttributeDefinition {
  return { id: name, module_id: "m", name, data_type, default_value: null, enum_values: null, multi_select: false, created_at: "", ...extra };
}

describe("tree", () => {
  it("derives depth and heading tags from levels", () => {
    expect(depthOf("1")).toBe(1);
    expect(depthOf("2.3.1")).toBe(3);
    expect(headingTag(1)).toBe("h2");
    expect(headingTag(9)).toBe("h6");
  });

  it("orders levels numerically per segment", () => {
    expect(compareLevels("1.10", "1.2")).toBeGreaterThan(0);
    expect(compareLevels("1", "1.1")).toBeLessThan(0);
    const sorted = documentOrder([obj("c", "1.10", "a", 9), obj("b", "1.2", "a", 1), obj("a", "1", null, 0)]);
    expect(sorted.map((o) => o.id)).toEqual(["a", "b", "c"]);
  });

  it("knows which moves are possible", () => {
    const all = [obj("a", "1", null, 0), obj("a1", "1.1", "a", 0), obj("b", "2", null, 1)];
    expect(possibleMoves(all, all[0])).toEqual({ up: false, down: true, indent: false, dedent: false });
    expect(possibleMoves(all, all[2])).toEqual({ up: true, down: false, indent: true, dedent: false });
    expect(possibleMoves(all, all[1])).toEqual({ up: false, down: false, indent: false, dedent: true });
  });

  it("flags objects whose content changed since review", () => {
    expect(needsReview(obj("a", "1", null, 0))).toBe(true);
    expect(needsReview(obj("a", "1", null, 0, { reviewed_fingerprint: "f" }))).toBe(false);
  });
});

describe("attribute values", () => {
  it("coerces by data type", () => {
    expect(coerceAttr(def("n", "integer"), "42")).toBe(42);
    expect(() => coerceAttr(def("n", "integer"), "4.2")).toThrow(AttrInputError);
    expect(coerceAttr(def("f", "float"), "2.5")).toBe(2.5);
    expect(() => coerceAttr(def("f", "float"), "abc")).toThrow(/must be a number/);
    expect(coerceAttr(def("b", "bool"), "true")).toBe(true);
    expect(coerceAttr(def("b", "boolean"), "no")).toBe(false);
    expect(coerceAttr(def("s", "string"), "  ")).toBeNull();
    expect(coerceAttr(def("d", "date"), "2026-01-02")).toBe("2026-01-02");
    expect(coerceAttr(def("e", "enum", { enum_values: ["a", "b"] }), "a")).toBe("a");
    expect(coerceAttr(def("e", "enum", { enum_values: ["a", "b"], multi_select: true }), ["a", "b"])).toEqual(["a", "b"]);
    expect(coerceAttr(def("e", "enum", { multi_select: true }), [])).toBeNull();
  });

  it("renders values back into inputs", () => {
    expect(attrToInput(def("b", "bool"), false)).toBe("false");
    expect(attrToInput(def("d", "date"), "2026-01-02T10:00:00Z")).toBe("2026-01-02");
    expect(attrToInput(def("e", "enum", { multi_select: true }), ["x"])).toEqual(["x"]);
    expect(attrToInput(def("e", "enum", { multi_select: true }), null)).toEqual([]);
    expect(attrToInput(def("n", "integer"), 7)).toBe("7");
  });

  it("keeps unknown keys and removes cleared ones when merging", () => {
    expect(mergeAttributes({ legacy: "x", priority: "high", owner: "bob" }, { priority: "low", owner: null })).toEqual({ legacy: "x", priority: "low" });
    expect(mergeAttributes(null, { a: 1 })).toEqual({ a: 1 });
  });
});

describe("history", () => {
  const row = (version: number, heading: string, attrs: Record<string, string | number> | null, change: ObjectHistory["change_type"] = "update"): ObjectHistory => ({
    id: version, object_id: "o", module_id: "m", version, attribute_values: attrs, heading, body: "<p>b</p>", changed_by: "u", changed_at: "", change_type: change,
  });

  it("lists attribute-level changes between snapshots", () => {
    const changes = changesBetween(row(1, "H", { priority: "low", owner: "a" }), row(2, "H2", { priority: "high", risk: 3 }));
    expect(changes).toEqual([
      { field: "heading", before: "H", after: "H2" },
      { field: "attributes.owner", before: "a", after: undefined },
      { field: "attributes.priority", before: "low", after: "high" },
      { field: "attributes.risk", before: undefined, after: 3 },
    ]);
  });

  it("pairs rows newest first, moves without changes", () => {
    const out = historyWithChanges([row(1, "H", null, "create"), row(3, "H", { a: 1 }), row(2, "H", null, "move")]);
    expect(out.map((x) => x.row.version)).toEqual([3, 2, 1]);
    expect(out[1].changes).toEqual([]);
    expect(out[0].changes).toEqual([{ field: "attributes.a", before: undefined, after: 1 }]);
  });

  it("formats values", () => {
    expect(formatValue(null)).toBe("—");
    expect(formatValue(["a", "b"])).toBe("a, b");
    expect(formatValue(true)).toBe("yes");
  });
});
