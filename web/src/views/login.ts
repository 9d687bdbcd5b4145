// Login screen: POST /auth/login; the session goes to sessionStorage via the client.

import { h, replace } from "../lib/dom";
import { navigate } from "../router";
import { busy, field, type Ctx } from "../ui/common";
import { clearToasts } from "../ui/toast";

export function renderLogin(ctx: Ctx, root: HTMLElement, next?: string): void {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true, autofocus: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const form = h(
    "form",
    { class: "card login", "aria-labelledby": "login-title" },
    h("h1", { id: "login-title" }, "Sign in to req1"),
    field("Email", email),
    field("Password", password),
    error,
    submit,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    const user = await busy(submit, () => ctx.api.login(email.value.trim(), password.value)).catch(() => undefined);
    if (!user) {
      error.textContent = "Sign-in failed. Check your email and password.";
      error.hidden = false;
      password.select();
      return;
    }
    clearToasts();
    const target = next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
    navigate(target, true);
  });
  replace(root, h("main", { class: "login-wrap", id: "main" }, form));
  email.focus();
}
