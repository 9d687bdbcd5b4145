// Webhooks of a module (admins): subscribe a URL to object events, pause or remove it, and read each
// webhook's delivery log (status, attempts, the receiver's answer) with a button to send a delivery again.

import type { Webhook, WebhookDelivery, WebhookEvent } from "../api/types";
import { h, replace } from "../lib/dom";
import { formatTime } from "../lib/format";
import { busy, button, empty, field, hasRole, loading, moduleCrumbs, type Ctx } from "../ui/common";
import { toast } from "../ui/toast";

export const EVENTS: WebhookEvent[] = ["object.created", "object.updated", "object.deleted"];

/** What a delivery's row says about its outcome. */
export function deliveryOutcome(d: WebhookDelivery): string {
  if (d.status === "success") return `delivered ${formatTime(d.delivered_at)} (HTTP ${d.last_status_code})`;
  const why = d.last_error ?? (d.last_status_code ? `HTTP ${d.last_status_code}` : "");
  if (d.status === "failed") return `failed after ${d.attempts} attempt${d.attempts === 1 ? "" : "s"}: ${why}`;
  return d.attempts ? `retrying (${d.attempts} so far: ${why}), next ${formatTime(d.next_attempt_at)}` : "queued";
}

function eventBoxes(selected: string[]): HTMLElement {
  return h(
    "fieldset",
    { class: "events" },
    h("legend", null, "Events"),
    EVENTS.map((ev) => h("label", { class: "inline" }, h("input", { type: "checkbox", name: "events", value: ev, checked: selected.includes(ev) }), ` ${ev}`)),
  );
}

function checkedEvents(form: HTMLFormElement): string {
  return Array.from(form.querySelectorAll<HTMLInputElement>("input[name=events]:checked")).map((i) => i.value).join(",");
}

async function deliveriesTable(ctx: Ctx, m: string, hook: Webhook, into: HTMLElement): Promise<void> {
  replace(into, loading("Loading deliveries…"));
  const page = await ctx.api.listDeliveries(m, hook.id);
  const again = (d: WebhookDelivery) =>
    button("Send again", async (ev) => {
      if (await busy(ev.currentTarget as HTMLElement, () => ctx.api.redeliver(m, hook.id, d.id), "Redeliver")) {
        toast("Queued for another attempt", "success");
        await deliveriesTable(ctx, m, hook, into);
      }
    }, { class: "small" });
  replace(
    into,
    page.items.length
      ? h(
          "table",
          { class: "deliveries" },
          h("caption", { class: "muted" }, `${page.items.length} of ${page.total} deliveries, newest first`),
          h("thead", null, h("tr", null, ["Time", "Event", "Object", "Status", ""].map((t) => h("th", { scope: "col" }, t)))),
          h(
            "tbody",
            null,
            page.items.map((d) =>
              h(
                "tr",
                { class: `delivery ${d.status}`, dataset: { delivery: d.id } },
                h("td", null, formatTime(d.created_at)),
                h("td", null, d.event),
                h("td", null, String((d.payload.data as { heading?: string } | undefined)?.heading ?? "")),
                h("td", null, h("span", { class: `badge ${d.status}` }, d.status), " ", deliveryOutcome(d)),
                h("td", null, d.status === "pending" ? null : again(d)),
              ),
            ),
          ),
        )
      : empty("Nothing delivered yet: deliveries appear when objects of this module change."),
  );
}

function hookCard(ctx: Ctx, m: string, hook: Webhook, reload: () => Promise<void>): HTMLElement {
  const log = h("div", { class: "delivery-log" });
  const toggle = button(hook.active ? "Pause" : "Resume", async (ev) => {
    if (await busy(ev.currentTarget as HTMLElement, () => ctx.api.updateWebhook(m, hook.id, { active: !hook.active }), hook.name)) await reload();
  }, { class: "small" });
  const remove = button("Delete", async (ev) => {
    if (!window.confirm(`Delete the webhook ${hook.name}? Its delivery log goes with it.`)) return;
    if (await busy(ev.currentTarget as HTMLElement, () => ctx.api.deleteWebhook(m, hook.id).then(() => true), hook.name)) await reload();
  }, { class: "small danger" });
  const show = button("Deliveries", () => void deliveriesTable(ctx, m, hook, log), { class: "small" });
  return h(
    "section",
    { class: `webhook${hook.active ? "" : " inactive"}`, dataset: { webhook: hook.id } },
    h("h2", null, hook.name, hook.active ? null : h("span", { class: "badge" }, "paused")),
    h("p", null, h("code", null, hook.url)),
    h("p", { class: "muted" }, `Events: ${hook.events.split(",").join(", ")} · ${hook.secret ? "signed (HMAC-SHA256)" : "unsigned"}`),
    h("div", { class: "toolbar" }, show, toggle, remove),
    log,
  );
}

export async function renderWebhooks(ctx: Ctx, root: HTMLElement, ws: string, p: string, m: string): Promise<void> {
  replace(root, loading());
  const [workspace, project, module] = await Promise.all([ctx.api.getWorkspace(ws), ctx.api.getProject(ws, p), ctx.api.getModule(m)]);
  const head = [
    moduleCrumbs({ ws, p, m }, { workspace: workspace.name, project: project.name, module: module.name }, "Webhooks"),
    h("h1", null, `Webhooks of ${module.name}`),
  ];
  if (!hasRole(ctx, "admin")) {
    replace(root, head, h("p", null, "Only administrators manage webhooks."));
    return;
  }
  const hooks = await ctx.api.listWebhooks(m);
  const reload = () => renderWebhooks(ctx, root, ws, p, m);

  const name = h("input", { name: "name", required: true, autocomplete: "off" });
  const url = h("input", { name: "url", type: "url", required: true, placeholder: "https://ci.example.com/hooks/req1" });
  const secret = h("input", { name: "secret", type: "password", autocomplete: "new-password" });
  const submit = h("button", { type: "submit", class: "primary" }, "Add webhook");
  const form = h(
    "form",
    { class: "inline-form create-webhook" },
    h("h2", null, "New webhook"),
    field("Name", name),
    field("URL", url, "the receiver gets a POST with a JSON body for each event"),
    field("Secret", secret, "optional: deliveries are signed with it (X-Webhook-Signature)"),
    eventBoxes(EVENTS),
    submit,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const events = checkedEvents(form);
    if (!events) return void toast("Choose at least one event", "error");
    const made = await busy(submit, () =>
      ctx.api.createWebhook(m, { name: name.value.trim(), url: url.value.trim(), secret: secret.value || null, events }), "Add webhook");
    if (made) {
      toast(`Webhook ${made.name} added`, "success");
      await reload();
    }
  });

  replace(
    root,
    head,
    h("p", { class: "lead" }, "Each create, change or deletion of an object in this module is sent to the URLs below, in order per object, retried when the receiver is down."),
    hooks.length ? hooks.map((hook) => hookCard(ctx, m, hook, reload)) : empty("No webhooks yet."),
    form,
  );
}
