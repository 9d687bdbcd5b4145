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

/** "1.5 KiB": binary units, one decimal above bytes. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "—";
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(1)} ${units[i]}`;
}

/** "42.5 %" from an unrounded 0–100 float. */
export function formatPct(p: number): string {
  return `${(Math.round(p * 10) / 10).toFixed(1)} %`;
}
