import { describe, expect, it, vi } from "vitest";
import { ApiError, type ApiClient } from "../api/client";
import type { AttributeDefinition, ReqObject } from "../api/types";
import type { Ctx } from "../ui/common";
import { objectForm } from "./objectForm";

const obj: ReqObject = {
  id: "o1", module_id: "m1", parent_id: null, position: 0, level: "1", heading: "Old", body: "<p>b</p>",
  attributes: { priority: "high", legacy: "keep" }, current_version: 3, classification: "normative",
  content_fingerprint: "f", reviewed_fingerprint: null, reviewed_at: null, reviewed_by: null, deleted_at: null,
  created_at: "", updated_at: "",
};
const defs: AttributeDefinition[] = [
  { id: "d1", module_id: "m1", name: "priority", data_type: "enum", default_value: null, enum_values: ["low", "high"], multi_select: false, created_at: "" },
  { id: "d2", module_id: "m1", name: "weight", data_type: "integer", default_value: null, enum_values: null, multi_select: false, created_at: "" },
];

function setup(api: Partial<ApiClient>) {
  const ctx = { api: api as ApiClient, refresh: () => undefined } as Ctx;
  const done = vi.fn();
  const form = objectForm(ctx, { moduleId: "m1", object: obj, defaultClassification: "normative" }, defs, done, vi.fn());
  document.body.replaceChildren(form);
  const input = (name: string) => form.querySelector<HTMLInputElement & HTMLSelectElement>(`[name="${name}"]`)!;
  const submit = async () => {
    form.dispatchEvent(new Event("submit", { cancelable: true }));
    await new Promise((r) => setTimeout(r, 0));
  };
  return { form, input, submit, done };
}

describe("objectForm", () => {
  it("sends typed attributes, keeps unknown keys and expected_version", async () => {
    const saved = { ...obj, current_version: 4 };
    const updateObject = vi.fn(async () => saved);
    const { input, submit, done } = setup({ updateObject });
    expect(input("attr:priority").value).toBe("high");
    input("heading").value = "New heading";
    input("attr:priority").value = "low";
    input("attr:weight").value = "12";
    await submit();
    expect(updateObject).toHaveBeenCalledWith("m1", "o1", {
      heading: "New heading",
      body: "<p>b</p>",
      classification: "normative",
      attributes: { priority: "low", legacy: "keep", weight: 12 },
      expected_version: 3,
    });
    expect(done).toHaveBeenCalledWith(saved);
  });

  it("explains a 409 version conflict and keeps the typed text", async () => {
    const updateObject = vi.fn(async () => {
      throw new ApiError(409, "CONFLICT", "object o1 version conflict: expected 3, found 4");
    });
    const { form, input, submit, done } = setup({ updateObject });
    input("heading").value = "My edit";
    await submit();
    const box = form.querySelector<HTMLElement>(".conflict")!;
    expect(box.hidden).toBe(false);
    expect(box.getAttribute("role")).toBe("alert");
    expect(box.textContent).toContain("Someone else changed this object");
    expect(box.textContent).toContain("expected 3, found 4");
    expect(input("heading").value).toBe("My edit");
    expect(done).not.toHaveBeenCalled();
  });

  it("rejects a non-integer before calling the API", async () => {
    const updateObject = vi.fn();
    const { input, submit } = setup({ updateObject });
    input("attr:weight").value = "1.5";
    await submit();
    expect(updateObject).not.toHaveBeenCalled();
    expect(document.querySelector(".toast-error")?.textContent).toContain("weight must be a whole number");
  });
});
