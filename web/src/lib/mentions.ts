// Split a comment body into text and @mention segments. The server decides who is mentioned
// (active users whose display name follows an "@", case-insensitive); the UI only marks those names.

export interface Segment {
  text: string;
  /** The mentioned user's id when this segment is "@Display Name". */
  userId?: string;
}

export function mentionSegments(body: string, mentioned: { id: string; name: string }[]): Segment[] {
  // Longest names first, so "@Ann Lee" wins over "@Ann".
  const names = mentioned.filter((m) => m.name.trim()).sort((a, b) => b.name.length - a.name.length);
  const lower = body.toLowerCase();
  const out: Segment[] = [];
  let start = 0;
  let i = 0;
  while (i < body.length) {
    const at = body.indexOf("@", i);
    if (at < 0) break;
    const hit = names.find((m) => lower.startsWith(m.name.toLowerCase(), at + 1));
    if (!hit) {
      i = at + 1;
      continue;
    }
    if (at > start) out.push({ text: body.slice(start, at) });
    const end = at + 1 + hit.name.length;
    out.push({ text: body.slice(at, end), userId: hit.id });
    start = i = end;
  }
  if (start < body.length) out.push({ text: body.slice(start) });
  return out;
}
