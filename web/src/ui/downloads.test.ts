import { describe, expect, it } from "vitest";
import { dispositionFileName } from "./downloads";

describe("dispositionFileName", () => {
  it("prefers filename* and decodes it", () => {
    expect(dispositionFileName(`attachment; filename="a.reqif"; filename*=UTF-8''Br%C3%BCcke.reqif`, "x")).toBe("Brücke.reqif");
  });
  it("reads quoted and bare filenames", () => {
    expect(dispositionFileName('attachment; filename="objects.csv"', "x")).toBe("objects.csv");
    expect(dispositionFileName("attachment; filename=m.reqifz", "x")).toBe("m.reqifz");
  });
  it("falls back", () => {
    expect(dispositionFileName(null, "fallback.bin")).toBe("fallback.bin");
    expect(dispositionFileName("inline", "fallback.bin")).toBe("fallback.bin");
  });
});
