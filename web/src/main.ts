// Entry point: the app shell (header, search, user menu), routing and auth gate.

import { ApiClient, ApiError } from "./api/client";
import { MemorySessionStore, StorageSessionStore, type SessionStore } from "./api/session";
import { h, replace } from "./lib/dom";
import { currentRoute, hrefOf, navigate, startRouter, type Route } from "./router";
import { button, currentRole, enterWorkspace, leaveScreen, link, type Ctx } from "./ui/common";
import { errorToast } from "./ui/toast";
import { renderBaselines, renderDiff } from "./views/baselines";
import { renderProject, renderWorkspace, renderWorkspaces } from "./views/browse";
import { renderGrid } from "./views/grid";
import { renderLogin } from "./views/login";
import { renderModule } from "./views/module";
import { renderSearch } from "./views/search";
import { renderTraceability } from "./views/traceability";
import { renderAudit } from "./views/audit";
import { notificationBell, renderNotifications } from "./views/notifications";
import { renderReviews } from "./views/reviews";
import { renderMembers } from "./views/members";
import { renderObjectTypes } from "./views/objectTypes";
import { renderProposals } from "./views/proposals";
import { renderWebhooks } from "./views/webhooks";
import { renderAccount, renderUsers } from "./views/users";
import { renderValidation } from "./views/validation";
import "./styles.css";

function makeStore(): SessionStore {
  try {
    window.sessionStorage.setItem("req1.probe", "1");
    window.sessionStorage.removeItem("req1.probe");
    return new StorageSessionStore(window.sessionStorage);
  } catch {
    return new MemorySessionStore();
  }
}

const api = new ApiClient({
  store: makeStore(),
  onAuthLost: () => {
    const here = window.location.pathname + window.location.search;
    if (!here.startsWith("/login")) navigate({ name: "login", next: here }, true);
  },
});

const app = document.getElementById("app") ?? document.body;
const ctx: Ctx = { api, refresh: () => void show(currentRoute()) };

function shell(route: Route): HTMLElement {
  const session = api.session;
  const q = h("input", {
    type: "search",
    name: "q",
    placeholder: "Search all requirements",
    "aria-label": "Search all requirements",
    value: route.name === "search" ? route.q : "",
  });
  const form = h("form", { class: "global-search", role: "search", "aria-label": "All requirements" }, q, h("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (q.value.trim()) navigate({ name: "search", q: q.value.trim() });
  });
  const logout = button("Sign out", async () => {
    await api.logout().catch(() => undefined);
    navigate({ name: "login" }, true);
  }, { class: "small" });
  return h(
    "header",
    { class: "topbar" },
    h("a", { class: "skip", href: "#main" }, "Skip to content"),
    link({ name: "workspaces" }, h("span", { class: "brand" }, "req1")),
    form,
    session
      ? h(
          "div",
          { class: "user" },
          notificationBell(ctx),
          link({ name: "account" }, h("span", { title: session.user.email }, session.user.display_name || session.user.email)),
          h("span", { class: "badge", title: currentRole(ctx) === session.user.role ? "your role" : `your role here (elsewhere: ${session.user.role})` }, currentRole(ctx) ?? session.user.role),
          session.user.role === "admin" ? link({ name: "users" }, "Users") : null,
          session.user.role === "admin" ? link({ name: "audit", filters: {} }, "Audit") : null,
          logout,
        )
      : null,
  );
}

let generation = 0;

async function show(route: Route): Promise<void> {
  const mine = ++generation;
  leaveScreen();
  if (route.name !== "login" && !api.session) {
    navigate({ name: "login", next: hrefOf(route) }, true);
    return;
  }
  if (route.name === "login") {
    renderLogin(ctx, app, route.next);
    document.title = "Sign in · req1";
    return;
  }
  // Inside a workspace the buttons a screen offers follow the user's role there (per-workspace access).
  await enterWorkspace(ctx, "ws" in route ? route.ws : null);
  if (mine !== generation) return;
  const main = h("main", { id: "main", tabindex: "-1" });
  replace(app, shell(route), main);
  try {
    switch (route.name) {
      case "workspaces":
        await renderWorkspaces(ctx, main);
        break;
      case "workspace":
        await renderWorkspace(ctx, main, route.ws);
        break;
      case "project":
        await renderProject(ctx, main, route.ws, route.p);
        break;
      case "module":
        if (route.mode === "document") await renderModule(ctx, main, route.ws, route.p, route.m, route.object);
        else await renderGrid(ctx, main, route.ws, route.p, route.m, { object: route.object, view: route.view });
        break;
      case "baselines":
        await renderBaselines(ctx, main, route.ws, route.p, route.m);
        break;
      case "diff":
        await renderDiff(ctx, main, route.ws, route.p, route.m, route.a, route.b);
        break;
      case "traceability":
        await renderTraceability(ctx, main, route.ws, route.p, route.m, route.target, route.type);
        break;
      case "validate":
        await renderValidation(ctx, main, route.ws, route.p, route.m);
        break;
      case "users":
        await renderUsers(ctx, main);
        break;
      case "audit":
        await renderAudit(ctx, main, route.filters);
        break;
      case "notifications":
        await renderNotifications(ctx, main);
        break;
      case "webhooks":
        await renderWebhooks(ctx, main, route.ws, route.p, route.m);
        break;
      case "reviews":
        await renderReviews(ctx, main, route.ws, route.p, route.m);
        break;
      case "objectTypes":
        await renderObjectTypes(ctx, main, route.ws, route.p, route.m);
        break;
      case "proposals":
        await renderProposals(ctx, main, route.ws, route.p, route.m);
        break;
      case "members":
        await renderMembers(ctx, main, route.ws);
        break;
      case "account":
        renderAccount(ctx, main);
        break;
      case "search":
        await renderSearch(ctx, main, route.q);
        break;
      case "notfound":
        replace(main, h("h1", null, "Page not found"), h("p", null, link({ name: "workspaces" }, "Back to workspaces")));
        break;
    }
    const h1 = main.querySelector("h1");
    document.title = `${h1?.textContent ?? "req1"} · req1`;
  } catch (err) {
    if (mine !== generation) return;
    if (err instanceof ApiError && err.status === 401) return; // onAuthLost already redirected
    errorToast(err);
    replace(
      main,
      h("h1", null, err instanceof ApiError && err.status === 404 ? "Not found" : "Something went wrong"),
      h("p", null, err instanceof Error ? err.message : String(err)),
      h("p", null, link({ name: "workspaces" }, "Back to workspaces")),
    );
  }
}

startRouter((route) => void show(route));
