import { describe, expect, it, vi } from "vitest";
import type { ImpactResult, ReqObject } from "../api/types";
import { fakeCtx, settle } from "../test/fake";
import { impactByDepth, renderImpact } from "./impact";
import type { ModuleData } from "./module";

const res: ImpactResult = {
  root_id: "r",
  objects: [
    { id: "a", heading: "A", level: "1", depth: 1, link_type: "satisfies", module_id: "m" },
    { id: "x", heading: "X", level: "3", depth: 1, link_type: "verifies", module_id: "other" },
    { id: "b", heading: "B", level: "2", depth: 2, link_type: "satisfies", module_id: "m" },
  ],
  edges: [
    { source_id: "r", target_id: "a", link_type: "satisfies", suspect: false },
    { source_id: "x", target_id: "r", link_type: "verifies", suspect: true },
    { source_id: "a", target_id: "b", link_type: "satisfies", suspect: true },
  ],
};

describe("impact", () => {
  it("groups by depth and marks objects reached over a suspect edge", () => {
    const g = impactByDepth(res);
    expect(g.get(1)?.map((o) => [o.id, o.suspect])).toEqual([["a", false], ["x", true]]);
    expect(g.get(2)?.map((o) => [o.id, o.suspect])).toEqual([["b", true]]);
  });

  it("renders local objects as selectable and others as links to their module", async () => {
    const { ctx, api } = fakeCtx("viewer", { objectImpact: vi.fn(async () => res) });
    const data = { ws: "w", p: "p", objects: [{ id: "a" }, { id: "b" }] } as unknown as ModuleData;
    const select = vi.fn();
    const body = document.createElement("div");
    renderImpact(ctx, body, data, { id: "r" } as ReqObject, select);
    await settle();
    expect(api.objectImpact).toHaveBeenCalledWith("r", "both", 5);
    expect(body.textContent).toContain("3 objects affected.");
    expect(body.querySelectorAll("li.suspect")).toHaveLength(2);
    body.querySelector<HTMLButtonElement>("ul.impact button.link")!.click();
    expect(select).toHaveBeenCalledWith("a");
    expect(body.querySelector("ul.impact a")?.getAttribute("href")).toBe("/w/w/p/p/m/other?object=x");
  });
});
