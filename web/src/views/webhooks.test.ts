import { afterEach, describe, expect, it, vi } from "vitest";
import type { Role, Webhook, WebhookDelivery } from "../api/types";
import { hrefOf, parseRoute } from "../router";
import { buttonNamed, fakeCtx, page, settle } from "../test/fake";
import { deliveryOutcome, renderWebhooks } from "./webhooks";

const hook: Webhook = {
  id: "h1", module_id: "m", name: "CI", url: "https://ci.example.com/h", secret: "k",
  events: "object.created,object.updated", active: true, created_at: "2026-12-03T09:00:00Z", updated_at: "2026-12-03T09:00:00Z",
};

function delivery(over: Partial<WebhookDelivery>): WebhookDelivery {
  return {
    id: "d1", webhook_id: "h1", event: "object.created", payload: { data: { heading: "Brakes" } }, status: "success",
    attempts: 1, last_status_code: 200, last_error: null, next_attempt_at: null, created_at: "2026-12-03T09:00:00Z",
    delivered_at: "2026-12-03T09:00:01Z", ...over,
  };
}

function setup(role: Role, hooks: Webhook[] = [hook], deliveries: WebhookDelivery[] = []) {
  return fakeCtx(role, {
    getWorkspace: vi.fn(async () => ({ id: "w", name: "W" })),
    getProject: vi.fn(async () => ({ id: "p", name: "P" })),
    getModule: vi.fn(async () => ({ id: "m", name: "Reqs" })),
    listWebhooks: vi.fn(async () => hooks),
    createWebhook: vi.fn(async (_m: string, input: Partial<Webhook>) => ({ ...hook, ...input, id: "h2" })),
    updateWebhook: vi.fn(async (_m: string, _id: string, input: Partial<Webhook>) => ({ ...hook, ...input })),
    deleteWebhook: vi.fn(async () => undefined),
    listDeliveries: vi.fn(async () => page(deliveries)),
    redeliver: vi.fn(async () => delivery({ status: "pending" })),
  });
}

afterEach(() => vi.unstubAllGlobals());

describe("webhooks screen", () => {
  it("is for admins only", async () => {
    const { ctx, api } = setup("editor");
    const root = document.createElement("div");
    await renderWebhooks(ctx, root, "w", "p", "m");
    expect(root.textContent).toContain("Only administrators manage webhooks.");
    expect(api.listWebhooks).not.toHaveBeenCalled();
  });

  it("adds a webhook with the chosen events and a secret", async () => {
    const { ctx, api } = setup("admin", []);
    const root = document.createElement("div");
    document.body.replaceChildren(root);
    await renderWebhooks(ctx, root, "w", "p", "m");
    expect(root.textContent).toContain("No webhooks yet.");
    const form = root.querySelector<HTMLFormElement>("form.create-webhook")!;
    form.querySelector<HTMLInputElement>("input[name=name]")!.value = " Jira ";
    form.querySelector<HTMLInputElement>("input[name=url]")!.value = "https://jira.example.com/in";
    form.querySelector<HTMLInputElement>("input[name=secret]")!.value = "shh";
    form.querySelector<HTMLInputElement>("input[value='object.updated']")!.checked = false;
    form.dispatchEvent(new Event("submit", { cancelable: true }));
    await settle();
    expect(api.createWebhook).toHaveBeenCalledWith("m", {
      name: "Jira", url: "https://jira.example.com/in", secret: "shh", events: "object.created,object.deleted",
    });
    for (const box of form.querySelectorAll<HTMLInputElement>("input[name=events]")) box.checked = false;
    form.dispatchEvent(new Event("submit", { cancelable: true }));
    await settle();
    expect(api.createWebhook).toHaveBeenCalledTimes(1); // no event chosen: refused before sending
  });

  it("pauses, deletes and shows the delivery log with a redeliver button", async () => {
    const log = [
      delivery({}),
      delivery({ id: "d2", status: "failed", attempts: 6, last_status_code: 500, last_error: "HTTP 500", delivered_at: null }),
    ];
    const { ctx, api } = setup("admin", [hook], log);
    const root = document.createElement("div");
    document.body.replaceChildren(root);
    await renderWebhooks(ctx, root, "w", "p", "m");
    const card = root.querySelector<HTMLElement>("section[data-webhook='h1']")!;
    expect(card.textContent).toContain("signed (HMAC-SHA256)");
    buttonNamed(card, "Pause")!.click();
    await settle();
    expect(api.updateWebhook).toHaveBeenCalledWith("m", "h1", { active: false });

    const again = root.querySelector<HTMLElement>("section[data-webhook='h1']")!;
    buttonNamed(again, "Deliveries")!.click();
    await settle();
    const rows = again.querySelectorAll("tr.delivery");
    expect(rows).toHaveLength(2);
    expect(rows[1].textContent).toContain("failed after 6 attempts: HTTP 500");
    buttonNamed(rows[1] as HTMLElement, "Send again")!.click();
    await settle();
    expect(api.redeliver).toHaveBeenCalledWith("m", "h1", "d2");

    vi.stubGlobal("confirm", vi.fn(() => true));
    buttonNamed(root.querySelector<HTMLElement>("section[data-webhook='h1']")!, "Delete")!.click();
    await settle();
    expect(api.deleteWebhook).toHaveBeenCalledWith("m", "h1");
    expect(api.listWebhooks).toHaveBeenCalledTimes(3); // reloaded after pause and after delete
  });

  it("describes outcomes and routes to the screen", () => {
    expect(deliveryOutcome(delivery({ status: "pending", attempts: 0 }))).toBe("queued");
    expect(deliveryOutcome(delivery({ status: "pending", attempts: 2, last_error: "connection failed", next_attempt_at: null })))
      .toContain("retrying (2 so far: connection failed)");
    expect(deliveryOutcome(delivery({ status: "failed", attempts: 1, last_error: "destination not allowed" })))
      .toBe("failed after 1 attempt: destination not allowed");
    const route = parseRoute("/w/a/p/b/m/c/webhooks");
    expect(route).toEqual({ name: "webhooks", ws: "a", p: "b", m: "c" });
    expect(hrefOf(route)).toBe("/w/a/p/b/m/c/webhooks");
  });
});
