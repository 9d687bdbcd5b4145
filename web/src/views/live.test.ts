import { describe, expect, it } from "vitest";
import { parseEvents } from "./live";

describe("parseEvents", () => {
  it("splits complete events, skips comments and keeps the unfinished rest", () => {
    const { events, rest } = parseEvents('retry: 2000\nevent: ready\ndata: {"a":1}\n\n: ping\n\nevent: change\ndata: {"n":2}\n\nevent: cha');
    expect(events).toEqual([{ event: "ready", data: '{"a":1}' }, { event: "change", data: '{"n":2}' }]);
    expect(rest).toBe("event: cha");
  });
  it("joins multi-line data and accepts CRLF", () => {
    expect(parseEvents("data: a\r\ndata: b\r\n\r\n").events).toEqual([{ event: "message", data: "a\nb" }]);
  });
});
