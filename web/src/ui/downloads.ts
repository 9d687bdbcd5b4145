// Downloads, exports and publish pages open in the browser, which cannot send the
// bearer header: each gets a fresh 60 s link token (POST /auth/link-token) as ?token=.

import type { ApiClient, Query } from "../api/client";
import { h } from "../lib/dom";
import { busy } from "./common";

/** Save a file from an attachment-disposition route (ReqIF export, CSV publish). */
export async function download(api: ApiClient, trigger: HTMLElement, path: string, query?: Query): Promise<void> {
  const url = await busy(trigger, () => api.linkUrl(path, query), "Download");
  if (!url) return;
  const a = h("a", { href: url, download: "", hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
}

/** Open a rendered page (HTML/Markdown publish) in a new tab. */
export async function openInTab(api: ApiClient, trigger: HTMLElement, path: string, query?: Query): Promise<void> {
  // Open the tab inside the click so popup blockers allow it, then point it at the URL.
  const win = window.open("about:blank", "_blank");
  const url = await busy(trigger, () => api.linkUrl(path, query), "Publish");
  if (!url) {
    win?.close();
    return;
  }
  if (win) {
    win.opener = null;
    win.location.href = url;
  } else {
    window.location.href = url;
  }
}
