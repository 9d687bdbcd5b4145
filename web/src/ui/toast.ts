// Toasts: short notices in an aria-live region. Errors show the API's envelope
// message (and the request id, which operators can find in the server log).

import { ApiError } from "../api/client";
import { h } from "../lib/dom";

let region: HTMLElement | null = null;

function ensureRegion(): HTMLElement {
  if (region && document.body.contains(region)) return region;
  region = h("div", { class: "toasts", role: "status", "aria-live": "polite" });
  document.body.appendChild(region);
  return region;
}

export type ToastKind = "info" | "success" | "error";

/** Show a message; errors stay until dismissed, others fade after a few seconds. */
export function toast(message: string, kind: ToastKind = "info", detail?: string): HTMLElement {
  const close = h("button", { class: "toast-close", type: "button", "aria-label": "Dismiss" }, "×");
  const el = h(
    "div",
    { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : null },
    h("div", { class: "toast-text" }, message, detail ? h("small", null, detail) : null),
    close,
  );
  close.addEventListener("click", () => el.remove());
  ensureRegion().appendChild(el);
  if (kind !== "error") setTimeout(() => el.remove(), 4000);
  return el;
}

/** Remove every toast (e.g. a stale "invalid credentials" after a successful login). */
export function clearToasts(): void {
  region?.replaceChildren();
}

/** Describe any thrown value as a toast. */
export function errorToast(err: unknown, context?: string): HTMLElement {
  if (err instanceof ApiError) {
    const prefix = context ? `${context}: ` : "";
    const detail = [err.code, err.requestId ? `request ${err.requestId}` : null].filter(Boolean).join(" · ");
    return toast(`${prefix}${err.message}`, "error", detail);
  }
  const msg = err instanceof Error ? err.message : String(err);
  return toast(context ? `${context}: ${msg}` : msg, "error");
}
