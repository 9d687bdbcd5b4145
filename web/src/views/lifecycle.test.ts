import { describe, expect, it, vi } from "vitest";
import type { LifecycleModel, ReqObject, Role } from "../api/types";
import { buttonNamed, fakeCtx, settle } from "../test/fake";
import { lifecycleFacts, modelOf, movesFrom, stateColor } from "./lifecycle";

const model: LifecycleModel = {
  id: "lc", module_id: "m", name: "ISO 26262 Lifecycle", description: null, initial_state: "draft",
  states: [
    { name: "draft", color: "#6B7280", description: null },
    { name: "in_review", color: "#F59E0B", description: null },
    { name: "approved", color: "#10B981", description: null },
  ],
  transitions: [
    { from: "draft", to: "in_review" },
    { from: "in_review", to: "draft" },
    { from: "in_review", to: "approved", required_role: "admin" },
  ],
};

function obj(over: Partial<ReqObject> = {}): ReqObject {
  return {
    id: "o1", module_id: "m", parent_id: null, position: 0, level: "1.2", heading: "H", body: null, attributes: null,
    current_version: 4, classification: "normative", content_fingerprint: "f", reviewed_fingerprint: null,
    reviewed_at: null, reviewed_by: null, deleted_at: null, created_at: "", updated_at: "", lifecycle_model_id: null,
    lifecycle_state: "in_review", ...over,
  };
}

describe("lifecycle rules", () => {
  it("follows the object's model, else the module default", () => {
    expect(modelOf(obj({ lifecycle_model_id: "lc" }), [model], null)).toBe(model);
    expect(modelOf(obj(), [model], "lc")).toBe(model);
    expect(modelOf(obj(), [model], null)).toBeNull();
  });

  it("offers the transitions from the state, and only the initial state from none", () => {
    expect(movesFrom(model, "in_review")).toEqual([{ to: "draft", requiredRole: null }, { to: "approved", requiredRole: "admin" }]);
    expect(movesFrom(model, null)).toEqual([{ to: "draft", requiredRole: null }]);
    expect(movesFrom(model, "approved")).toEqual([]);
    expect(stateColor(model, "approved")).toBe("#10B981");
    expect(stateColor(null, "approved")).toBeNull();
  });
});

describe("lifecycle in the panel", () => {
  function render(role: Role) {
    const { ctx, api } = fakeCtx(role, { updateObject: vi.fn(async () => obj({ lifecycle_state: "draft" })) });
    const reload = vi.fn(async () => undefined);
    const el = lifecycleFacts(ctx, obj(), model, reload);
    document.body.replaceChildren(el);
    return { el, api, reload };
  }

  it("moves along a transition with the version it saw", async () => {
    const { el, api, reload } = render("reviewer");
    expect(el.textContent).toContain("in_review");
    const approve = buttonNamed(el, "→ approved")!;
    expect(approve.disabled).toBe(true); // needs admin
    expect(approve.title).toBe("needs the admin role");
    buttonNamed(el, "→ draft")!.click();
    await settle();
    expect(api.updateObject).toHaveBeenCalledWith("m", "o1", { lifecycle_state: "draft", expected_version: 4 });
    expect(reload).toHaveBeenCalled();
  });

  it("shows viewers the state without moves", () => {
    const { el } = render("viewer");
    expect(el.querySelectorAll("button")).toHaveLength(0);
    expect(el.querySelector<HTMLElement>(".badge.lifecycle")!.style.color).not.toBe("");
  });
});
