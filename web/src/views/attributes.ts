// Attribute definitions of a module: what typed attributes its objects can carry.
// Listed in a collapsible section of the module view; editors can add new ones.

import type { AttributeDefinition } from "../api/types";
import { h, replace } from "../lib/dom";
import { busy, field, hasRole, type Ctx } from "../ui/common";
import { toast } from "../ui/toast";

const TYPES = ["string", "integer", "float", "date", "bool", "enum", "rich_text", "user_ref"] as const;

export function attributeSection(ctx: Ctx, moduleId: string, defs: AttributeDefinition[], onChange: () => Promise<void>): HTMLElement {
  const table = defs.length
    ? h(
        "table",
        { class: "grid" },
        h("thead", null, h("tr", null, ["Name", "Type", "Values", "Default", "Scope"].map((c) => h("th", { scope: "col" }, c)))),
        h(
          "tbody",
          null,
          defs.map((d) =>
            h(
              "tr",
              null,
              h("td", null, h("strong", null, d.name)),
              h("td", null, d.data_type, d.multi_select ? " (multiple)" : ""),
              h("td", null, (d.enum_values ?? []).join(", ")),
              h("td", null, d.default_value ?? ""),
              h("td", null, d.module_id ? "module" : "global"),
            ),
          ),
        ),
      )
    : h("p", { class: "muted" }, "No attribute definitions yet.");

  let form: HTMLElement | null = null;
  if (hasRole(ctx, "editor")) {
    const name = h("input", { name: "name", required: true, maxlength: 200 });
    const type = h("select", { name: "data_type" }, TYPES.map((t) => h("option", { value: t }, t)));
    const values = h("input", { name: "enum_values", placeholder: "low, medium, high" });
    const multi = h("input", { type: "checkbox", name: "multi_select" });
    const enumFields = h("div", { hidden: true }, field("Allowed values (comma-separated)", values), h("label", { class: "check" }, multi, " multiple values"));
    type.addEventListener("change", () => {
      enumFields.hidden = type.value !== "enum";
    });
    const submit = h("button", { type: "submit", class: "primary small" }, "Add attribute");
    form = h("form", { class: "inline-form" }, h("div", { class: "row" }, field("Name", name), field("Type", type)), enumFields, submit);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const isEnum = type.value === "enum";
      const input = {
        name: name.value.trim(),
        data_type: type.value,
        enum_values: isEnum ? values.value.split(",").map((v) => v.trim()).filter(Boolean) : undefined,
        multi_select: isEnum ? multi.checked : undefined,
      };
      const created = await busy(submit, () => ctx.api.createAttributeDefinition(moduleId, input), "Add attribute");
      if (created) {
        toast(`Attribute “${created.name}” added`, "success");
        await onChange();
      }
    });
  }
  const section = h("details", { class: "attr-defs" }, h("summary", null, `Attribute definitions (${defs.length})`));
  replace(section, section.firstChild, table, form);
  return section;
}
