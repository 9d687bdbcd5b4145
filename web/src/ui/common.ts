// Building blocks shared by the screens: breadcrumbs, loading/empty states,
// labelled form fields and buttons that disable themselves while working.

import type { ApiClient } from "../api/client";
import type { AppUser, Role } from "../api/types";
import { h, type Child } from "../lib/dom";
import { hrefOf, type Route } from "../router";
import { errorToast } from "./toast";

export interface Ctx {
  api: ApiClient;
  /** Re-render the current route (after a mutation that changes what is shown). */
  refresh: () => void;
}

const RANK: Record<Role, number> = { viewer: 0, reviewer: 1, editor: 2, admin: 3 };

/** True when `mine` is at least `role` in viewer < reviewer < editor < admin. */
export function roleAtLeast(mine: Role | undefined, role: Role): boolean {
  return mine !== undefined && RANK[mine] >= RANK[role];
}

/**
 * The role a user acts with inside a workspace: global admins are admins everywhere; anyone else has the role of
 * their membership there (per-workspace access), or their global role when they have none (ACCESS_MODEL=global).
 */
export function workspaceRoleOf(user: Pick<AppUser, "role" | "workspaces">, ws: string): Role {
  if (user.role === "admin") return "admin";
  return user.workspaces?.find((w) => w.workspace_id === ws)?.role ?? user.role;
}

// The signed-in user's role in the workspace of the current screen (null: not inside one, or not known).
let scoped: { ws: string; role: Role } | null = null;
let meCache: { user: string; at: number; me: Promise<AppUser> } | null = null;
const ME_TTL_MS = 30_000;

/** Forget the memberships read from /auth/me (after a change of members). */
export function forgetMemberships(): void {
  meCache = null;
}

/** Called by the router before a screen renders: the workspace it is in, or null. */
export async function enterWorkspace(ctx: Ctx, ws: string | null): Promise<void> {
  scoped = null;
  const user = ctx.api.session?.user;
  if (!ws || !user || user.role === "admin") return;
  if (!meCache || meCache.user !== user.id || Date.now() - meCache.at > ME_TTL_MS) {
    meCache = { user: user.id, at: Date.now(), me: ctx.api.me() };
  }
  try {
    scoped = { ws, role: workspaceRoleOf(await meCache.me, ws) };
  } catch {
    meCache = null; // the global role stands; the server decides anyway
  }
}

/** The signed-in user's role on the current screen: inside a workspace their role there, else their global role. */
export function currentRole(ctx: Ctx): Role | undefined {
  return scoped?.role ?? ctx.api.session?.user.role;
}

/** True when the logged-in user's role is at least `role` (the server decides; this only hides buttons). */
export function hasRole(ctx: Ctx, role: Role): boolean {
  return roleAtLeast(currentRole(ctx), role);
}

const leaving: (() => void)[] = [];

/** Run `fn` when the current screen is left (streams to close, pending deletes to send). */
export function onLeave(fn: () => void): void {
  leaving.push(fn);
}

/** Called by the router before the next screen renders. */
export function leaveScreen(): void {
  for (const fn of leaving.splice(0)) {
    try {
      fn();
    } catch (err) {
      console.warn("leaving the screen:", err);
    }
  }
}

/** An in-app link (handled by the router without a page load). */
export function link(route: Route, ...children: Child[]): HTMLAnchorElement {
  return h("a", { href: hrefOf(route), dataset: { route: "1" } }, ...children);
}

export function crumbs(...items: (HTMLElement | string)[]): HTMLElement {
  const list = h("ol", null);
  items.forEach((item, i) => list.appendChild(h("li", { "aria-current": i === items.length - 1 ? "page" : null }, item)));
  return h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, list);
}

/** The trail of a module's sub-screen: Workspaces / workspace / project / module / `here`. */
export function moduleCrumbs(
  ids: { ws: string; p: string; m: string },
  names: { workspace: string; project: string; module: string },
  here: string,
): HTMLElement {
  const { ws, p, m } = ids;
  return crumbs(
    link({ name: "workspaces" }, "Workspaces"),
    link({ name: "workspace", ws }, names.workspace),
    link({ name: "project", ws, p }, names.project),
    link({ name: "module", ws, p, m }, names.module),
    here,
  );
}

export function loading(what = "Loading…"): HTMLElement {
  return h("p", { class: "muted", role: "status" }, what);
}

export function empty(text: string): HTMLElement {
  return h("p", { class: "empty" }, text);
}

let fieldSeq = 0;

/** A label + control pair with a generated id. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || `f${++fieldSeq}`;
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("small", { class: "muted" }, hint) : null);
}

/**
 * Run an async action from a button or form: disables the trigger while running,
 * shows API errors as toasts, and returns the result (undefined on error).
 */
export async function busy<T>(trigger: HTMLElement | null, action: () => Promise<T>, context?: string): Promise<T | undefined> {
  const ctl = trigger as HTMLButtonElement | null;
  if (ctl) {
    ctl.disabled = true;
    ctl.setAttribute("aria-busy", "true");
  }
  try {
    return await action();
  } catch (err) {
    errorToast(err, context);
    return undefined;
  } finally {
    if (ctl) {
      ctl.disabled = false;
      ctl.removeAttribute("aria-busy");
    }
  }
}

export function button(label: string, onClick: (ev: Event) => void, attrs: Record<string, string | boolean | null> = {}): HTMLButtonElement {
  return h("button", { type: "button", ...attrs, onClick }, label);
}
