// Live updates of a module: the server's `/modules/{m}/events` stream (server-sent events fed by
// PostgreSQL LISTEN/NOTIFY, so edits through any API replica arrive). Read with fetch rather than
// EventSource so the bearer header and token refresh apply. A dropped stream reconnects with
// backoff and reports `resync`, because events may have been missed meanwhile (catch-up = reload).

import type { ApiClient } from "../api/client";

export type LiveEvent =
  | { kind: "change"; module_id: string; op: "insert" | "update" | "delete"; n: number; items: [string, number][] | null }
  | { kind: "resync" }
  | { kind: "ready" };

export interface LiveConnection {
  close: () => void;
  /** True while a stream is open (tests and the status line read it). */
  readonly connected: boolean;
}

/** Split an event-stream text buffer into complete events; returns them and the unfinished rest. */
export function parseEvents(buffer: string): { events: { event: string; data: string }[]; rest: string } {
  const events: { event: string; data: string }[] = [];
  const blocks = buffer.replace(/\r\n/g, "\n").split("\n\n");
  const rest = blocks.pop() ?? "";
  for (const block of blocks) {
    let event = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const i = line.indexOf(":");
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (data.length) events.push({ event, data: data.join("\n") });
  }
  return { events, rest };
}

export function connectLive(
  api: ApiClient,
  moduleId: string,
  onEvent: (ev: LiveEvent) => void,
  onState: (connected: boolean) => void = () => {},
): LiveConnection {
  let closed = false;
  let connected = false;
  let attempt = 0;
  let everConnected = false;
  let controller: AbortController | null = null;

  async function run(): Promise<void> {
    while (!closed) {
      controller = new AbortController();
      try {
        const res = await api.openStream(`/modules/${encodeURIComponent(moduleId)}/events`, controller.signal);
        const reader = res.body?.getReader();
        if (!reader) throw new Error("no stream body");
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          const parsed = parseEvents(buffer);
          buffer = parsed.rest;
          for (const e of parsed.events) {
            if (e.event === "ready") {
              connected = true;
              onState(true);
              attempt = 0;
              if (everConnected) onEvent({ kind: "resync" }); // catch up on what the gap hid
              everConnected = true;
            } else if (e.event === "change") {
              onEvent({ kind: "change", ...JSON.parse(e.data) });
            } else if (e.event === "resync") {
              onEvent({ kind: "resync" });
            }
          }
        }
      } catch (err) {
        if (closed) return;
        if ((err as { status?: number }).status === 404) return; // module gone: nothing to follow
      } finally {
        if (connected) onState(false);
        connected = false;
      }
      if (closed) return;
      attempt++;
      await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** Math.min(attempt, 5))));
    }
  }
  void run();
  return {
    close() {
      closed = true;
      controller?.abort();
    },
    get connected() {
      return connected;
    },
  };
}
