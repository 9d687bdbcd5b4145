// Attachments tab of the object panel: files with size and SHA-256, upload (editors),
// download through the signed download_url, an integrity check, and delete (editors).

import type { Attachment, ReqObject } from "../api/types";
import { h, replace } from "../lib/dom";
import { formatBytes, formatTime } from "../lib/format";
import { busy, button, field, hasRole, loading, type Ctx } from "../ui/common";
import { downloadSigned } from "../ui/downloads";
import { toast } from "../ui/toast";

/** The first 12 hex digits: enough to compare by eye, the full hash is in the title. */
export function shortSha(sha: string): string {
  return sha.length > 12 ? `${sha.slice(0, 12)}…` : sha;
}

export async function renderAttachments(ctx: Ctx, body: HTMLElement, obj: ReqObject, changed?: () => void): Promise<void> {
  replace(body, loading());
  let items: Attachment[];
  try {
    items = await ctx.api.attachments(obj.id);
  } catch (err) {
    replace(body, h("p", { class: "form-error" }, (err as Error).message));
    return;
  }
  const reload = (): Promise<void> => {
    changed?.(); // every call follows a change: the grid refreshes its attachment counts
    return renderAttachments(ctx, body, obj, changed);
  };
  const canEdit = hasRole(ctx, "editor");

  // A list rather than a table: the side panel is narrow.
  const item = (a: Attachment): HTMLElement => {
    const status = h("span", { class: "verify-status", role: "status" });
    return h(
      "li",
      { class: "attachment", dataset: { attachment: a.id } },
      h("div", { class: "attachment-name" }, h("strong", null, a.file_name), h("small", { class: "muted" }, ` ${a.content_type}`)),
      h(
        "div",
        { class: "attachment-meta muted" },
        h("span", { class: "size" }, formatBytes(a.size_bytes)),
        " · SHA-256 ",
        h("code", { title: a.sha256 }, shortSha(a.sha256)),
        ` · ${formatTime(a.created_at)}`,
      ),
      h(
        "div",
        { class: "attachment-actions" },
        button("Download", (ev) => void downloadSigned(ev.currentTarget as HTMLElement, ctx.api.absoluteUrl(a.download_url), a.file_name), { class: "small" }),
        button("Verify", async (ev) => {
          const res = await busy(ev.currentTarget as HTMLElement, () => ctx.api.verifyAttachment(obj.id, a.id), "Verify");
          if (!res) return;
          status.className = `verify-status badge ${res.valid ? "valid" : "invalid"}`;
          status.textContent = res.valid ? "✓ valid" : res.actual_sha256 ? "✗ invalid: content changed" : "✗ invalid: content missing";
          status.title = res.actual_sha256 ? `stored content: ${res.actual_sha256}` : "no content in storage";
        }, { class: "small" }),
        canEdit
          ? button("Delete", async (ev) => {
              if (!window.confirm(`Delete attachment ${a.file_name}?`)) return;
              const ok = await busy(ev.currentTarget as HTMLElement, async () => {
                await ctx.api.deleteAttachment(obj.id, a.id);
                return true;
              }, "Delete attachment");
              if (ok) await reload();
            }, { class: "small danger" })
          : null,
        status,
      ),
    );
  };

  let form: HTMLElement | null = null;
  if (canEdit) {
    const file = h("input", { type: "file", name: "file", required: true });
    const submit = h("button", { type: "submit", class: "primary small" }, "Upload");
    const progress = h("progress", { hidden: true, max: 100, "aria-label": "Upload progress" });
    form = h("form", { class: "inline-form upload-form" }, h("h3", null, "Upload a file"), field("File", file), submit, progress);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const chosen = file.files?.[0];
      if (!chosen) return void toast("Choose a file to upload", "error");
      progress.hidden = false;
      progress.removeAttribute("value"); // indeterminate until the first progress event
      const onProgress = (loaded: number, total: number) => {
        progress.value = total ? Math.round((100 * loaded) / total) : 0;
      };
      const done = await busy(submit, () => ctx.api.uploadAttachment(obj.id, chosen, onProgress), "Upload");
      progress.hidden = true;
      if (done) {
        toast(`Uploaded ${done.file_name} (${formatBytes(done.size_bytes)})`, "success");
        await reload();
      }
    });
  }

  replace(
    body,
    h("h3", null, `Attachments (${items.length})`),
    items.length ? h("ul", { class: "attachments" }, items.map(item)) : h("p", { class: "muted" }, "No attachments."),
    form,
  );
}
