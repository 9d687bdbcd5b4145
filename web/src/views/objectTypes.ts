// Object types of a module (extended contract §1): list them with what they require, create, edit and delete
// one (editors and admins; the server has the final word and its refusals are shown as it words them), and the
// object panel's "Type" row, where an editor gives an object a type or takes it away.

import type { AttributeDefinition, Classification, ObjectType, ObjectTypeInput, ReqObject } from "../api/types";
import { h, replace } from "../lib/dom";
import { busy, button, empty, field, hasRole, loading, moduleCrumbs, type Ctx } from "../ui/common";
import { toast } from "../ui/toast";

export const CLASSIFICATIONS: Classification[] = ["normative", "informative", "heading"];

export class TypeFormError extends Error {}

/** Names of the layout's fields marked `required: true` (the server requires them like `required_attributes`). */
export function layoutRequired(schema: Record<string, unknown> | null | undefined): string[] {
  const sections = (schema?.sections ?? []) as { fields?: { attribute_name?: unknown; required?: unknown }[] }[];
  if (!Array.isArray(sections)) return [];
  return sections.flatMap((s) => (Array.isArray(s?.fields) ? s.fields : []))
    .filter((f) => f?.required === true && typeof f.attribute_name === "string")
    .map((f) => f.attribute_name as string);
}

/** Everything a type requires of its objects, each name once, in declaration order (the server's rule). */
export function requiredNames(t: Pick<ObjectType, "required_attributes" | "attribute_schema">): string[] {
  return [...new Set([...(t.required_attributes ?? []), ...layoutRequired(t.attribute_schema)])];
}

export interface TypeFormValues {
  name: string;
  description: string;
  classification: Classification;
  required: string[];
  /** The form layout as JSON text; empty means none (`{}`). */
  layout: string;
}

function parseLayout(text: string): Record<string, unknown> {
  if (!text.trim()) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new TypeFormError(`The form layout is not valid JSON: ${(err as Error).message}`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new TypeFormError("The form layout must be a JSON object");
  return value as Record<string, unknown>;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The request body of the form: everything for a new type, only what changed for an existing one (an emptied
 * description clears it). Throws TypeFormError before any request when the name is empty or the layout is not
 * a JSON object; everything else (unknown attributes, a bad layout, a taken name) is the server's to refuse.
 */
export function typeBody(v: TypeFormValues, original?: ObjectType): ObjectTypeInput {
  const name = v.name.trim();
  if (!name) throw new TypeFormError("A type needs a name");
  const layout = parseLayout(v.layout);
  const description = v.description.trim() || null;
  const required = [...new Set(v.required)];
  if (!original) {
    return { name, description, default_classification: v.classification, required_attributes: required, attribute_schema: layout };
  }
  const out: ObjectTypeInput = {};
  if (name !== original.name) out.name = name;
  if (description !== (original.description ?? null)) out.description = description;
  if (v.classification !== original.default_classification) out.default_classification = v.classification;
  if (!same(required, original.required_attributes)) out.required_attributes = required;
  if (!same(layout, original.attribute_schema ?? {})) out.attribute_schema = layout;
  return out;
}

function typeForm(ctx: Ctx, moduleId: string, defs: AttributeDefinition[], reload: () => Promise<void>, editing?: ObjectType): HTMLElement {
  const name = h("input", { name: "name", required: true, maxlength: 200, autocomplete: "off", value: editing?.name ?? "" });
  const description = h("input", { name: "description", maxlength: 2000, autocomplete: "off", value: editing?.description ?? "" });
  const classification = h("select", { name: "default_classification" },
    CLASSIFICATIONS.map((c) => h("option", { value: c, selected: c === (editing?.default_classification ?? "normative") }, c)));
  const chosen = new Set(editing?.required_attributes ?? []);
  // Names the type requires that no definition carries any more are kept (and shown), not silently dropped.
  const names = [...new Set([...defs.map((d) => d.name), ...chosen])];
  const scope = new Map(defs.map((d) => [d.name, d.module_id ? d.data_type : `${d.data_type}, global`]));
  const required = h(
    "fieldset",
    { class: "required-attributes" },
    h("legend", null, "Required attributes"),
    names.length
      ? names.map((n) => h("label", { class: "inline" }, h("input", { type: "checkbox", name: "required", value: n, checked: chosen.has(n) }), ` ${n}`, h("small", { class: "muted" }, ` (${scope.get(n) ?? "no definition"})`)))
      : h("small", { class: "muted" }, "This module has no attribute definitions yet."),
  );
  const layout = h("textarea", { name: "attribute_schema", rows: 5, spellcheck: "false", placeholder: '{"sections": [{"id": "main", "title": "Main", "fields": [{"attribute_name": "ASIL", "required": true}]}]}' });
  layout.value = editing && Object.keys(editing.attribute_schema ?? {}).length ? JSON.stringify(editing.attribute_schema, null, 2) : "";
  const submit = h("button", { type: "submit", class: "primary" }, editing ? "Save type" : "Create type");
  const cancel = editing ? button("Cancel", () => void reload()) : null;
  const form = h(
    "form",
    { class: "inline-form object-type-form", "aria-label": editing ? `Edit ${editing.name}` : "New object type" },
    h("h2", null, editing ? `Edit ${editing.name}` : "New object type"),
    field("Name", name),
    field("Description", description),
    field("Default classification", classification, "given to new objects of this type that name none"),
    required,
    h("details", { class: "layout", open: Boolean(layout.value) }, h("summary", null, "Form layout (JSON, optional)"), field("Form layout", layout, "fields with \"required\": true are required too")),
    h("div", { class: "toolbar" }, submit, cancel),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let body: ObjectTypeInput;
    try {
      body = typeBody({
        name: name.value,
        description: description.value,
        classification: classification.value as Classification,
        required: Array.from(form.querySelectorAll<HTMLInputElement>("input[name=required]:checked")).map((i) => i.value),
        layout: layout.value,
      }, editing);
    } catch (err) {
      return void toast((err as Error).message, "error");
    }
    if (editing && Object.keys(body).length === 0) return void toast("Nothing changed", "info");
    const done = await busy(submit, () =>
      editing ? ctx.api.updateObjectType(editing.id, body) : ctx.api.createObjectType(moduleId, { ...body, name: body.name as string }), "Object type");
    if (done) {
      toast(editing ? `Saved ${done.name}` : `Created object type ${done.name}`, "success");
      await reload();
    }
  });
  return form;
}

function typeRow(ctx: Ctx, t: ObjectType, onEdit: (t: ObjectType) => void, reload: () => Promise<void>): HTMLElement {
  const needs = requiredNames(t);
  const actions = hasRole(ctx, "editor")
    ? [
        button("Edit", () => onEdit(t), { class: "small", "aria-label": `Edit ${t.name}` }),
        " ",
        button("Delete", async (ev) => {
          if (!window.confirm(`Delete the object type ${t.name}? Its objects keep their content and lose the type.`)) return;
          if (await busy(ev.currentTarget as HTMLElement, () => ctx.api.deleteObjectType(t.id).then(() => true), t.name)) {
            toast(`Deleted ${t.name}`, "success");
            await reload();
          }
        }, { class: "small danger", "aria-label": `Delete ${t.name}` }),
      ]
    : [];
  return h(
    "tr",
    { dataset: { type: t.id } },
    h("th", { scope: "row" }, t.name),
    h("td", null, t.description ?? ""),
    h("td", null, t.default_classification),
    h("td", { class: "requires" }, needs.length ? needs.map((n) => h("span", { class: "tag" }, n)) : h("span", { class: "muted" }, "nothing")),
    h("td", null, actions),
  );
}

export async function renderObjectTypes(ctx: Ctx, root: HTMLElement, ws: string, p: string, m: string): Promise<void> {
  replace(root, loading());
  const [workspace, project, module, types, defs] = await Promise.all([
    ctx.api.getWorkspace(ws),
    ctx.api.getProject(ws, p),
    ctx.api.getModule(m),
    ctx.api.listObjectTypes(m),
    ctx.api.attributeDefinitions(m),
  ]);
  const reload = () => renderObjectTypes(ctx, root, ws, p, m);
  const canEdit = hasRole(ctx, "editor");
  const formSlot = h("div", { class: "form-slot" }, canEdit ? typeForm(ctx, m, defs.items, reload) : null);
  const edit = (t: ObjectType) => {
    replace(formSlot, typeForm(ctx, m, defs.items, reload, t));
    formSlot.querySelector<HTMLInputElement>("input[name=name]")?.focus();
  };
  replace(
    root,
    moduleCrumbs({ ws, p, m }, { workspace: workspace.name, project: project.name, module: module.name }, "Object types"),
    h("h1", null, `Object types of ${module.name}`),
    h("p", { class: "lead" }, "An object of a type must have a value for every attribute the type requires, on create and on every change of its attributes or type."),
    types.items.length
      ? h(
          "table",
          { class: "object-types" },
          h("thead", null, h("tr", null, ["Name", "Description", "Default classification", "Requires", ""].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", null, types.items.map((t) => typeRow(ctx, t, edit, reload))),
        )
      : empty("No object types yet."),
    canEdit ? formSlot : h("p", { class: "muted" }, "Editors and administrators define object types."),
  );
}

/** The object panel's "Type" row: editors choose the type (or none); everyone else reads it. */
export function typeFacts(ctx: Ctx, obj: ReqObject, types: ObjectType[], reload: () => Promise<void>): HTMLElement {
  const current = obj.object_type_id ?? "";
  const known = types.find((t) => t.id === current);
  let control: HTMLElement;
  if (hasRole(ctx, "editor")) {
    const select = h(
      "select",
      { name: "object_type_id", "aria-label": "Object type" },
      h("option", { value: "", selected: !current }, "— none —"),
      types.map((t) => h("option", { value: t.id, selected: t.id === current }, t.name)),
      current && !known ? h("option", { value: current, selected: true }, "(unknown type)") : null,
    );
    select.addEventListener("change", async () => {
      const wanted = select.value || null;
      const done = await busy(select, () => ctx.api.updateObject(obj.module_id, obj.id, { object_type_id: wanted, expected_version: obj.current_version }), "Object type");
      if (done) {
        toast(wanted ? `${obj.level} is now a ${types.find((t) => t.id === wanted)?.name ?? "typed object"}` : `${obj.level} has no type now`, "success");
        await reload();
      } else {
        select.value = current;
      }
    });
    control = select;
  } else {
    control = h("span", null, known?.name ?? (current ? "(unknown type)" : "none"));
  }
  const needs = known ? requiredNames(known) : [];
  return h(
    "div",
    { class: "type-facts" },
    h("dt", null, "Type"),
    h("dd", null, control, needs.length ? h("small", { class: "muted" }, ` requires ${needs.join(", ")}`) : null),
  );
}
