// Downloads, exports and publish pages are GET routes that also accept a 60 s link token
// (POST /auth/link-token) as ?token=, so the bearer token itself never appears in a URL.

import { errorFromResponse, type ApiClient, type Query } from "../api/client";
import { h } from "../lib/dom";
import { busy } from "./common";

/** The file name from a Content-Disposition header (RFC 6266 filename* first). */
export function dispositionFileName(header: string | null, fallback: string): string {
  if (!header) return fallback;
  const star = header.match(/filename\*\s*=\s*UTF-8''([^;]+)/i);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      // fall through to the plain filename
    }
  }
  const plain = header.match(/filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;]+)/i);
  const name = plain?.[1] ?? plain?.[2]?.trim();
  return name || fallback;
}

/**
 * Save a file from an attachment route (ReqIF export, CSV publish). It is fetched first, so a
 * failure shows the API's error message instead of saving an error document as the file.
 */
export async function download(api: ApiClient, trigger: HTMLElement, path: string, query: Query, fallbackName: string): Promise<void> {
  await busy(trigger, async () => saveFrom(await api.linkUrl(path, query), fallbackName), "Download");
}

/** Save a file from a URL that already carries its authorization (an attachment's signed `download_url`). */
export async function downloadSigned(trigger: HTMLElement, url: string, fallbackName: string): Promise<void> {
  await busy(trigger, () => saveFrom(url, fallbackName), "Download");
}

async function saveFrom(url: string, fallbackName: string): Promise<void> {
  const res = await fetch(url);
  if (!res.ok) throw await errorFromResponse(res);
  const blob = await res.blob();
  const objectUrl = URL.createObjectURL(blob);
  const a = h("a", { href: objectUrl, download: dispositionFileName(res.headers.get("Content-Disposition"), fallbackName), hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(objectUrl), 10_000);
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
