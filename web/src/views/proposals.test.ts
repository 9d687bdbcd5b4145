import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import type { AttributeDefinition, ChangeProposal, ReqObject, Role } from "../api/types";
import { buttonNamed, fakeCtx, page, settle } from "../test/fake";
import { GRAPH, actionsFor, changeOf, changesOf, mayMove, renderProposals, valueInput, withChange } from "./proposals";

afterEach(() => vi.unstubAllGlobals());

function obj(over: Partial<ReqObject> = {}): ReqObject {
  return {
    id: "o1", module_id: "m", parent_id: null, position: 0, level: "1.1", heading: "Purpose", body: "<p>Old <b>text</b></p>",
    attributes: { priority: "low", tags: ["a", "b"], weight: 2 }, current_version: 3, classification: "normative",
    content_fingerprint: "f", reviewed_fingerprint: null, reviewed_at: null, reviewed_by: null, deleted_at: null,
    created_at: "", updated_at: "", lifecycle_state: "draft", ...over,
  };
}

const defs: AttributeDefinition[] = [
  { id: "d1", module_id: "m", name: "priority", data_type: "enum", enum_values: ["low", "high"], multi_select: false, default_value: null, created_at: "" },
  { id: "d2", module_id: "m", name: "tags", data_type: "enum", enum_values: ["a", "b", "c"], multi_select: true, default_value: null, created_at: "" },
  { id: "d3", module_id: "m", name: "weight", data_type: "integer", enum_values: null, multi_select: false, default_value: null, created_at: "" },
];

const proposal = (over: Partial<ChangeProposal> = {}): ChangeProposal => ({
  id: "c1", module_id: "m", title: "Rename purpose", description: null, status: "draft", author_id: "ann",
  diff_data: [{ object_id: "o1", field: "heading", old_value: "Purpose", new_value: "Purpose and scope" }],
  created_at: "2026-12-03T10:00:00Z", updated_at: "2026-12-03T10:00:00Z", ...over,
});

describe("change proposal rules", () => {
  it("mirror the server's status graph, apply being the way to applied", () => {
    expect(GRAPH).toEqual({
      draft: ["submitted", "approved", "rejected"],
      submitted: ["in_review", "approved", "rejected", "draft"],
      in_review: ["approved", "rejected"],
      approved: ["applied", "rejected"],
      rejected: ["draft"],
      applied: [],
    });
    const editor = { id: "ed", role: "editor" as const };
    expect(actionsFor(proposal({ status: "approved" }), editor).map((a) => [a.kind, a.label])).toEqual([["apply", "Apply"], ["move", "→ rejected"]]);
    expect(actionsFor(proposal({ status: "applied" }), editor)).toEqual([]);
  });

  it("give each move the role the server asks for", () => {
    const reviewer = { id: "rev", role: "reviewer" as const };
    const author = { id: "ann", role: "reviewer" as const };
    const viewer = { id: "v", role: "viewer" as const };
    const p = proposal({ status: "submitted" });
    expect(mayMove(reviewer, p, "in_review")).toBeNull();
    expect(mayMove(viewer, p, "in_review")).toBe("needs the reviewer role");
    expect(mayMove(reviewer, p, "applied")).toBe("needs the editor role");
    expect(mayMove(reviewer, p, "draft")).toBe("only its author or an editor");
    expect(mayMove(author, p, "draft")).toBeNull();
    expect(mayMove({ id: "x", role: "editor" }, p, "draft")).toBeNull();
    expect(actionsFor(p, reviewer).filter((a) => a.refusal).map((a) => a.to)).toEqual(["draft"]);
  });

  it("build a change from the object's value now and the typed one, in the field's wire type", () => {
    const o = obj();
    expect(changeOf(o, "heading", "Purpose and scope", defs)).toEqual({ object_id: "o1", field: "heading", old_value: "Purpose", new_value: "Purpose and scope" });
    expect(changeOf(o, "heading", "  ", defs).new_value).toBeNull();
    expect(changeOf(o, "attributes.weight", "5", defs)).toMatchObject({ old_value: 2, new_value: 5 });
    expect(changeOf(o, "attributes.tags", "a, c", defs)).toMatchObject({ old_value: ["a", "b"], new_value: ["a", "c"] });
    expect(changeOf(o, "attributes.priority", "", defs)).toMatchObject({ old_value: "low", new_value: null });
    expect(changeOf(o, "attributes.owner", "Ann", defs)).toMatchObject({ old_value: null, new_value: "Ann" });
    expect(changeOf(o, "classification", "informative", defs)).toMatchObject({ old_value: "normative", new_value: "informative" });
    expect(() => changeOf(o, "classification", "optional", defs)).toThrow(/classification must be one of/);
    expect(() => changeOf(o, "attributes.weight", "heavy", defs)).toThrow(/whole number/);
    expect(() => changeOf(o, "heading", "Purpose", defs)).toThrow(/already has that value/);
    expect(valueInput(o, "attributes.tags", defs)).toBe("a, b");
    expect(valueInput(o, "lifecycle_state", defs)).toBe("draft");
  });

  it("keep one change per field of an object, and read {} as none", () => {
    const a = changeOf(obj(), "heading", "A", defs);
    const b = changeOf(obj(), "heading", "B", defs);
    const c = changeOf(obj(), "body", "New", defs);
    expect(withChange(withChange(withChange([], a), c), b)).toEqual([c, b]);
    expect(changesOf({})).toEqual([]);
    expect(changesOf([a])).toEqual([a]);
  });
});

function setup(role: Role, proposals: ChangeProposal[], over: Record<string, unknown> = {}, userId = "me") {
  return fakeCtx(role, {
    getWorkspace: vi.fn(async () => ({ id: "w", name: "W" })),
    getProject: vi.fn(async () => ({ id: "p", name: "P" })),
    getModule: vi.fn(async () => ({ id: "m", name: "Reqs" })),
    listChangeProposals: vi.fn(async () => page(proposals)),
    listAllObjects: vi.fn(async () => [obj(), obj({ id: "o2", level: "1.2", heading: "Scope" })]),
    attributeDefinitions: vi.fn(async () => page(defs)),
    listUsers: vi.fn(async () => page([{ id: "ann", email: "ann@x", display_name: "Ann" }])),
    updateChangeProposal: vi.fn(async (_m: string, _id: string, input: { status: string }) => ({ ...proposals[0], ...input })),
    applyChangeProposal: vi.fn(async () => ({ proposal: { ...proposals[0], status: "applied" }, objects_updated: 1 })),
    createChangeProposal: vi.fn(async (_m: string, input: object) => ({ ...proposal(), ...input })),
    deleteChangeProposal: vi.fn(async () => undefined),
    ...over,
  }, userId);
}

async function render(role: Role, proposals: ChangeProposal[], over: Record<string, unknown> = {}, userId = "me") {
  const { ctx, api } = setup(role, proposals, over, userId);
  const root = document.createElement("div");
  document.body.replaceChildren(root);
  await renderProposals(ctx, root, "w", "p", "m");
  return { root, api };
}

describe("change proposals screen", () => {
  it("shows a proposal's changes and moves it along the graph", async () => {
    const { root, api } = await render("reviewer", [proposal()]);
    const card = root.querySelector<HTMLElement>("section[data-proposal='c1']")!;
    expect(card.querySelector(".badge")!.textContent).toBe("draft");
    expect(card.querySelector("table.changes tbody tr")!.textContent).toBe("1.1 PurposeheadingPurposePurpose and scope");
    expect(card.textContent).toContain("by Ann");
    expect(Array.from(card.querySelectorAll("[role=group] button")).map((b) => b.textContent)).toEqual(["→ submitted", "→ approved", "→ rejected"]);
    buttonNamed(card, "→ submitted")!.click();
    await settle();
    expect(api.updateChangeProposal).toHaveBeenCalledWith("m", "c1", { status: "submitted" });
    expect(api.listChangeProposals).toHaveBeenCalledTimes(2);
  });

  it("applies an approved proposal, and shows the server's refusal when a value changed since", async () => {
    const refuse = vi.fn(async () => {
      throw new ApiError(409, "CONFLICT", "object o1 field 'heading' changed since the proposal was made");
    });
    const { root } = await render("editor", [proposal({ status: "approved" })], { applyChangeProposal: refuse });
    buttonNamed(root.querySelector("section[data-proposal='c1']")!, "Apply")!.click();
    await settle();
    expect(refuse).toHaveBeenCalledWith("m", "c1");
    expect(document.querySelector(".toast-error")!.textContent).toContain("Apply Rename purpose: object o1 field 'heading' changed since the proposal was made");
  });

  it("applies and reports how many objects changed", async () => {
    const { root, api } = await render("editor", [proposal({ status: "approved" })]);
    buttonNamed(root.querySelector("section[data-proposal='c1']")!, "Apply")!.click();
    await settle();
    expect(api.applyChangeProposal).toHaveBeenCalledWith("m", "c1");
    expect(document.querySelector(".toast-success")!.textContent).toContain("1 object updated");
  });

  it("disables what the role cannot do: a reviewer neither applies nor sends another's proposal back", async () => {
    const { root } = await render("reviewer", [proposal({ status: "approved" }), proposal({ id: "c2", status: "submitted" })]);
    expect(buttonNamed(root.querySelector("section[data-proposal='c1']")!, "Apply")!.disabled).toBe(true);
    expect(buttonNamed(root.querySelector("section[data-proposal='c2']")!, "→ draft")!.disabled).toBe(true);
    expect(buttonNamed(root.querySelector("section[data-proposal='c2']")!, "→ in_review")!.disabled).toBe(false);
    expect(buttonNamed(root.querySelector("section[data-proposal='c2']")!, "Delete")).toBeUndefined();
  });

  it("creates a proposal from the changes built in the form", async () => {
    const { root, api } = await render("reviewer", []);
    const form = root.querySelector<HTMLFormElement>("form.create-proposal")!;
    form.querySelector<HTMLInputElement>("input[name=title]")!.value = "Tighten scope";
    const object = form.querySelector<HTMLSelectElement>("select[name=object]")!;
    const fieldSel = form.querySelector<HTMLSelectElement>("select[name=field]")!;
    const value = form.querySelector<HTMLInputElement>("input[name=new_value]")!;
    object.value = "o2";
    object.dispatchEvent(new Event("change"));
    expect(value.value).toBe("Scope"); // prefilled with the value now
    value.value = "Scope and limits";
    buttonNamed(form, "Add change")!.click();
    fieldSel.value = "attributes.priority";
    fieldSel.dispatchEvent(new Event("change"));
    expect(value.value).toBe("low");
    value.value = "high";
    buttonNamed(form, "Add change")!.click();
    expect(form.querySelectorAll(".pending-changes tbody tr").length).toBe(2);
    form.dispatchEvent(new Event("submit", { cancelable: true }));
    await settle();
    expect(api.createChangeProposal).toHaveBeenCalledWith("m", {
      title: "Tighten scope", description: null, diff_data: [
        { object_id: "o2", field: "heading", old_value: "Scope", new_value: "Scope and limits" },
        { object_id: "o2", field: "attributes.priority", old_value: "low", new_value: "high" },
      ],
    });
  });

  it("gives viewers the list only", async () => {
    const { root } = await render("viewer", [proposal()]);
    expect(root.querySelector("form")).toBeNull();
    expect(root.querySelector("section[data-proposal='c1'] button")).toBeNull();
  });
});
