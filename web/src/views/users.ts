// Users admin (admins: list, create, change role, (de)activate, set a password) and the
// account page every user has (display name, change password).

import type { AppUser, Role } from "../api/types";
import { h, replace } from "../lib/dom";
import { busy, button, crumbs, field, hasRole, link, loading, type Ctx } from "../ui/common";
import { toast } from "../ui/toast";

export const ROLES: Role[] = ["viewer", "reviewer", "editor", "admin"];
const MIN_PASSWORD = 8;

function roleSelect(current: Role, name = "role"): HTMLSelectElement {
  return h("select", { name }, ROLES.map((r) => h("option", { value: r, selected: r === current }, r)));
}

function passwordInput(name: string, label: string, autocomplete: string): HTMLInputElement {
  return h("input", { type: "password", name, minlength: MIN_PASSWORD, maxlength: 1024, autocomplete, "aria-label": label });
}

export async function renderUsers(ctx: Ctx, root: HTMLElement): Promise<void> {
  const head = [crumbs(link({ name: "workspaces" }, "Workspaces"), "Users"), h("h1", null, "Users")];
  if (!hasRole(ctx, "admin")) {
    replace(root, head, h("p", null, "Only administrators manage users. ", link({ name: "account" }, "Your account")));
    return;
  }
  replace(root, head, loading());
  const users = (await ctx.api.listUsers()).items;
  const me = ctx.api.session?.user.id;
  const reload = () => renderUsers(ctx, root);

  const row = (u: AppUser): HTMLElement => {
    const role = roleSelect(u.role);
    role.addEventListener("change", async () => {
      const done = await busy(role, () => ctx.api.updateUser(u.id, { role: role.value as Role }), `Role of ${u.email}`);
      if (done) toast(`${u.email} is now ${done.role}`, "success");
      else role.value = u.role;
      if (done) u.role = done.role;
    });
    const active = u.active !== false;
    const toggle = button(active ? "Deactivate" : "Activate", async (ev) => {
      if (active && !window.confirm(`Deactivate ${u.email}? Their sessions end at once.`)) return;
      if (await busy(ev.currentTarget as HTMLElement, () => ctx.api.updateUser(u.id, { active: !active }), u.email)) await reload();
    }, { class: active ? "small danger" : "small" });
    const pw = passwordInput("password", `New password for ${u.email}`, "new-password");
    const setPw = h("button", { type: "submit", class: "small" }, "Set password");
    const pwForm = h("form", { class: "inline" }, pw, setPw);
    pwForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (pw.value.length < MIN_PASSWORD) return void toast(`A password needs at least ${MIN_PASSWORD} characters`, "error");
      if (await busy(setPw, () => ctx.api.updateUser(u.id, { password: pw.value }), `Password of ${u.email}`)) {
        pw.value = "";
        toast(`Password of ${u.email} set; their other sessions ended`, "success");
      }
    });
    return h(
      "tr",
      { class: active ? null : "inactive", dataset: { user: u.id } },
      h("th", { scope: "row" }, u.email, u.id === me ? h("small", { class: "muted" }, " (you)") : null),
      h("td", null, u.display_name),
      h("td", null, role),
      h("td", null, active ? "active" : "inactive", " ", toggle),
      h("td", null, pwForm),
    );
  };

  const email = h("input", { type: "email", name: "email", required: true, autocomplete: "off" });
  const name = h("input", { name: "display_name", required: true });
  const role = roleSelect("viewer");
  const password = passwordInput("password", "Initial password", "new-password");
  const submit = h("button", { type: "submit", class: "primary" }, "Create user");
  const form = h(
    "form",
    { class: "inline-form create-user" },
    h("h2", null, "New user"),
    field("Email", email),
    field("Display name", name),
    field("Role", role),
    field("Password", password, "optional: without one the account cannot sign in"),
    submit,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (password.value && password.value.length < MIN_PASSWORD) return void toast(`A password needs at least ${MIN_PASSWORD} characters`, "error");
    const created = await busy(submit, () =>
      ctx.api.createUser({ email: email.value.trim(), display_name: name.value.trim(), role: role.value as Role, password: password.value || undefined }), "Create user");
    if (created) {
      toast(`Created ${created.email}`, "success");
      await reload();
    }
  });

  replace(
    root,
    head,
    h(
      "table",
      { class: "users" },
      h("thead", null, h("tr", null, ["Email", "Name", "Role", "Status", "Password"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", null, users.map(row)),
    ),
    form,
  );
}

export function renderAccount(ctx: Ctx, root: HTMLElement): void {
  const user = ctx.api.session?.user;
  if (!user) return;
  const name = h("input", { name: "display_name", required: true, value: user.display_name });
  const saveName = h("button", { type: "submit" }, "Save name");
  const nameForm = h("form", { class: "inline-form" }, h("h2", null, "Profile"), field("Display name", name), saveName);
  nameForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!name.value.trim()) return void toast("The display name cannot be empty", "error");
    if (await busy(saveName, () => ctx.api.updateUser(user.id, { display_name: name.value.trim() }), "Profile")) {
      toast("Name saved", "success");
      ctx.refresh(); // the top bar shows the new name
    }
  });

  const current = passwordInput("old_password", "Current password", "current-password");
  const next = passwordInput("new_password", "New password", "new-password");
  const again = passwordInput("new_password_again", "New password again", "new-password");
  for (const i of [current, next, again]) i.required = true;
  const savePw = h("button", { type: "submit", class: "primary" }, "Change password");
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const pwForm = h(
    "form",
    { class: "inline-form change-password" },
    h("h2", null, "Change password"),
    field("Current password", current),
    field("New password", next, `at least ${MIN_PASSWORD} characters`),
    field("New password again", again),
    error,
    savePw,
  );
  pwForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const problem = passwordProblem(next.value, again.value);
    error.hidden = !problem;
    error.textContent = problem ?? "";
    if (problem) return;
    const ok = await busy(savePw, async () => {
      await ctx.api.changePassword(current.value, next.value);
      return true;
    }, "Change password");
    if (ok) {
      pwForm.reset();
      toast("Password changed; your other sessions were signed out", "success");
    }
  });

  replace(
    root,
    crumbs(link({ name: "workspaces" }, "Workspaces"), "Account"),
    h("h1", null, "Your account"),
    h("dl", { class: "facts" }, h("div", null, h("dt", null, "Email"), h("dd", null, user.email)), h("div", null, h("dt", null, "Role"), h("dd", null, user.role))),
    nameForm,
    pwForm,
    hasRole(ctx, "admin") ? h("p", null, link({ name: "users" }, "Manage users")) : null,
  );
}

/** A client-side check before the round trip; the server has the final word. */
export function passwordProblem(next: string, again: string): string | null {
  if (next.length < MIN_PASSWORD) return `The new password needs at least ${MIN_PASSWORD} characters`;
  if (next !== again) return "The two new passwords differ";
  return null;
}
