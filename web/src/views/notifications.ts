// Notifications: a bell in the top bar with the unread count (polled every 30 s, as the contract expects of
// clients), and a page listing them newest first; opening one marks it read and goes to the commented object.

import type { AppNotification } from "../api/types";
import { h, replace } from "../lib/dom";
import { formatTime } from "../lib/format";
import { navigate, type Route } from "../router";
import { busy, button, crumbs, empty, link, loading, onLeave, type Ctx } from "../ui/common";
import { toast } from "../ui/toast";

export const POLL_MS = 30_000;

/** Where a notification leads: the object its comment is on, in the document view. */
export function routeOf(n: AppNotification): Route | null {
  const t = n.target;
  return t ? { name: "module", ws: t.workspace_id, p: t.project_id, m: t.module_id, object: t.object_id, mode: "document" } : null;
}

export function bellLabel(count: number): string {
  return count === 0 ? "Notifications" : `Notifications: ${count} unread`;
}

/** The top bar's bell; its count refreshes every 30 s while the screen is shown. */
export function notificationBell(ctx: Ctx): HTMLElement {
  const count = h("span", { class: "count", hidden: true });
  const bell = link({ name: "notifications" }, h("span", { "aria-hidden": "true" }, "🔔"), count);
  bell.classList.add("bell");
  bell.setAttribute("aria-label", bellLabel(0));
  const refresh = async (): Promise<void> => {
    const n = await ctx.api.unreadCount().catch(() => null);
    if (n === null) return;
    count.textContent = String(n);
    count.hidden = n === 0;
    bell.setAttribute("aria-label", bellLabel(n));
  };
  void refresh();
  const timer = setInterval(() => void refresh(), POLL_MS);
  onLeave(() => clearInterval(timer));
  return bell;
}

function item(ctx: Ctx, n: AppNotification, reload: () => Promise<void>): HTMLElement {
  const target = routeOf(n);
  const open = target
    ? button("Open", async () => {
        if (!n.read) await ctx.api.markNotificationRead(n.id).catch(() => undefined);
        navigate(target);
      }, { class: "small" })
    : null;
  const markRead = n.read
    ? null
    : button("Mark read", async (ev) => {
        if (await busy(ev.currentTarget as HTMLElement, () => ctx.api.markNotificationRead(n.id), "Notification")) await reload();
      }, { class: "small" });
  return h(
    "li",
    { class: `notification${n.read ? "" : " unread"}`, dataset: { notification: n.id } },
    h("div", { class: "note-head" }, h("strong", null, n.title), " ", h("time", { datetime: n.created_at, class: "muted" }, formatTime(n.created_at))),
    h("p", { class: "note-body" }, n.body),
    h("div", { class: "toolbar" }, open, markRead),
  );
}

export async function renderNotifications(ctx: Ctx, root: HTMLElement, unreadOnly = false): Promise<void> {
  const head = [crumbs(link({ name: "workspaces" }, "Workspaces"), "Notifications"), h("h1", null, "Notifications")];
  replace(root, head, loading());
  const page = await ctx.api.listNotifications(unreadOnly);
  const reload = () => renderNotifications(ctx, root, unreadOnly);
  const only = h("input", { type: "checkbox", name: "unread_only", checked: unreadOnly });
  only.addEventListener("change", () => void renderNotifications(ctx, root, only.checked));
  const all = button("Mark all read", async (ev) => {
    const n = await busy(ev.currentTarget as HTMLElement, () => ctx.api.markAllNotificationsRead(), "Notifications");
    if (n !== undefined) {
      toast(n === 1 ? "1 notification marked read" : `${n} notifications marked read`, "success");
      await reload();
    }
  });
  replace(
    root,
    head,
    h("div", { class: "toolbar" }, h("label", { class: "inline" }, only, " Unread only"), all),
    page.items.length
      ? h("ol", { class: "notifications" }, page.items.map((n) => item(ctx, n, reload)))
      : empty(unreadOnly ? "Nothing unread." : "No notifications yet: you are told here when someone mentions you as @Your Name in a comment."),
    page.total > page.items.length ? h("p", { class: "muted" }, `The ${page.items.length} newest of ${page.total}.`) : null,
  );
}
