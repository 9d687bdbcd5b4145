import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import type { ObjectType, ReqObject, Role } from "../api/types";
import { buttonNamed, fakeCtx, page, settle } from "../test/fake";
import { TypeFormError, layoutRequired, renderObjectTypes, requiredNames, typeBody, typeFacts } from "./objectTypes";

const safety: ObjectType = {
  id: "t1", module_id: "m", name: "Safety requirement", description: "ASIL-rated", default_classification: "normative",
  required_attributes: ["ASIL"],
  attribute_schema: { sections: [{ id: "s", title: "Main", columns: 1, fields: [{ attribute_name: "owner", order: 0, required: true }, { attribute_name: "ASIL", order: 1, required: true }, { attribute_name: "note", order: 2 }] }] },
  created_at: "", updated_at: "",
};

function obj(over: Partial<ReqObject> = {}): ReqObject {
  return {
    id: "o1", module_id: "m", parent_id: null, position: 0, level: "1.2", heading: "H", body: null, attributes: null,
    current_version: 3, classification: "normative", content_fingerprint: "f", reviewed_fingerprint: null,
    reviewed_at: null, reviewed_by: null, deleted_at: null, created_at: "", updated_at: "", object_type_id: null, ...over,
  };
}

const values = (over: Partial<Parameters<typeof typeBody>[0]> = {}) => ({
  name: " Safety requirement ", description: "ASIL-rated", classification: "normative" as const, required: ["ASIL"], layout: "", ...over,
});

describe("object type rules", () => {
  it("requires the listed attributes and the layout's required fields, each once", () => {
    expect(layoutRequired(safety.attribute_schema)).toEqual(["owner", "ASIL"]);
    expect(layoutRequired({})).toEqual([]);
    expect(layoutRequired(null)).toEqual([]);
    expect(requiredNames(safety)).toEqual(["ASIL", "owner"]);
  });

  it("builds a whole body for a new type and only the changes for an existing one", () => {
    expect(typeBody(values())).toEqual({ name: "Safety requirement", description: "ASIL-rated", default_classification: "normative", required_attributes: ["ASIL"], attribute_schema: {} });
    const layout = JSON.stringify(safety.attribute_schema);
    expect(typeBody(values({ layout }), safety)).toEqual({});
    expect(typeBody(values({ layout, description: "  ", required: ["ASIL", "owner", "ASIL"] }), safety)).toEqual({ description: null, required_attributes: ["ASIL", "owner"] });
    expect(typeBody(values({ layout: "", classification: "informative" }), safety)).toEqual({ default_classification: "informative", attribute_schema: {} });
  });

  it("refuses an empty name and a layout that is not a JSON object before any request", () => {
    expect(() => typeBody(values({ name: " " }))).toThrow(TypeFormError);
    expect(() => typeBody(values({ layout: "{sections" }))).toThrow(/not valid JSON/);
    expect(() => typeBody(values({ layout: "[1]" }))).toThrow(/must be a JSON object/);
  });
});

function setup(role: Role, over: Record<string, unknown> = {}) {
  return fakeCtx(role, {
    getWorkspace: vi.fn(async () => ({ id: "w", name: "W" })),
    getProject: vi.fn(async () => ({ id: "p", name: "P" })),
    getModule: vi.fn(async () => ({ id: "m", name: "Reqs" })),
    listObjectTypes: vi.fn(async () => page([safety])),
    attributeDefinitions: vi.fn(async () => page([
      { id: "d1", module_id: "m", name: "ASIL", data_type: "enum", enum_values: ["A", "B"], multi_select: false, default_value: null, created_at: "" },
      { id: "d2", module_id: null, name: "owner", data_type: "string", enum_values: null, multi_select: false, default_value: null, created_at: "" },
    ])),
    createObjectType: vi.fn(async (_m: string, input: { name: string }) => ({ ...safety, id: "t2", ...input })),
    updateObjectType: vi.fn(async (_id: string, input: object) => ({ ...safety, ...input })),
    deleteObjectType: vi.fn(async () => undefined),
    ...over,
  });
}

async function render(role: Role, over: Record<string, unknown> = {}) {
  const { ctx, api } = setup(role, over);
  const root = document.createElement("div");
  document.body.replaceChildren(root);
  await renderObjectTypes(ctx, root, "w", "p", "m");
  return { root, api };
}

describe("object types screen", () => {
  it("lists the types with what they require and creates one with the chosen attributes", async () => {
    const { root, api } = await render("editor");
    const row = root.querySelector<HTMLElement>("tr[data-type='t1']")!;
    expect(row.querySelector(".requires")!.textContent).toBe("ASILowner");
    const form = root.querySelector<HTMLFormElement>("form.object-type-form")!;
    form.querySelector<HTMLInputElement>("input[name=name]")!.value = "Interface requirement";
    form.querySelector<HTMLInputElement>("input[name=required][value=owner]")!.checked = true;
    form.dispatchEvent(new Event("submit", { cancelable: true }));
    await settle();
    expect(api.createObjectType).toHaveBeenCalledWith("m", { name: "Interface requirement", description: null, default_classification: "normative", required_attributes: ["owner"], attribute_schema: {} });
    expect(api.listObjectTypes).toHaveBeenCalledTimes(2); // reloaded
  });

  it("edits a type through PATCH with only what changed", async () => {
    const { root, api } = await render("admin");
    buttonNamed(root.querySelector("tr[data-type='t1']")!, "Edit")!.click();
    const form = root.querySelector<HTMLFormElement>("form.object-type-form")!;
    expect(form.querySelector("h2")!.textContent).toBe("Edit Safety requirement");
    expect(form.querySelector<HTMLInputElement>("input[name=required][value=ASIL]")!.checked).toBe(true);
    form.querySelector<HTMLInputElement>("input[name=description]")!.value = "";
    form.dispatchEvent(new Event("submit", { cancelable: true }));
    await settle();
    expect(api.updateObjectType).toHaveBeenCalledWith("t1", { description: null });
  });

  it("shows the server's refusal as it words it", async () => {
    const refuse = vi.fn(async () => {
      throw new ApiError(409, "CONFLICT", "object type 'Safety requirement' already exists in this module");
    });
    const { root } = await render("editor", { createObjectType: refuse });
    const form = root.querySelector<HTMLFormElement>("form.object-type-form")!;
    form.querySelector<HTMLInputElement>("input[name=name]")!.value = "Safety requirement";
    form.dispatchEvent(new Event("submit", { cancelable: true }));
    await settle();
    expect(refuse).toHaveBeenCalled();
    expect(document.querySelector(".toast-error")!.textContent).toContain("Object type: object type 'Safety requirement' already exists in this module");
  });

  it("deletes after confirmation", async () => {
    vi.stubGlobal("confirm", vi.fn(() => true));
    const { root, api } = await render("editor");
    buttonNamed(root.querySelector("tr[data-type='t1']")!, "Delete")!.click();
    await settle();
    expect(api.deleteObjectType).toHaveBeenCalledWith("t1");
    vi.unstubAllGlobals();
  });

  it("shows reviewers and viewers the list without forms or buttons", async () => {
    const { root } = await render("reviewer");
    expect(root.querySelector("form")).toBeNull();
    expect(root.querySelector("tr[data-type='t1'] button")).toBeNull();
  });
});

describe("the object panel's type row", () => {
  it("lets an editor choose a type, and puts the select back when the server refuses", async () => {
    const refuse = vi.fn(async () => {
      throw new ApiError(400, "VALIDATION_ERROR", "object type 'Safety requirement' requires attribute 'ASIL'");
    });
    const { ctx } = fakeCtx("editor", { updateObject: refuse });
    const reload = vi.fn(async () => undefined);
    const row = typeFacts(ctx, obj(), [safety], reload);
    document.body.replaceChildren(row);
    const select = row.querySelector<HTMLSelectElement>("select[name=object_type_id]")!;
    expect(select.value).toBe("");
    select.value = "t1";
    select.dispatchEvent(new Event("change"));
    await settle();
    expect(refuse).toHaveBeenCalledWith("m", "o1", { object_type_id: "t1", expected_version: 3 });
    expect(select.value).toBe("");
    expect(reload).not.toHaveBeenCalled();
    expect(document.querySelector(".toast-error")!.textContent).toContain("requires attribute 'ASIL'");
  });

  it("clears a type with null and reloads", async () => {
    const { ctx, api } = fakeCtx("editor", { updateObject: vi.fn(async () => ({})) });
    const reload = vi.fn(async () => undefined);
    const row = typeFacts(ctx, obj({ object_type_id: "t1" }), [safety], reload);
    expect(row.textContent).toContain("requires ASIL, owner");
    const select = row.querySelector<HTMLSelectElement>("select")!;
    select.value = "";
    select.dispatchEvent(new Event("change"));
    await settle();
    expect(api.updateObject).toHaveBeenCalledWith("m", "o1", { object_type_id: null, expected_version: 3 });
    expect(reload).toHaveBeenCalled();
  });

  it("shows a reviewer the type's name only", () => {
    const { ctx } = fakeCtx("reviewer", {});
    const row = typeFacts(ctx, obj({ object_type_id: "t1" }), [safety], async () => undefined);
    expect(row.querySelector("select")).toBeNull();
    expect(row.querySelector("dd")!.textContent).toContain("Safety requirement");
  });
});
