// Inline create/edit form for an object. Edits send expected_version, so a
// concurrent change answers 409 and the form says so instead of overwriting it.

import { ApiError } from "../api/client";
import type { AttributeDefinition, AttrValue, Classification, ReqObject } from "../api/types";
import { attrToInput, AttrInputError, coerceAttr, mergeAttributes } from "../lib/attrs";
import { h } from "../lib/dom";
import { busy, field, type Ctx } from "../ui/common";
import { errorToast, toast } from "../ui/toast";

export interface FormTarget {
  moduleId: string;
  /** Present when editing; absent when creating. */
  object?: ReqObject;
  /** Placement for a create. */
  parentId?: string | null;
  position?: number;
  defaultClassification: Classification;
}

function attrControl(def: AttributeDefinition, value: AttrValue | undefined): HTMLElement {
  const current = attrToInput(def, value);
  const type = def.data_type === "boolean" ? "bool" : def.data_type;
  if (type === "enum") {
    const selected = new Set(Array.isArray(current) ? current : [current]);
    const sel = h(
      "select",
      { name: `attr:${def.name}`, multiple: def.multi_select },
      def.multi_select ? null : h("option", { value: "" }, "—"),
      (def.enum_values ?? []).map((v) => h("option", { value: v }, v)),
    );
    // Select after the options are in place: selection set while building is not reliable everywhere.
    for (const o of Array.from(sel.options)) o.selected = selected.has(o.value);
    return sel;
  }
  if (type === "bool") {
    const sel = h(
      "select",
      { name: `attr:${def.name}` },
      h("option", { value: "" }, "—"),
      h("option", { value: "true" }, "yes"),
      h("option", { value: "false" }, "no"),
    );
    sel.value = String(current);
    return sel;
  }
  if (type === "rich_text") return h("textarea", { name: `attr:${def.name}`, rows: 3, value: String(current) });
  const inputType = type === "integer" || type === "float" ? "number" : type === "date" ? "date" : "text";
  return h("input", {
    name: `attr:${def.name}`,
    type: inputType,
    step: type === "integer" ? "1" : type === "float" ? "any" : null,
    value: String(current),
  });
}

function readControl(el: HTMLElement): string | string[] {
  if (el instanceof HTMLSelectElement && el.multiple) return Array.from(el.selectedOptions).map((o) => o.value);
  return (el as HTMLInputElement).value;
}

/**
 * Build the form. `onDone(obj)` runs after a successful save with the server's object,
 * `onCancel` when the user abandons it.
 */
export function objectForm(
  ctx: Ctx,
  target: FormTarget,
  defs: AttributeDefinition[],
  onDone: (obj: ReqObject) => void,
  onCancel: () => void,
): HTMLFormElement {
  const obj = target.object;
  const heading = h("input", { name: "heading", value: obj?.heading ?? "", maxlength: 1000 });
  const classification = h(
    "select",
    { name: "classification" },
    (["normative", "informative", "heading"] as const).map((c) => h("option", { value: c }, c)),
  );
  classification.value = obj?.classification ?? target.defaultClassification;
  const body = h("textarea", { name: "body", rows: 6, value: obj?.body ?? "" });
  const controls = defs.map((d) => ({ def: d, el: attrControl(d, obj?.attributes?.[d.name]) }));
  const conflict = h("div", { class: "conflict", role: "alert", hidden: true });
  const save = h("button", { type: "submit", class: "primary" }, obj ? "Save" : "Create");
  const cancel = h("button", { type: "button" }, "Cancel");
  cancel.addEventListener("click", onCancel);

  const form = h(
    "form",
    { class: "obj-form", "aria-label": obj ? `Edit object ${obj.level}` : "New object" },
    h(
      "div",
      { class: "row" },
      field("Heading", heading),
      field("Classification", classification),
    ),
    field("Body (HTML: paragraphs, lists, tables, links; the server sanitizes it)", body),
    controls.length
      ? h(
          "fieldset",
          { class: "attrs" },
          h("legend", null, "Attributes"),
          controls.map(({ def, el }) => field(`${def.name} (${def.data_type}${def.multi_select ? ", multiple" : ""})`, el)),
        )
      : null,
    conflict,
    h("div", { class: "actions" }, save, cancel),
  );
  form.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") onCancel();
  });

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    conflict.hidden = true;
    const edited: Record<string, AttrValue> = {};
    try {
      for (const { def, el } of controls) edited[def.name] = coerceAttr(def, readControl(el));
    } catch (err) {
      if (err instanceof AttrInputError) {
        toast(err.message, "error");
        return;
      }
      throw err;
    }
    const payload = {
      heading: heading.value.trim() || null,
      body: body.value.trim() || null,
      classification: classification.value as Classification,
      attributes: mergeAttributes(obj?.attributes ?? null, edited),
    };
    save.disabled = true;
    try {
      const saved = obj
        ? await ctx.api.updateObject(target.moduleId, obj.id, { ...payload, expected_version: obj.current_version })
        : await ctx.api.createObject(target.moduleId, {
            ...payload,
            parent_id: target.parentId ?? null,
            position: target.position,
          });
      onDone(saved);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409 && obj) {
        showConflict(ctx, conflict, target, err, onDone);
      } else {
        errorToast(err, obj ? "Saving failed" : "Creating failed");
      }
    } finally {
      save.disabled = false;
    }
  });
  queueMicrotask(() => heading.focus());
  return form;
}

/** Explain a version conflict and offer to load the other person's version. */
function showConflict(ctx: Ctx, box: HTMLElement, target: FormTarget, err: ApiError, onDone: (o: ReqObject) => void): void {
  const reload = h("button", { type: "button" }, "Discard my changes and load the latest version");
  reload.addEventListener("click", () =>
    busy(reload, async () => {
      if (target.object) onDone(await ctx.api.getObject(target.moduleId, target.object.id));
    }),
  );
  box.replaceChildren(
    h("strong", null, "Someone else changed this object while you were editing."),
    h("p", null, err.message),
    h("p", null, "Your changes are still in the form. Copy what you need, then load the latest version and apply them again."),
    reload,
  );
  box.hidden = false;
}
