// Client-side routes. The server answers every non-API path with index.html
// (contract §6.3), so these paths survive reloads and can be bookmarked.

import type { AuditFilters } from "./api/types";

export type Route =
  | { name: "login"; next?: string }
  | { name: "workspaces" }
  | { name: "workspace"; ws: string }
  | { name: "project"; ws: string; p: string }
  | { name: "module"; ws: string; p: string; m: string; object?: string; mode?: "document"; view?: string }
  | { name: "baselines"; ws: string; p: string; m: string }
  | { name: "diff"; ws: string; p: string; m: string; a: string; b: string }
  | { name: "traceability"; ws: string; p: string; m: string; target?: string; type?: string }
  | { name: "validate"; ws: string; p: string; m: string }
  | { name: "webhooks"; ws: string; p: string; m: string }
  | { name: "reviews"; ws: string; p: string; m: string }
  | { name: "objectTypes"; ws: string; p: string; m: string }
  | { name: "proposals"; ws: string; p: string; m: string }
  | { name: "members"; ws: string }
  | { name: "users" }
  | { name: "notifications" }
  | { name: "audit"; filters: AuditFilters }
  | { name: "account" }
  | { name: "search"; q: string }
  | { name: "notfound"; path: string };

const AUDIT_FILTERS = ["entity_type", "action", "user_id", "entity_id", "from", "to"] as const;

/** The audit screen's filters from its query string (unknown parameters ignored). */
function auditFilters(q: URLSearchParams): AuditFilters {
  const out: AuditFilters = {};
  for (const key of AUDIT_FILTERS) {
    const v = q.get(key);
    if (v) out[key] = v;
  }
  return out;
}

const UUIDISH = "([0-9A-Za-z-]{1,64})";
const PATTERNS: [RegExp, (m: RegExpMatchArray, q: URLSearchParams) => Route][] = [
  [/^\/login$/, (_m, q) => ({ name: "login", next: q.get("next") ?? undefined })],
  [/^\/$/, () => ({ name: "workspaces" })],
  [new RegExp(`^/w/${UUIDISH}$`), (m) => ({ name: "workspace", ws: m[1] })],
  [new RegExp(`^/w/${UUIDISH}/members$`), (m) => ({ name: "members", ws: m[1] })],
  [new RegExp(`^/w/${UUIDISH}/p/${UUIDISH}$`), (m) => ({ name: "project", ws: m[1], p: m[2] })],
  [
    new RegExp(`^/w/${UUIDISH}/p/${UUIDISH}/m/${UUIDISH}$`),
    (m, q) => ({
      name: "module",
      ws: m[1],
      p: m[2],
      m: m[3],
      object: q.get("object") ?? undefined,
      mode: q.get("mode") === "document" ? "document" : undefined,
      view: q.get("view") ?? undefined,
    }),
  ],
  [new RegExp(`^/w/${UUIDISH}/p/${UUIDISH}/m/${UUIDISH}/baselines$`), (m) => ({ name: "baselines", ws: m[1], p: m[2], m: m[3] })],
  [
    new RegExp(`^/w/${UUIDISH}/p/${UUIDISH}/m/${UUIDISH}/diff$`),
    (m, q) => ({ name: "diff", ws: m[1], p: m[2], m: m[3], a: q.get("a") ?? "", b: q.get("b") ?? "" }),
  ],
  [
    new RegExp(`^/w/${UUIDISH}/p/${UUIDISH}/m/${UUIDISH}/traceability$`),
    (m, q) => ({ name: "traceability", ws: m[1], p: m[2], m: m[3], target: q.get("target") ?? undefined, type: q.get("type") ?? undefined }),
  ],
  [new RegExp(`^/w/${UUIDISH}/p/${UUIDISH}/m/${UUIDISH}/validate$`), (m) => ({ name: "validate", ws: m[1], p: m[2], m: m[3] })],
  [new RegExp(`^/w/${UUIDISH}/p/${UUIDISH}/m/${UUIDISH}/webhooks$`), (m) => ({ name: "webhooks", ws: m[1], p: m[2], m: m[3] })],
  [new RegExp(`^/w/${UUIDISH}/p/${UUIDISH}/m/${UUIDISH}/reviews$`), (m) => ({ name: "reviews", ws: m[1], p: m[2], m: m[3] })],
  [new RegExp(`^/w/${UUIDISH}/p/${UUIDISH}/m/${UUIDISH}/object-types$`), (m) => ({ name: "objectTypes", ws: m[1], p: m[2], m: m[3] })],
  [new RegExp(`^/w/${UUIDISH}/p/${UUIDISH}/m/${UUIDISH}/proposals$`), (m) => ({ name: "proposals", ws: m[1], p: m[2], m: m[3] })],
  [/^\/admin\/users$/, () => ({ name: "users" })],
  [/^\/notifications$/, () => ({ name: "notifications" })],
  [/^\/admin\/audit$/, (_m, q) => ({ name: "audit", filters: auditFilters(q) })],
  [/^\/account$/, () => ({ name: "account" })],
  [/^\/search$/, (_m, q) => ({ name: "search", q: q.get("q") ?? "" })],
];

/** Parse a location (pathname + search) into a Route. */
export function parseRoute(pathname: string, search = ""): Route {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, "") : pathname;
  const query = new URLSearchParams(search);
  for (const [re, build] of PATTERNS) {
    const m = path.match(re);
    if (m) return build(m, query);
  }
  return { name: "notfound", path: pathname };
}

const e = encodeURIComponent;

/** The URL of a route (the inverse of parseRoute). */
export function hrefOf(route: Route): string {
  switch (route.name) {
    case "login":
      return route.next ? `/login?next=${e(route.next)}` : "/login";
    case "workspaces":
      return "/";
    case "workspace":
      return `/w/${e(route.ws)}`;
    case "project":
      return `/w/${e(route.ws)}/p/${e(route.p)}`;
    case "module": {
      const qs = [route.mode ? `mode=${route.mode}` : "", route.view ? `view=${e(route.view)}` : "", route.object ? `object=${e(route.object)}` : ""].filter(Boolean).join("&");
      return `/w/${e(route.ws)}/p/${e(route.p)}/m/${e(route.m)}${qs ? `?${qs}` : ""}`;
    }
    case "baselines":
      return `/w/${e(route.ws)}/p/${e(route.p)}/m/${e(route.m)}/baselines`;
    case "diff":
      return `/w/${e(route.ws)}/p/${e(route.p)}/m/${e(route.m)}/diff?a=${e(route.a)}&b=${e(route.b)}`;
    case "traceability": {
      const qs = [route.target ? `target=${e(route.target)}` : "", route.type ? `type=${e(route.type)}` : ""].filter(Boolean).join("&");
      return `/w/${e(route.ws)}/p/${e(route.p)}/m/${e(route.m)}/traceability${qs ? `?${qs}` : ""}`;
    }
    case "validate":
      return `/w/${e(route.ws)}/p/${e(route.p)}/m/${e(route.m)}/validate`;
    case "webhooks":
      return `/w/${e(route.ws)}/p/${e(route.p)}/m/${e(route.m)}/webhooks`;
    case "reviews":
      return `/w/${e(route.ws)}/p/${e(route.p)}/m/${e(route.m)}/reviews`;
    case "objectTypes":
      return `/w/${e(route.ws)}/p/${e(route.p)}/m/${e(route.m)}/object-types`;
    case "proposals":
      return `/w/${e(route.ws)}/p/${e(route.p)}/m/${e(route.m)}/proposals`;
    case "members":
      return `/w/${e(route.ws)}/members`;
    case "users":
      return "/admin/users";
    case "notifications":
      return "/notifications";
    case "audit": {
      const qs = new URLSearchParams(Object.entries(route.filters).filter(([, v]) => v) as [string, string][]).toString();
      return `/admin/audit${qs ? `?${qs}` : ""}`;
    }
    case "account":
      return "/account";
    case "search":
      return `/search?q=${e(route.q)}`;
    case "notfound":
      return route.path;
  }
}

type Listener = (route: Route) => void;
let listener: Listener | null = null;

/** Start routing: calls `fn` now and on every navigation (links, back/forward). */
export function startRouter(fn: Listener): void {
  listener = fn;
  window.addEventListener("popstate", () => fn(currentRoute()));
  // Same-origin <a> clicks become pushState navigations.
  document.addEventListener("click", (ev) => {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const a = (ev.target as Element | null)?.closest?.("a");
    if (!a || a.target || a.hasAttribute("download") || !a.dataset.route) return;
    ev.preventDefault();
    navigate(a.getAttribute("href") ?? "/");
  });
  fn(currentRoute());
}

export function currentRoute(): Route {
  return parseRoute(window.location.pathname, window.location.search);
}

/** Go to a path (or Route), adding a history entry unless `replace`. */
export function navigate(to: string | Route, replace = false): void {
  const url = typeof to === "string" ? to : hrefOf(to);
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  listener?.(currentRoute());
}
