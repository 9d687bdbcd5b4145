// Baselines: list, create (a frozen snapshot of the module), and a diff between two.

import type { AttrValue, DiffEntry, DiffModified } from "../api/types";
import { h, replace } from "../lib/dom";
import { formatTime, shortId } from "../lib/format";
import { changesBetween, formatValue } from "../lib/history";
import { plainText, renderRichText } from "../lib/richtext";
import { navigate } from "../router";
import { busy, crumbs, empty, field, hasRole, link, loading, moduleCrumbs, type Ctx } from "../ui/common";
import { toast } from "../ui/toast";

async function heads(ctx: Ctx, ws: string, p: string, m: string) {
  const [workspace, project, module] = await Promise.all([ctx.api.getWorkspace(ws), ctx.api.getProject(ws, p), ctx.api.getModule(m)]);
  return { workspace, project, module };
}

export async function renderBaselines(ctx: Ctx, root: HTMLElement, ws: string, p: string, m: string): Promise<void> {
  replace(root, loading());
  const [{ workspace, project, module }, page, users] = await Promise.all([
    heads(ctx, ws, p, m),
    ctx.api.baselines(m),
    ctx.api
      .listUsers()
      .then((pg) => new Map(pg.items.map((u) => [u.id, u.display_name || u.email])))
      .catch(() => new Map<string, string>()),
  ]);
  const items = page.items;
  const a = h("select", { name: "a", required: true }, items.map((b) => h("option", { value: b.id }, `${b.name} (${formatTime(b.created_at)})`)));
  a.selectedIndex = items.length > 1 ? 1 : 0; // the previous baseline vs…
  const b = h("select", { name: "b", required: true }, items.map((bl) => h("option", { value: bl.id }, `${bl.name} (${formatTime(bl.created_at)})`)));
  b.selectedIndex = 0; // …the newest
  const diffForm = h("form", { class: "inline-form" }, h("h2", null, "Compare"), field("Older (A)", a), field("Newer (B)", b), h("button", { type: "submit", class: "primary" }, "Show differences"));
  diffForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    navigate({ name: "diff", ws, p, m, a: a.value, b: b.value });
  });

  const name = h("input", { name: "name", required: true, maxlength: 200 });
  const description = h("input", { name: "description", maxlength: 2000 });
  const submit = h("button", { type: "submit", class: "primary" }, "Create baseline");
  const createForm = h("form", { class: "inline-form" }, h("h2", null, "New baseline"), field("Name", name, "Freezes the current version of every object"), field("Description", description), submit);
  createForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const created = await busy(submit, () => ctx.api.createBaseline(m, name.value.trim(), description.value.trim()), "Create baseline");
    if (created) {
      toast(`Baseline “${created.name}” created`, "success");
      ctx.refresh();
    }
  });

  replace(root, 
    moduleCrumbs({ ws, p, m }, { workspace: workspace.name, project: project.name, module: module.name }, "Baselines"),
    h("h1", null, `Baselines of ${module.name}`),
    items.length === 0
      ? empty("No baselines yet.")
      : h(
          "table",
          { class: "grid" },
          h("thead", null, h("tr", null, ["Name", "Description", "Created", "By"].map((c) => h("th", { scope: "col" }, c)))),
          h(
            "tbody",
            null,
            items.map((bl) =>
              h(
                "tr",
                null,
                h("td", null, h("strong", null, bl.name), bl.locked ? h("span", { class: "badge", title: "Baselines are immutable" }, "locked") : null),
                h("td", null, bl.description ?? ""),
                h("td", null, formatTime(bl.created_at)),
                h("td", null, bl.created_by ? users.get(bl.created_by) ?? shortId(bl.created_by) : "—"),
              ),
            ),
          ),
        ),
    items.length >= 2 ? diffForm : null,
    hasRole(ctx, "editor") ? createForm : null,
  );
}

type Row = { field: string; before: string; after: string };

function attrRows(a: Record<string, AttrValue> | null, b: Record<string, AttrValue> | null): Row[] {
  const changes = changesBetween(
    { attribute_values: a, heading: null, body: null } as never,
    { attribute_values: b, heading: null, body: null } as never,
  );
  return changes.map((c) => ({ field: c.field.replace(/^attributes\./, ""), before: formatValue(c.before), after: formatValue(c.after) }));
}

function changeTable(rows: Row[]): HTMLElement {
  return h(
    "table",
    { class: "changes fixed" },
    h("colgroup", null, h("col", { class: "c-field" }), h("col", null), h("col", null)),
    h("thead", null, h("tr", null, h("th", { scope: "col" }, "Field"), h("th", { scope: "col" }, "Before (A)"), h("th", { scope: "col" }, "After (B)"))),
    h("tbody", null, rows.map((r) => h("tr", null, h("th", { scope: "row" }, r.field), h("td", { class: "before" }, r.before || "—"), h("td", { class: "after" }, r.after || "—")))),
  );
}

type LevelOf = (id: string) => string | null;

function title(heading: string | null, level: string | null, note: string): HTMLElement {
  return h("h3", null, level ? h("span", { class: "level" }, level) : null, level ? " " : null, heading ?? "(no heading)", h("small", { class: "muted" }, ` ${note}`));
}

function entryCard(e: DiffEntry, kind: "added" | "removed", levelOf: LevelOf): HTMLElement {
  const body = h("div", { class: "obj-body" });
  body.appendChild(renderRichText(e.body));
  const attrs = Object.entries(e.attributes ?? {}).filter(([, v]) => v !== null);
  return h(
    "li",
    { class: `diff-${kind}` },
    title(e.heading, levelOf(e.object_id), `v${e.version}`),
    body,
    attrs.length ? h("dl", { class: "obj-attrs" }, attrs.map(([k, v]) => h("div", null, h("dt", null, k), h("dd", null, formatValue(v))))) : null,
  );
}

function modifiedCard(d: DiffModified, levelOf: LevelOf): HTMLElement {
  const rows: Row[] = [];
  if ((d.heading_a ?? "") !== (d.heading_b ?? "")) rows.push({ field: "heading", before: d.heading_a ?? "", after: d.heading_b ?? "" });
  const bodyA = plainText(d.body_a);
  const bodyB = plainText(d.body_b);
  if (bodyA !== bodyB || (d.body_a ?? "") !== (d.body_b ?? "")) rows.push({ field: "body", before: bodyA, after: bodyB });
  rows.push(...attrRows(d.attributes_a, d.attributes_b));
  return h("li", { class: "diff-modified" }, title(d.heading_b ?? d.heading_a, levelOf(d.object_id), `v${d.version_a} → v${d.version_b}`), changeTable(rows));
}

export async function renderDiff(ctx: Ctx, root: HTMLElement, ws: string, p: string, m: string, a: string, b: string): Promise<void> {
  replace(root, loading());
  const [{ workspace, project, module }, page, diff, objects] = await Promise.all([
    heads(ctx, ws, p, m),
    ctx.api.baselines(m),
    ctx.api.baselineDiff(m, a, b),
    ctx.api.listAllObjects(m).catch(() => []),
  ]);
  const levels = new Map(objects.map((o) => [o.id, o.level]));
  const levelOf: LevelOf = (id) => levels.get(id) ?? null;
  const nameOf = (id: string) => page.items.find((x) => x.id === id)?.name ?? shortId(id);
  const section = (title: string, n: number, list: HTMLElement[]) =>
    h("section", { class: "diff-section" }, h("h2", null, `${title} (${n})`), n ? h("ul", { class: "diff-list" }, list) : h("p", { class: "muted" }, "None."));
  replace(root, 
    crumbs(
      link({ name: "workspaces" }, "Workspaces"),
      link({ name: "workspace", ws }, workspace.name),
      link({ name: "project", ws, p }, project.name),
      link({ name: "module", ws, p, m }, module.name),
      link({ name: "baselines", ws, p, m }, "Baselines"),
      "Diff",
    ),
    h("h1", null, `${nameOf(a)} → ${nameOf(b)}`),
    section("Added", diff.added.length, diff.added.map((e) => entryCard(e, "added", levelOf))),
    section("Removed", diff.removed.length, diff.removed.map((e) => entryCard(e, "removed", levelOf))),
    section("Modified", diff.modified.length, diff.modified.map((d) => modifiedCard(d, levelOf))),
  );
}
