import { describe, expect, it, vi } from "vitest";
import type { Coverage, TraceabilityMatrix } from "../api/types";
import { fakeCtx, page } from "../test/fake";
import { coverageSummary, indexCells, matrixTable, renderTraceability, untraced } from "./traceability";

const matrix: TraceabilityMatrix = {
  source_objects: [{ id: "s1", heading: "Brake", position: 0, level: "1" }, { id: "s2", heading: "Lamp", position: 1, level: "2" }],
  target_objects: [{ id: "t1", heading: "Test A", position: 0, level: "1" }, { id: "t2", heading: "Test B", position: 1, level: "2" }],
  cells: [
    { source_id: "s1", target_id: "t1", link_id: "l1", suspect: false },
    { source_id: "s1", target_id: "t1", link_id: "l2", suspect: true },
    { source_id: "s1", target_id: "t2", link_id: "l3", suspect: false },
  ],
};
const coverage: Coverage = { total_objects: 3, with_upstream: 1, with_downstream: 2, with_any_link: 2, upstream_pct: 100 / 3, downstream_pct: 200 / 3, any_link_pct: 200 / 3 };

describe("traceability", () => {
  it("merges links of one pair and finds untraced objects", () => {
    const cells = indexCells(matrix.cells);
    expect(cells.get("s1|t1")).toEqual({ links: 2, suspect: true });
    expect(cells.get("s1|t2")).toEqual({ links: 1, suspect: false });
    const gaps = untraced(matrix);
    expect([...gaps.sources]).toEqual(["s2"]);
    expect([...gaps.targets]).toEqual([]);
  });

  it("draws the matrix with suspect cells highlighted and objects linked", () => {
    const table = matrixTable(matrix, (side, id) => `/${side}/${id}`);
    const rows = table.querySelectorAll("tbody tr");
    expect(rows).toHaveLength(2);
    const [suspect, plain] = Array.from(rows[0].querySelectorAll("td"));
    expect(suspect.className).toBe("linked suspect");
    expect(suspect.title).toContain("2 links");
    expect(plain.className).toBe("linked");
    expect(rows[1].classList.contains("untraced")).toBe(true);
    expect(rows[1].querySelectorAll("td.linked")).toHaveLength(0);
    expect(rows[0].querySelector("th a")?.getAttribute("href")).toBe("/source/s1");
    expect(table.querySelector("thead th:nth-child(3) a")?.getAttribute("href")).toBe("/target/t2");
    expect(table.textContent).toContain("3 links, 1 suspect");
  });

  it("summarizes coverage as rounded percentages", () => {
    const el = coverageSummary(coverage);
    expect(Array.from(el.querySelectorAll(".coverage-value")).map((e) => e.textContent)).toEqual(["33.3 % 1 of 3", "66.7 % 2 of 3", "66.7 % 2 of 3"]);
    expect(coverageSummary({ ...coverage, total_objects: 0 }).textContent).toContain("no objects");
  });

  it("renders the screen: coverage always, the matrix once a target module is chosen", async () => {
    const { ctx, api } = fakeCtx("viewer", {
      getWorkspace: vi.fn(async () => ({ id: "w", name: "WS" })),
      getProject: vi.fn(async () => ({ id: "p", name: "P" })),
      getModule: vi.fn(async () => ({ id: "m1", name: "Reqs" })),
      listModules: vi.fn(async () => page([{ id: "m1", name: "Reqs" }, { id: "m2", name: "Tests" }])),
      linkTypes: vi.fn(async () => [{ id: "lt", name: "verifies" }]),
      coverage: vi.fn(async () => coverage),
      traceabilityMatrix: vi.fn(async () => matrix),
    });
    const root = document.createElement("div");
    await renderTraceability(ctx, root, "w", "p", "m1");
    expect(root.querySelector("h1")?.textContent).toBe("Traceability of Reqs");
    expect(root.querySelector(".coverage")).not.toBeNull();
    expect(api.traceabilityMatrix).not.toHaveBeenCalled();
    await renderTraceability(ctx, root, "w", "p", "m1", "m2", "lt");
    expect(api.traceabilityMatrix).toHaveBeenCalledWith("m1", "m2", "lt");
    expect(api.coverage).toHaveBeenLastCalledWith("m1", "lt");
    expect(root.querySelector(".matrix-section h2")?.textContent).toBe("Matrix: Reqs → Tests");
    expect(root.querySelectorAll("table.matrix td.suspect")).toHaveLength(1);
    expect(root.querySelector("tbody th a")?.getAttribute("href")).toBe("/w/w/p/p/m/m1?object=s1");
  });
});
