import { describe, expect, it, vi } from "vitest";
import type { ValidationIssue } from "../api/types";
import { fakeCtx } from "../test/fake";
import { countBySeverity, renderValidation } from "./validation";

const issues: ValidationIssue[] = [
  { rule: "orphan_object", severity: "error", object_id: "o1", link_id: null, message: "[1.2] parent is not a live object" },
  { rule: "missing_body", severity: "warning", object_id: "o2", link_id: null, message: "[2] normative object has no body" },
  { rule: "unreviewed", severity: "info", object_id: "o2", link_id: null, message: "[2] Lamp — needs review" },
  { rule: "suspect_link", severity: "warning", object_id: null, link_id: "l1", message: "link a -> b is suspect" },
];

async function render(list: ValidationIssue[]) {
  const { ctx } = fakeCtx("viewer", {
    getWorkspace: vi.fn(async () => ({ id: "w", name: "WS" })),
    getProject: vi.fn(async () => ({ id: "p", name: "P" })),
    getModule: vi.fn(async () => ({ id: "m", name: "Reqs" })),
    validateModule: vi.fn(async () => ({ module_id: "m", issues: list, object_count: 2, link_count: 1 })),
  });
  const root = document.createElement("div");
  await renderValidation(ctx, root, "w", "p", "m");
  return root;
}

describe("validation report", () => {
  it("counts by severity", () => {
    expect(countBySeverity(issues)).toEqual({ error: 1, warning: 2, info: 1 });
  });

  it("lists issues, object issues linking to their objects, and filters by severity", async () => {
    const root = await render(issues);
    const items = root.querySelectorAll("li.issue");
    expect(items).toHaveLength(4);
    expect(items[0].querySelector("a")?.getAttribute("href")).toBe("/w/w/p/p/m/m?object=o1");
    expect(items[0].querySelector("a")?.textContent).toBe("[1.2] parent is not a live object");
    expect(items[3].querySelector("a")).toBeNull();
    expect(items[3].textContent).toContain("link a -> b is suspect");
    const info = root.querySelector<HTMLInputElement>("input[name=info]")!;
    info.checked = false;
    info.dispatchEvent(new Event("change"));
    expect(root.querySelectorAll("li.issue")).toHaveLength(3);
    expect(root.textContent).toContain("2 objects and 1 links checked");
  });

  it("says so when the module is clean", async () => {
    const root = await render([]);
    expect(root.textContent).toContain("No issues found.");
  });
});
