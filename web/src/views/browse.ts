// Navigation screens: workspaces → projects → modules (plus ReqIF import into a project).

import type { Module, Project, Workspace } from "../api/types";
import { h, replace } from "../lib/dom";
import { formatTime } from "../lib/format";
import { navigate } from "../router";
import { busy, crumbs, empty, field, hasRole, link, loading, type Ctx } from "../ui/common";
import { toast } from "../ui/toast";

function listOf<T extends { id: string; name: string; description: string | null; updated_at: string }>(
  items: T[],
  linkFor: (item: T) => HTMLAnchorElement,
  what: string,
): HTMLElement {
  if (items.length === 0) return empty(`No ${what} yet.`);
  return h(
    "ul",
    { class: "cards" },
    items.map((it) =>
      h(
        "li",
        { class: "card" },
        h("h2", null, linkFor(it)),
        it.description ? h("p", null, it.description) : null,
        h("small", { class: "muted" }, `updated ${formatTime(it.updated_at)}`),
      ),
    ),
  );
}

/** A collapsible "create" form with name + description; `extra` adds fields. */
function createForm(title: string, onCreate: (name: string, description: string, extra: Record<string, string>) => Promise<void>, extraFields: [string, string, string?][] = []): HTMLElement {
  const name = h("input", { name: "name", required: true, maxlength: 200 });
  const description = h("input", { name: "description", maxlength: 2000 });
  const extras = extraFields.map(([key, label, hint]) => ({ key, input: h("input", { name: key, maxlength: 40 }), label, hint }));
  const submit = h("button", { type: "submit", class: "primary" }, "Create");
  const form = h(
    "form",
    { class: "inline-form" },
    field("Name", name),
    extras.map((x) => field(x.label, x.input, x.hint)),
    field("Description", description),
    submit,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!name.value.trim()) return;
    const extra = Object.fromEntries(extras.map((x) => [x.key, x.input.value.trim()]));
    await busy(submit, () => onCreate(name.value.trim(), description.value.trim(), extra));
  });
  return h("details", { class: "create" }, h("summary", null, title), form);
}

export async function renderWorkspaces(ctx: Ctx, root: HTMLElement): Promise<void> {
  replace(root, loading());
  const page = await ctx.api.listWorkspaces();
  replace(root, 
    crumbs("Workspaces"),
    h("h1", null, "Workspaces"),
    listOf<Workspace>(page.items, (w) => link({ name: "workspace", ws: w.id }, w.name), "workspaces"),
    hasRole(ctx, "admin")
      ? createForm("New workspace", async (name, description) => {
          const ws = await ctx.api.createWorkspace(name, description);
          toast(`Workspace “${ws.name}” created`, "success");
          navigate({ name: "workspace", ws: ws.id });
        })
      : null,
  );
}

export async function renderWorkspace(ctx: Ctx, root: HTMLElement, ws: string): Promise<void> {
  replace(root, loading());
  const [workspace, page] = await Promise.all([ctx.api.getWorkspace(ws), ctx.api.listProjects(ws)]);
  replace(root, 
    crumbs(link({ name: "workspaces" }, "Workspaces"), workspace.name),
    h("h1", null, workspace.name),
    workspace.description ? h("p", { class: "lead" }, workspace.description) : null,
    h("nav", { class: "module-tools workspace-tools", "aria-label": "Workspace" }, link({ name: "members", ws }, "Members")),
    h("h2", null, "Projects"),
    listOf<Project>(page.items, (p) => link({ name: "project", ws, p: p.id }, p.name), "projects"),
    hasRole(ctx, "admin")
      ? createForm("New project", async (name, description) => {
          const p = await ctx.api.createProject(ws, name, description);
          toast(`Project “${p.name}” created`, "success");
          navigate({ name: "project", ws, p: p.id });
        })
      : null,
  );
}

function reqifImport(ctx: Ctx, ws: string, p: string): HTMLElement {
  const file = h("input", { type: "file", name: "file", accept: ".reqif,.reqifz,.xml,.zip", required: true });
  const submit = h("button", { type: "submit", class: "primary" }, "Import");
  const form = h("form", { class: "inline-form" }, field("ReqIF file (.reqif or .reqifz)", file), submit);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) return;
    const res = await busy(submit, () => ctx.api.importReqif(p, chosen), "ReqIF import");
    if (!res) return;
    toast(
      `Imported ${res.objects_created} objects, ${res.links_created} links into ${res.module_ids.length} module(s)`,
      "success",
    );
    navigate({ name: "module", ws, p, m: res.module_ids[0] ?? res.module_id });
  });
  return h("details", { class: "create" }, h("summary", null, "Import ReqIF"), form);
}

export async function renderProject(ctx: Ctx, root: HTMLElement, ws: string, p: string): Promise<void> {
  replace(root, loading());
  const [workspace, project, page] = await Promise.all([ctx.api.getWorkspace(ws), ctx.api.getProject(ws, p), ctx.api.listModules(p)]);
  const canEdit = hasRole(ctx, "editor");
  replace(root, 
    crumbs(link({ name: "workspaces" }, "Workspaces"), link({ name: "workspace", ws }, workspace.name), project.name),
    h("h1", null, project.name),
    project.description ? h("p", { class: "lead" }, project.description) : null,
    h("h2", null, "Modules"),
    listOf<Module>(page.items, (m) => link({ name: "module", ws, p, m: m.id }, m.name, m.prefix ? h("span", { class: "tag" }, m.prefix) : null), "modules"),
    canEdit
      ? createForm(
          "New module",
          async (name, description, extra) => {
            const m = await ctx.api.createModule(p, name, extra.prefix, description);
            toast(`Module “${m.name}” created`, "success");
            navigate({ name: "module", ws, p, m: m.id });
          },
          [["prefix", "Prefix", "e.g. SYS — shown before object numbers"]],
        )
      : null,
    canEdit ? reqifImport(ctx, ws, p) : null,
  );
}
