// Small formatting helpers shared by the views.

/** "2026-02-21 10:11" in the browser's locale-independent ISO-ish form. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * A compact form of a UUID. IDs are UUIDv7, whose leading digits are a timestamp shared by
 * everything created in the same moment, so the random tail is what tells them apart.
 */
export function shortId(id: string | null | undefined): string {
  if (!id) return "—";
  return id.length > 12 ? `…${id.slice(-8)}` : id;
}
