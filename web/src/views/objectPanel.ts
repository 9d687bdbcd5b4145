// Side panel for the selected object: details and review, links (suspect markers,
// clearing, creating), impact, comments, attachments and the attribute-level history.

import type { ImpactObject, LifecycleModel, Link, ObjectType, ReqObject } from "../api/types";
import { h, replace } from "../lib/dom";
import { formatTime, shortId } from "../lib/format";
import { formatValue, historyWithChanges } from "../lib/history";
import { plainText } from "../lib/richtext";
import { needsReview } from "../lib/tree";
import { hrefOf } from "../router";
import { busy, button, field, hasRole, loading, onLeave, type Ctx } from "../ui/common";
import { toast } from "../ui/toast";
import { renderAttachments } from "./attachments";
import { renderComments } from "./comments";
import { renderImpact } from "./impact";
import { lifecycleFacts, modelOf } from "./lifecycle";
import type { ModuleData } from "./module";
import { typeFacts } from "./objectTypes";

export interface PanelHooks {
  reload: () => Promise<void>;
  close: () => void;
  select: (id: string) => void;
  /** A comment or attachment of the object was added, changed or removed. */
  countsChanged?: () => void;
}

type Tab = "details" | "links" | "impact" | "comments" | "attachments" | "history";
let lastTab: Tab = "details";

export async function renderObjectPanel(ctx: Ctx, panel: HTMLElement, data: ModuleData, obj: ReqObject, hooks: PanelHooks): Promise<void> {
  const body = h("div", { class: "panel-body", role: "tabpanel" });
  const tabs: Record<Tab, HTMLButtonElement> = {
    details: h("button", { type: "button", role: "tab" }, "Details"),
    links: h("button", { type: "button", role: "tab" }, "Links"),
    impact: h("button", { type: "button", role: "tab" }, "Impact"),
    comments: h("button", { type: "button", role: "tab" }, "Comments"),
    attachments: h("button", { type: "button", role: "tab" }, "Attachments"),
    history: h("button", { type: "button", role: "tab" }, "History"),
  };
  const show = (tab: Tab): void => {
    lastTab = tab;
    for (const [name, btn] of Object.entries(tabs)) btn.setAttribute("aria-selected", String(name === tab));
    if (tab === "details") void detailsTab(ctx, body, data, obj, hooks);
    else if (tab === "links") void links(ctx, body, data, obj, hooks);
    else if (tab === "impact") renderImpact(ctx, body, data, obj, hooks.select);
    else if (tab === "comments") void renderComments(ctx, body, obj, data.users, hooks.countsChanged);
    else if (tab === "attachments") void renderAttachments(ctx, body, obj, hooks.countsChanged);
    else void historyTab(ctx, body, data, obj);
  };
  for (const [name, btn] of Object.entries(tabs)) btn.addEventListener("click", () => show(name as Tab));
  const close = button("×", hooks.close, { class: "icon", "aria-label": "Close panel", title: "Close" });
  replace(
    panel,
    h("header", { class: "panel-head" }, h("h2", null, h("span", { class: "level" }, obj.level), " ", obj.heading ?? "(no heading)"), close),
    h("div", { class: "tabs", role: "tablist" }, Object.values(tabs)),
    body,
  );
  show(lastTab);
}

// One request per module and screen, not one per object opened: panels open on every selection.
const modelCache = new Map<string, Promise<LifecycleModel[]>>();
const typeCache = new Map<string, Promise<ObjectType[]>>();

function cachedPerScreen<T>(cache: Map<string, Promise<T[]>>, moduleId: string, load: () => Promise<T[]>): Promise<T[]> {
  let items = cache.get(moduleId);
  if (!items) {
    if (cache.size === 0) onLeave(() => cache.clear());
    items = Promise.resolve().then(load).catch(() => []);
    cache.set(moduleId, items);
  }
  return items;
}

function lifecycleModelsOf(ctx: Ctx, moduleId: string): Promise<LifecycleModel[]> {
  return cachedPerScreen(modelCache, moduleId, () => ctx.api.listLifecycleModels(moduleId));
}

function objectTypesOf(ctx: Ctx, moduleId: string): Promise<ObjectType[]> {
  return cachedPerScreen(typeCache, moduleId, async () => (await ctx.api.listObjectTypes(moduleId)).items);
}

async function detailsTab(ctx: Ctx, body: HTMLElement, data: ModuleData, obj: ReqObject, hooks: PanelHooks): Promise<void> {
  const facts = details(ctx, data, obj, hooks);
  replace(body, facts);
  // Lifecycle models and object types are per module and few; without any, the panel shows no row for them.
  const [models, types] = await Promise.all([lifecycleModelsOf(ctx, data.module.id), objectTypesOf(ctx, data.module.id)]);
  if (types.length || obj.object_type_id) facts.insertBefore(typeFacts(ctx, obj, types, hooks.reload), facts.children[3] ?? null);
  const model = modelOf(obj, models, data.module.default_lifecycle_model_id);
  if (model || obj.lifecycle_state) facts.insertBefore(lifecycleFacts(ctx, obj, model, hooks.reload), facts.children[3] ?? null);
}

function details(ctx: Ctx, data: ModuleData, obj: ReqObject, hooks: PanelHooks): HTMLElement {
  const who = (id: string | null) => (id ? data.users.get(id) ?? shortId(id) : "—");
  const reviewBtn = hasRole(ctx, "reviewer")
    ? button(needsReview(obj) ? "Mark as reviewed" : "Clear review", async (ev) => {
        const reviewed = needsReview(obj);
        const done = await busy(ev.currentTarget as HTMLElement, () =>
          ctx.api.updateObject(data.module.id, obj.id, { reviewed, expected_version: obj.current_version }), "Review");
        if (done) {
          toast(reviewed ? `Marked ${obj.level} as reviewed` : `Cleared review of ${obj.level}`, "success");
          await hooks.reload();
        }
      }, { class: "small" })
    : null;
  return h(
    "dl",
    { class: "facts" },
    h("div", null, h("dt", null, "ID"), h("dd", null, h("code", null, obj.id))),
    h("div", null, h("dt", null, "Version"), h("dd", null, String(obj.current_version))),
    h("div", null, h("dt", null, "Classification"), h("dd", null, obj.classification)),
    h(
      "div",
      null,
      h("dt", null, "Review"),
      h("dd", null, needsReview(obj) ? "needs review" : `reviewed by ${who(obj.reviewed_by)} at ${formatTime(obj.reviewed_at)}`, " ", reviewBtn),
    ),
    h("div", null, h("dt", null, "Created"), h("dd", null, formatTime(obj.created_at))),
    h("div", null, h("dt", null, "Updated"), h("dd", null, formatTime(obj.updated_at))),
    h("div", null, h("dt", null, "Fingerprint"), h("dd", null, h("code", { title: obj.content_fingerprint }, obj.content_fingerprint.slice(0, 16) + "…"))),
  );
}

async function links(ctx: Ctx, body: HTMLElement, data: ModuleData, obj: ReqObject, hooks: PanelHooks): Promise<void> {
  replace(body, loading());
  const [out, inc] = await Promise.all([ctx.api.linksFrom(obj.id), ctx.api.linksTo(obj.id)]).catch((err) => {
    replace(body, h("p", { class: "form-error" }, String((err as Error).message)));
    return [null, null];
  });
  if (!out || !inc) return;
  const typeName = (id: string) => data.linkTypes.find((t) => t.id === id)?.name ?? shortId(id);
  const byId = new Map(data.objects.map((o) => [o.id, o]));
  // Ends in other modules: one impact query (depth 1) names them; without it, show the ID.
  const foreign = [...out.items.map((l) => l.target_object_id), ...inc.items.map((l) => l.source_object_id)].filter((id) => !byId.has(id));
  const remote = new Map<string, ImpactObject>();
  if (foreign.length) {
    const impact = await ctx.api.impact(obj.id).catch(() => null);
    for (const o of impact?.objects ?? []) remote.set(o.id, o);
  }
  const other = (id: string) => {
    const o = byId.get(id);
    const r = remote.get(id);
    if (!o && r) {
      return h(
        "a",
        { href: hrefOf({ name: "module", ws: data.ws, p: data.p, m: r.module_id, object: r.id }), dataset: { route: "1" }, title: id },
        h("span", { class: "level" }, r.level),
        " ",
        r.heading ?? "(no heading)",
        h("small", { class: "muted" }, " (other module)"),
      );
    }
    if (!o) return h("span", { title: id }, h("code", null, shortId(id)), h("small", { class: "muted" }, " (other module)"));
    const b = h("button", { type: "button", class: "link" }, h("span", { class: "level" }, o.level), " ", o.heading ?? "");
    b.addEventListener("click", () => hooks.select(o.id));
    return b;
  };
  const row = (l: Link, outgoing: boolean) =>
    h(
      "li",
      { class: l.suspect ? "suspect" : "" },
      l.suspect ? h("span", { class: "badge suspect", title: "An end changed since the link was last confirmed" }, "⚠ suspect") : null,
      " ",
      h("span", { class: "link-type" }, outgoing ? `${typeName(l.link_type_id)} → ` : `${typeName(l.link_type_id)} ← `),
      other(outgoing ? l.target_object_id : l.source_object_id),
      h(
        "span",
        { class: "link-actions" },
        l.suspect && hasRole(ctx, "reviewer")
          ? button("Clear suspect", async (ev) => {
              if (await busy(ev.currentTarget as HTMLElement, () => ctx.api.clearSuspect(l.id), "Clear suspect")) {
                toast("Link confirmed", "success");
                await hooks.reload();
              }
            }, { class: "small" })
          : null,
        hasRole(ctx, "editor")
          ? button("Remove", async (ev) => {
              if (!window.confirm("Remove this link?")) return;
              const ok = await busy(ev.currentTarget as HTMLElement, async () => {
                await ctx.api.deleteLink(l.id);
                return true;
              }, "Remove link");
              if (ok) await hooks.reload();
            }, { class: "small danger" })
          : null,
      ),
    );
  replace(
    body,
    h("h3", null, `Outgoing (${out.items.length})`),
    out.items.length ? h("ul", { class: "links" }, out.items.map((l) => row(l, true))) : h("p", { class: "muted" }, "None."),
    h("h3", null, `Incoming (${inc.items.length})`),
    inc.items.length ? h("ul", { class: "links" }, inc.items.map((l) => row(l, false))) : h("p", { class: "muted" }, "None."),
    hasRole(ctx, "editor") ? newLinkForm(ctx, data, obj, hooks) : null,
  );
}

function newLinkForm(ctx: Ctx, data: ModuleData, obj: ReqObject, hooks: PanelHooks): HTMLElement {
  const type = h("select", { name: "link_type_id", required: true }, data.linkTypes.map((t) => h("option", { value: t.id }, t.name)));
  const target = h(
    "select",
    { name: "target" },
    h("option", { value: "" }, "— choose an object in this module —"),
    data.objects.filter((o) => o.id !== obj.id && !o.deleted_at).map((o) => h("option", { value: o.id }, `${o.level} ${o.heading ?? ""}`)),
  );
  const otherId = h("input", { name: "target_id", placeholder: "or paste an object ID from another module", pattern: "[0-9a-fA-F-]{36}" });
  const submit = h("button", { type: "submit", class: "primary small" }, "Add link");
  const form = h("form", { class: "inline-form" }, h("h3", null, "New outgoing link"), field("Type", type), field("Target", target), field("Other target ID", otherId), submit);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const targetId = otherId.value.trim() || target.value;
    if (!targetId) {
      toast("Choose a target object", "error");
      return;
    }
    if (await busy(submit, () => ctx.api.createLink(obj.id, targetId, type.value), "Add link")) {
      toast("Link created", "success");
      await hooks.reload();
    }
  });
  return form;
}

async function historyTab(ctx: Ctx, body: HTMLElement, data: ModuleData, obj: ReqObject): Promise<void> {
  replace(body, loading());
  let rows;
  try {
    rows = (await ctx.api.objectHistory(data.module.id, obj.id)).items;
  } catch (err) {
    replace(body, h("p", { class: "form-error" }, (err as Error).message));
    return;
  }
  const who = (id: string | null) => (id ? data.users.get(id) ?? shortId(id) : "—");
  const text = (v: unknown, field: string) => (field === "body" ? plainText(v as string) || "—" : formatValue(v as never));
  replace(
    body,
    h(
      "ol",
      { class: "history" },
      historyWithChanges(rows).map(({ row, changes }) =>
        h(
          "li",
          null,
          h("div", { class: "history-head" }, h("strong", null, `v${row.version}`), " ", h("span", { class: `badge ct-${row.change_type}` }, row.change_type), " ", h("span", { class: "muted" }, `${who(row.changed_by)} · ${formatTime(row.changed_at)}`)),
          changes.length && row.change_type !== "create"
            ? h(
                "table",
                { class: "changes" },
                h("thead", null, h("tr", null, h("th", { scope: "col" }, "Field"), h("th", { scope: "col" }, "Before"), h("th", { scope: "col" }, "After"))),
                h(
                  "tbody",
                  null,
                  changes.map((c) => h("tr", null, h("th", { scope: "row" }, c.field), h("td", { class: "before" }, text(c.before, c.field)), h("td", { class: "after" }, text(c.after, c.field)))),
                ),
              )
            : row.change_type === "create"
              ? h("p", { class: "muted" }, "created")
              : h("p", { class: "muted" }, row.change_type === "move" ? "moved in the document" : "no content change"),
        ),
      ),
    ),
  );
}
