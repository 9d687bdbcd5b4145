// The audit log for administrators: every change, newest first, with filters kept in the URL (so a view can be
// bookmarked or sent), and a check of the hash chain that makes the log tamper-evident.

import type { AppUser, AuditFilters, AuditLogEntry, AuditVerification } from "../api/types";
import { h, replace } from "../lib/dom";
import { formatTime, shortId } from "../lib/format";
import { navigate } from "../router";
import { busy, button, crumbs, empty, field, hasRole, link, loading, type Ctx } from "../ui/common";

export const AUDIT_PAGE = 50;

const SHOWN_KEYS = ["name", "email", "heading", "file_name", "role"];
const MAX_DETAIL = 200;

function shownValue(v: unknown): string {
  if (v === null || v === undefined) return "∅";
  const text = typeof v === "string" ? v : JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/**
 * `details` in one line, as a reader wants it: a change as "field: before → after" per field, a created or
 * deleted row by its name-like fields, anything else as compact JSON (cut at 200 characters).
 */
export function describeDetails(details: Record<string, unknown> | null): string {
  if (!details) return "";
  const before = details.before as Record<string, unknown> | null | undefined;
  const after = details.after as Record<string, unknown> | null | undefined;
  if (Array.isArray(details.fields)) {
    return (details.fields as string[])
      .map((f) => (before && f in before) || (after && f in after) ? `${f}: ${shownValue(before?.[f])} → ${shownValue(after?.[f])}` : `${f} changed`)
      .join("; ");
  }
  const row = after ?? before;
  if (row && typeof row === "object") {
    const named = SHOWN_KEYS.filter((k) => row[k] !== undefined && row[k] !== null).map((k) => `${k}: ${shownValue(row[k])}`);
    if (named.length) return named.join("; ");
  }
  const text = Object.entries(details)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)}`)
    .join("; ");
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text;
}

/** What the chain check says, for people: valid with its head, or where it breaks. */
export function describeVerification(v: AuditVerification): string {
  if (v.valid) return `Chain intact: ${v.entries} entries, head #${v.head.id} ${v.head.hash.slice(0, 16)}…`;
  const at = v.first_invalid;
  return at ? `Chain broken at entry #${at.id}: ${at.problem}` : "Chain broken";
}

/** Who acted, as people read it: the user's email when known, else the id's tail; no user is the system. */
export function actorName(userId: string | null, emails: Map<string, string>): string {
  if (!userId) return "system";
  return emails.get(userId) ?? shortId(userId);
}

function entryRow(e: AuditLogEntry, emails: Map<string, string>): HTMLElement {
  return h(
    "tr",
    { dataset: { entry: String(e.id) } },
    h("td", null, String(e.id)),
    h("td", null, h("time", { datetime: e.created_at }, formatTime(e.created_at))),
    h("td", { title: e.user_id ?? "" }, actorName(e.user_id, emails)),
    h("td", null, e.action),
    h("td", null, e.entity_type, e.entity_id ? h("small", { class: "muted", title: e.entity_id }, ` ${shortId(e.entity_id)}`) : null),
    h("td", { class: "details" }, describeDetails(e.details)),
    h("td", null, e.ip_address ?? ""),
  );
}

/** An ISO time as a `datetime-local` input's value (the browser's local time, to the minute). */
export function toLocalInput(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function filterForm(filters: AuditFilters): HTMLFormElement {
  const input = (name: keyof AuditFilters, label: string, type = "text") => {
    const value = type === "datetime-local" ? toLocalInput(filters[name]) : filters[name] ?? "";
    return field(label, h("input", { name, type, value }));
  };
  const form = h(
    "form",
    { class: "inline-form audit-filters", role: "search" },
    input("entity_type", "Entity type"),
    input("action", "Action"),
    input("user_id", "User id"),
    input("from", "From", "datetime-local"),
    input("to", "To", "datetime-local"),
    h("button", { type: "submit" }, "Filter"),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const next: AuditFilters = {};
    for (const key of ["entity_type", "action", "user_id", "from", "to"] as const) {
      const v = String(data.get(key) ?? "").trim();
      if (v) next[key] = key === "from" || key === "to" ? new Date(v).toISOString() : v;
    }
    if (filters.entity_id) next.entity_id = filters.entity_id;
    navigate({ name: "audit", filters: next });
  });
  return form;
}

export async function renderAudit(ctx: Ctx, root: HTMLElement, filters: AuditFilters): Promise<void> {
  const head = [crumbs(link({ name: "workspaces" }, "Workspaces"), "Audit log"), h("h1", null, "Audit log")];
  if (!hasRole(ctx, "admin")) {
    replace(root, head, h("p", null, "Only administrators can view the audit log."));
    return;
  }
  replace(root, head, loading());
  const [first, users] = await Promise.all([
    ctx.api.listAuditLog(filters, 0, AUDIT_PAGE),
    ctx.api.listUsers().catch(() => ({ items: [] as AppUser[] })), // names are a convenience, not a must
  ]);
  const emails = new Map(users.items.map((u) => [u.id, u.email]));
  const row = (e: AuditLogEntry) => entryRow(e, emails);
  const body = h("tbody", null, first.items.map(row));
  let shown = first.items.length;
  const count = h("p", { class: "muted", "aria-live": "polite" }, `${shown} of ${first.total} entries`);
  const more = button("Load more", async (ev) => {
    const next = await busy(ev.currentTarget as HTMLElement, () => ctx.api.listAuditLog(filters, shown, AUDIT_PAGE), "Audit log");
    if (!next) return;
    body.append(...next.items.map(row));
    shown += next.items.length;
    count.textContent = `${shown} of ${next.total} entries`;
    more.hidden = shown >= next.total || next.items.length === 0;
  });
  more.hidden = shown >= first.total;

  const verdict = h("p", { class: "audit-verdict", role: "status" });
  const verify = button("Verify chain", async (ev) => {
    const result = await busy(ev.currentTarget as HTMLElement, () => ctx.api.verifyAuditLog(), "Audit chain");
    if (!result) return;
    verdict.textContent = describeVerification(result);
    verdict.className = `audit-verdict ${result.valid ? "ok" : "broken"}`;
  });

  const table = first.items.length
    ? h(
        "table",
        { class: "audit" },
        h("thead", null, h("tr", null, ["#", "Time", "User", "Action", "Entity", "Details", "Address"].map((t) => h("th", { scope: "col" }, t)))),
        body,
      )
    : empty("No entries match these filters.");
  replace(root, head, h("div", { class: "toolbar" }, verify, verdict), filterForm(filters), count, table, more);
}
