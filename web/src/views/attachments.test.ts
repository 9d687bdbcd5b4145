import { afterEach, describe, expect, it, vi } from "vitest";
import type { Attachment, ReqObject, Role } from "../api/types";
import { buttonNamed, fakeCtx, settle } from "../test/fake";
import { renderAttachments, shortSha } from "./attachments";

const obj = { id: "o1" } as ReqObject;
const sha = "ab".repeat(32);
const att: Attachment = {
  id: "a1", object_id: "o1", file_name: "spec.pdf", content_type: "application/pdf", size_bytes: 2048, sha256: sha,
  created_at: "2026-01-01T00:00:00Z", download_url: "/api/v1/objects/o1/attachments/a1/download?expires=9&signature=ff",
};

async function render(role: Role, verify = { valid: true, actual_sha256: sha }) {
  const { ctx, api } = fakeCtx(role, {
    attachments: vi.fn(async () => [att]),
    uploadAttachment: vi.fn(async (_o: string, f: File, onProgress: (l: number, t: number) => void) => {
      onProgress(3, 5);
      expect(document.querySelector<HTMLProgressElement>("form.upload-form progress")!.value).toBe(60);
      return { ...att, id: "a2", file_name: f.name, size_bytes: f.size };
    }),
    verifyAttachment: vi.fn(async () => ({ attachment_id: "a1", file_name: "spec.pdf", expected_sha256: sha, ...verify })),
    deleteAttachment: vi.fn(async () => undefined),
    absoluteUrl: vi.fn((u: string) => `http://h${u}`),
  });
  const body = document.createElement("div");
  document.body.replaceChildren(body);
  await renderAttachments(ctx, body, obj);
  return { body, api };
}

afterEach(() => vi.unstubAllGlobals());

describe("attachments tab", () => {
  it("lists name, size and short hash; viewers can download and verify only", async () => {
    const { body } = await render("viewer");
    const row = body.querySelector("li[data-attachment='a1']")!;
    expect(row.querySelector(".attachment-name")?.textContent).toBe("spec.pdf application/pdf");
    expect(row.querySelector(".size")?.textContent).toBe("2.0 KiB");
    expect(row.querySelector("code")?.textContent).toBe(shortSha(sha));
    expect(row.querySelector("code")?.getAttribute("title")).toBe(sha);
    expect(Array.from(row.querySelectorAll("button")).map((b) => b.textContent)).toEqual(["Download", "Verify"]);
    expect(body.querySelector("form.upload-form")).toBeNull();
  });

  it("shows the verify result, valid or not", async () => {
    let r = await render("viewer");
    buttonNamed(r.body, "Verify")!.click();
    await settle();
    expect(r.api.verifyAttachment).toHaveBeenCalledWith("o1", "a1");
    expect(r.body.querySelector(".verify-status")?.textContent).toBe("✓ valid");
    r = await render("viewer", { valid: false, actual_sha256: "cd".repeat(32) });
    buttonNamed(r.body, "Verify")!.click();
    await settle();
    const status = r.body.querySelector(".verify-status")!;
    expect(status.textContent).toContain("invalid");
    expect(status.classList.contains("invalid")).toBe(true);
  });

  it("downloads through the signed URL, without a link token", async () => {
    const fetchMock = vi.fn(async () => new Response("pdf", { headers: { "Content-Disposition": 'attachment; filename="spec.pdf"' } }));
    vi.stubGlobal("fetch", fetchMock);
    URL.createObjectURL = vi.fn(() => "blob:x");
    URL.revokeObjectURL = vi.fn();
    const { body } = await render("viewer");
    buttonNamed(body, "Download")!.click();
    await settle();
    expect(fetchMock).toHaveBeenCalledWith("http://h/api/v1/objects/o1/attachments/a1/download?expires=9&signature=ff");
  });

  it("uploads and deletes for editors", async () => {
    const { body, api } = await render("editor");
    const input = body.querySelector<HTMLInputElement>("form.upload-form input[type=file]")!;
    const file = new File(["hello"], "notes.txt", { type: "text/plain" });
    Object.defineProperty(input, "files", { value: [file] });
    // The browser would check `required` against a real file; the double bypasses it.
    body.querySelector<HTMLFormElement>("form.upload-form")!.dispatchEvent(new Event("submit", { cancelable: true }));
    await settle();
    expect(api.uploadAttachment).toHaveBeenCalledWith("o1", file, expect.any(Function));
    expect(body.querySelector<HTMLProgressElement>("form.upload-form progress")!.hidden).toBe(true);
    expect(document.querySelector(".toast-success")?.textContent).toContain("Uploaded notes.txt");
    vi.stubGlobal("confirm", vi.fn(() => true));
    buttonNamed(body, "Delete")!.click();
    await settle();
    expect(api.deleteAttachment).toHaveBeenCalledWith("o1", "a1");
    expect(api.attachments).toHaveBeenCalledTimes(3);
  });
});
