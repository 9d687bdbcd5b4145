import { describe, expect, it } from "vitest";
import { mentionSegments } from "./mentions";

describe("mentionSegments", () => {
  it("marks only the mentioned users' names, case-insensitively, longest first", () => {
    const segs = mentionSegments("ping @ann lee and @Bob, not @carol", [
      { id: "a2", name: "Ann" },
      { id: "a", name: "Ann Lee" },
      { id: "b", name: "Bob" },
    ]);
    expect(segs).toEqual([
      { text: "ping " },
      { text: "@ann lee", userId: "a" },
      { text: " and " },
      { text: "@Bob", userId: "b" },
      { text: ", not @carol" },
    ]);
  });

  it("returns the text unchanged without mentions", () => {
    expect(mentionSegments("a@b.c", [])).toEqual([{ text: "a@b.c" }]);
    expect(mentionSegments("", [{ id: "x", name: "" }])).toEqual([]);
  });
});
