// Change proposals of a module (extended contract §4): each proposal lists the changes it would make to
// objects (field, its value when proposed, the proposed value); its buttons are the moves its status allows on the server's graph,
// `apply` edits every object of an approved proposal at once. Reviewers and up propose; a refusal (a role, a
// stale value at apply) is shown as the server words it.

import type { AppUser, AttrValue, AttributeDefinition, ChangeProposal, Classification, ProposalChange, ProposalStatus, ReqObject, Role } from "../api/types";
import { AttrInputError, attrToInput, coerceAttr } from "../lib/attrs";
import { h, replace } from "../lib/dom";
import { formatTime, shortId } from "../lib/format";
import { plainText } from "../lib/richtext";
import { busy, button, currentRole, empty, field, hasRole, loading, moduleCrumbs, roleAtLeast, type Ctx } from "../ui/common";
import { toast } from "../ui/toast";
import { CLASSIFICATIONS } from "./objectTypes";

/** The proposal status graph of the server (domain/change_proposals.py); `applied` is reached through apply. */
export const GRAPH: Record<ProposalStatus, ProposalStatus[]> = {
  draft: ["submitted", "approved", "rejected"],
  submitted: ["in_review", "approved", "rejected", "draft"],
  in_review: ["approved", "rejected"],
  approved: ["applied", "rejected"],
  rejected: ["draft"],
  applied: [],
};
const REVIEWER_MOVES: ProposalStatus[] = ["submitted", "in_review", "approved", "rejected"];
export const PLAIN_FIELDS = ["heading", "body", "classification", "lifecycle_state"] as const;
const ATTRIBUTE = "attributes.";

export interface Action {
  /** `apply` runs the proposal's changes; `move` only changes its status. */
  kind: "move" | "apply";
  to: ProposalStatus;
  label: string;
  /** Why this user may not (shown on the disabled button), or null. */
  refusal: string | null;
}

/** Who may move a proposal to `to`: reviewer+ for review moves, editor+ for applied, else its author or an editor+. */
export function mayMove(user: Pick<AppUser, "id" | "role"> | undefined, p: Pick<ChangeProposal, "author_id">, to: ProposalStatus): string | null {
  const need = (role: Role) => (roleAtLeast(user?.role, role) ? null : `needs the ${role} role`);
  if (REVIEWER_MOVES.includes(to)) return need("reviewer");
  if (to === "applied") return need("editor");
  return user && (user.id === p.author_id || roleAtLeast(user.role, "editor")) ? null : "only its author or an editor";
}

/** The buttons of a proposal in its current status, in the graph's order. */
export function actionsFor(p: Pick<ChangeProposal, "status" | "author_id">, user: Pick<AppUser, "id" | "role"> | undefined): Action[] {
  return (GRAPH[p.status] ?? []).map((to) => ({
    kind: to === "applied" ? "apply" : "move",
    to,
    label: to === "applied" ? "Apply" : `→ ${to}`,
    refusal: mayMove(user, p, to),
  }));
}

/** The changes of a `diff_data` value (an array, or `{}` for none). */
export function changesOf(diff: ChangeProposal["diff_data"] | null | undefined): ProposalChange[] {
  return Array.isArray(diff) ? diff : [];
}

/** The value a change's `field` has in the object now (the proposal's `old_value`). */
export function currentValue(obj: ReqObject, fieldName: string): AttrValue {
  if (fieldName.startsWith(ATTRIBUTE)) return obj.attributes?.[fieldName.slice(ATTRIBUTE.length)] ?? null;
  if (fieldName === "heading") return obj.heading;
  if (fieldName === "body") return obj.body;
  if (fieldName === "classification") return obj.classification;
  if (fieldName === "lifecycle_state") return obj.lifecycle_state ?? null;
  throw new AttrInputError(`unsupported field ${fieldName}`);
}

/** What the new-value box shows first for a field: its current value, as typed. */
export function valueInput(obj: ReqObject, fieldName: string, defs: AttributeDefinition[]): string {
  const value = currentValue(obj, fieldName);
  const def = fieldName.startsWith(ATTRIBUTE) ? defs.find((d) => d.name === fieldName.slice(ATTRIBUTE.length)) : undefined;
  if (def) {
    const shown = attrToInput(def, value);
    return Array.isArray(shown) ? shown.join(", ") : shown;
  }
  if (Array.isArray(value)) return value.join(", ");
  return value === null || value === undefined ? "" : String(value);
}

/**
 * One change from the builder: `old_value` is the object's value now (the server refuses apply when it has
 * changed since), `new_value` the typed text converted to the field's wire type; empty text clears the field.
 */
export function changeOf(obj: ReqObject, fieldName: string, raw: string, defs: AttributeDefinition[]): ProposalChange {
  const old = currentValue(obj, fieldName);
  let value: AttrValue;
  if (fieldName.startsWith(ATTRIBUTE)) {
    const name = fieldName.slice(ATTRIBUTE.length);
    const def = defs.find((d) => d.name === name);
    if (!def) value = raw.trim() === "" ? null : raw;
    else value = coerceAttr(def, def.multi_select ? raw.split(",").map((v) => v.trim()).filter(Boolean) : raw);
  } else if (fieldName === "classification") {
    if (!CLASSIFICATIONS.includes(raw.trim() as Classification)) throw new AttrInputError(`classification must be one of ${CLASSIFICATIONS.join(", ")}`);
    value = raw.trim();
  } else {
    value = raw.trim() === "" ? null : raw;
  }
  if (JSON.stringify(value) === JSON.stringify(old)) throw new AttrInputError(`${fieldName} already has that value`);
  return { object_id: obj.id, field: fieldName, old_value: old, new_value: value };
}

/** Add a change to the list; a second change of the same field of the same object replaces the first. */
export function withChange(list: ProposalChange[], change: ProposalChange): ProposalChange[] {
  return [...list.filter((c) => c.object_id !== change.object_id || c.field !== change.field), change];
}

function valueText(v: AttrValue, fieldName: string): string {
  if (v === null || v === undefined) return "—";
  if (fieldName === "body") return plainText(String(v)) || "—";
  return Array.isArray(v) ? v.join(", ") : String(v);
}

function objectLabel(objects: Map<string, ReqObject>, id: string): HTMLElement {
  const o = objects.get(id);
  return o
    ? h("span", null, h("span", { class: "level" }, o.level), " ", o.heading ?? "(no heading)")
    : h("span", { title: id }, h("code", null, shortId(id)), h("small", { class: "muted" }, " (deleted)"));
}

function changesTable(changes: ProposalChange[], objects: Map<string, ReqObject>, onRemove?: (c: ProposalChange) => void): HTMLElement {
  return h(
    "table",
    { class: "changes proposal-changes" },
    h("thead", null, h("tr", null, ["Object", "Field", "Old value", "New value", onRemove ? "" : null].filter((t) => t !== null).map((t) => h("th", { scope: "col" }, t)))),
    h(
      "tbody",
      null,
      changes.map((c) =>
        h(
          "tr",
          null,
          h("th", { scope: "row" }, objectLabel(objects, c.object_id)),
          h("td", null, h("code", null, c.field)),
          h("td", { class: "before" }, valueText(c.old_value, c.field)),
          h("td", { class: "after" }, valueText(c.new_value, c.field)),
          onRemove ? h("td", null, button("Remove", () => onRemove(c), { class: "small", "aria-label": `Remove the change of ${c.field}` })) : null,
        ),
      ),
    ),
  );
}

interface Screen {
  ctx: Ctx;
  moduleId: string;
  objects: Map<string, ReqObject>;
  users: Map<string, string>;
  reload: () => Promise<void>;
}

async function act(s: Screen, p: ChangeProposal, action: Action, trigger: HTMLElement): Promise<void> {
  if (action.kind === "apply") {
    const done = await busy(trigger, () => s.ctx.api.applyChangeProposal(s.moduleId, p.id), `Apply ${p.title}`);
    if (!done) return;
    toast(`Applied ${p.title}: ${done.objects_updated} object${done.objects_updated === 1 ? "" : "s"} updated`, "success");
  } else {
    const done = await busy(trigger, () => s.ctx.api.updateChangeProposal(s.moduleId, p.id, { status: action.to }), p.title);
    if (!done) return;
    toast(`${done.title} is now ${done.status}`, "success");
  }
  await s.reload();
}

function proposalCard(s: Screen, p: ChangeProposal): HTMLElement {
  const session = s.ctx.api.session?.user;
  const role = currentRole(s.ctx);
  const user = session && role ? { id: session.id, role } : undefined;
  const buttons = hasRole(s.ctx, "reviewer") || user?.id === p.author_id
    ? actionsFor(p, user).map((a) =>
        button(a.label, (ev) => void act(s, p, a, ev.currentTarget as HTMLElement), {
          class: a.kind === "apply" ? "small primary" : "small",
          disabled: a.refusal !== null,
          title: a.refusal ?? (a.kind === "apply" ? "edit every object of the proposal now" : `move to ${a.to}`),
        }))
    : [];
  const mayDelete = user && (user.id === p.author_id || hasRole(s.ctx, "editor"));
  const remove = mayDelete
    ? button("Delete", async (ev) => {
        if (!window.confirm(`Delete the change proposal ${p.title}?`)) return;
        if (await busy(ev.currentTarget as HTMLElement, () => s.ctx.api.deleteChangeProposal(s.moduleId, p.id).then(() => true), p.title)) {
          toast(`Deleted ${p.title}`, "success");
          await s.reload();
        }
      }, { class: "small danger" })
    : null;
  const changes = changesOf(p.diff_data);
  return h(
    "section",
    { class: `proposal status-${p.status}`, dataset: { proposal: p.id } },
    h("h2", null, p.title, h("span", { class: `badge status-${p.status}` }, p.status)),
    p.description ? h("p", null, p.description) : null,
    h("p", { class: "muted" }, `Proposed ${formatTime(p.created_at)}${p.author_id ? ` by ${s.users.get(p.author_id) ?? shortId(p.author_id)}` : ""} · ${changes.length} change${changes.length === 1 ? "" : "s"}`),
    changes.length ? changesTable(changes, s.objects) : empty("No changes to objects."),
    buttons.length || remove ? h("div", { class: "toolbar", role: "group", "aria-label": `Actions on ${p.title}` }, buttons, remove) : null,
  );
}

function createForm(s: Screen, objects: ReqObject[], defs: AttributeDefinition[]): HTMLElement {
  let pending: ProposalChange[] = [];
  const title = h("input", { name: "title", required: true, maxlength: 200, autocomplete: "off" });
  const description = h("input", { name: "description", maxlength: 2000, autocomplete: "off" });
  const object = h("select", { name: "object" }, objects.map((o) => h("option", { value: o.id }, `${o.level} ${o.heading ?? "(no heading)"}`)));
  const fields = [...PLAIN_FIELDS, ...defs.map((d) => `${ATTRIBUTE}${d.name}`)];
  const fieldSel = h("select", { name: "field" }, fields.map((f) => h("option", { value: f }, f)));
  const value = h("input", { name: "new_value", autocomplete: "off" });
  const fill = () => {
    const o = s.objects.get(object.value);
    value.value = o ? valueInput(o, fieldSel.value, defs) : "";
  };
  object.addEventListener("change", fill);
  fieldSel.addEventListener("change", fill);
  const list = h("div", { class: "pending-changes" });
  const draw = () =>
    replace(list, pending.length
      ? changesTable(pending, s.objects, (c) => {
          pending = pending.filter((x) => x !== c);
          draw();
        })
      : h("p", { class: "muted" }, "No changes yet: a proposal may also be only a title."));
  const add = button("Add change", () => {
    const o = s.objects.get(object.value);
    if (!o) return void toast("Choose an object", "error");
    try {
      pending = withChange(pending, changeOf(o, fieldSel.value, value.value, defs));
    } catch (err) {
      return void toast((err as Error).message, "error");
    }
    draw();
  }, { class: "small" });
  const builder = objects.length
    ? h("fieldset", { class: "change-builder" }, h("legend", null, "Changes"), field("Object", object), field("Field", fieldSel), field("New value", value, "empty clears the field; several values of a multi-select: comma-separated"), add, list)
    : h("p", { class: "muted" }, "The module has no objects to change yet.");
  const submit = h("button", { type: "submit", class: "primary" }, "Create proposal");
  const form = h("form", { class: "inline-form create-proposal", "aria-label": "New change proposal" }, h("h2", null, "New change proposal"), field("Title", title), field("Description", description), builder, submit);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!title.value.trim()) return void toast("A proposal needs a title", "error");
    const made = await busy(submit, () =>
      s.ctx.api.createChangeProposal(s.moduleId, { title: title.value.trim(), description: description.value.trim() || null, diff_data: pending }), "Change proposal");
    if (made) {
      toast(`Proposed ${made.title} (draft)`, "success");
      await s.reload();
    }
  });
  fill();
  draw();
  return form;
}

export async function renderProposals(ctx: Ctx, root: HTMLElement, ws: string, p: string, m: string): Promise<void> {
  replace(root, loading());
  const [workspace, project, module, proposals, objects, defs, users] = await Promise.all([
    ctx.api.getWorkspace(ws),
    ctx.api.getProject(ws, p),
    ctx.api.getModule(m),
    ctx.api.listChangeProposals(m),
    ctx.api.listAllObjects(m),
    ctx.api.attributeDefinitions(m),
    ctx.api.listUsers().catch(() => ({ items: [] as AppUser[] })),
  ]);
  const live = objects.filter((o) => !o.deleted_at);
  const s: Screen = {
    ctx, moduleId: m,
    objects: new Map(live.map((o) => [o.id, o])),
    users: new Map(users.items.map((u) => [u.id, u.display_name || u.email])),
    reload: () => renderProposals(ctx, root, ws, p, m),
  };
  replace(
    root,
    moduleCrumbs({ ws, p, m }, { workspace: workspace.name, project: project.name, module: module.name }, "Proposals"),
    h("h1", null, `Change proposals of ${module.name}`),
    h("p", { class: "lead" }, "A proposal goes draft → submitted → in review → approved, and applying it edits every object it names at once — or none, when one of them changed since it was proposed."),
    proposals.items.length ? proposals.items.map((x) => proposalCard(s, x)) : empty("No change proposals yet."),
    hasRole(ctx, "reviewer") ? createForm(s, live, defs.items) : h("p", { class: "muted" }, "Reviewers, editors and administrators propose changes."),
  );
}
