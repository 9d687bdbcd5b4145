import { describe, expect, it, vi } from "vitest";
import type { ReviewPackage, Role } from "../api/types";
import { buttonNamed, fakeCtx, page, settle } from "../test/fake";
import { MOVES, needsSignature, renderReviews, signDialog } from "./reviews";

const pkg: ReviewPackage = {
  id: "k1", module_id: "m", name: "Release 1 review", description: null, status: "in_review", created_by: "u9",
  created_at: "2026-12-03T09:00:00Z", updated_at: "2026-12-03T09:00:00Z",
};

function setup(role: Role, config: Record<string, unknown> | null = { require_signature_transitions: ["in_review->approved"] }) {
  return fakeCtx(role, {
    getWorkspace: vi.fn(async () => ({ id: "w", name: "W" })),
    getProject: vi.fn(async () => ({ id: "p", name: "P" })),
    getModule: vi.fn(async () => ({ id: "m", name: "Reqs", signature_config: config })),
    listReviewPackages: vi.fn(async () => page([pkg])),
    votingSummary: vi.fn(async () => [{ package_id: "k1", package_name: "x", package_status: "in_review", total_assignments: 1, approved: 0, rejected: 0, abstained: 0, pending: 1 }]),
    listUsers: vi.fn(async () => page([{ id: "me", email: "me@x" }, { id: "u2", email: "ann@x" }])),
    listAssignments: vi.fn(async () => page([{ id: "a1", package_id: "k1", reviewer_id: "me", status: "pending", comment: null, signed_at: null, created_at: "" }])),
    signaturesOf: vi.fn(async () => [{ id: "s1", user_id: "me", entity_type: "review_package", entity_id: "k1", meaning: "Reviewed", signature_hash: "ab".repeat(32), ip_address: null, created_at: "2026-12-03T09:00:00Z", signer_email: "me@x", signer_name: "Me", entity_version: null, entity_fingerprint: "f" }]),
    verifySignature: vi.fn(async () => ({ signature_id: "s1", valid: true, entity_changed: true })),
    transitionPackage: vi.fn(async (_m: string, _id: string, input: { status: string }) => ({ ...pkg, status: input.status })),
    vote: vi.fn(async () => ({})),
    assignReviewer: vi.fn(async () => ({})),
    createReviewPackage: vi.fn(async () => pkg),
  });
}

describe("review rules", () => {
  it("knows the graph and which moves need a signature", () => {
    expect(MOVES.in_review).toEqual(["approved", "rejected", "open"]);
    expect(MOVES.closed).toEqual([]);
    expect(needsSignature({ require_signature_transitions: ["in_review->approved"] }, "in_review", "approved")).toBe(true);
    expect(needsSignature({ require_signature_transitions: ["in_review->approved"] }, "in_review", "rejected")).toBe(false);
    expect(needsSignature(null, "draft", "open")).toBe(false);
  });

  it("the sign dialog asks for both password and meaning", async () => {
    const d = signDialog("x");
    document.body.replaceChildren(d.element);
    d.element.querySelector<HTMLInputElement>("input[name=meaning]")!.value = "";
    d.element.dispatchEvent(new Event("submit", { cancelable: true }));
    d.element.querySelector<HTMLInputElement>("input[name=password]")!.value = "pw";
    d.element.querySelector<HTMLInputElement>("input[name=meaning]")!.value = " Approved for release ";
    d.element.dispatchEvent(new Event("submit", { cancelable: true }));
    expect(await d.result).toEqual({ password: "pw", meaning: "Approved for release" });
  });
});

describe("reviews screen", () => {
  it("signs a move the module requires a signature for, and moves others plainly", async () => {
    const { ctx, api } = setup("reviewer");
    const root = document.createElement("div");
    document.body.replaceChildren(root);
    await renderReviews(ctx, root, "w", "p", "m");
    const card = root.querySelector<HTMLElement>("section[data-package='k1']")!;
    expect(card.textContent).toContain("0 approved · 0 rejected · 0 abstained · 1 pending");
    expect(root.textContent).toContain("Moves that need an e-signature here: in_review->approved");

    buttonNamed(card, "→ approved ✍")!.click();
    await settle();
    const dialog = card.querySelector<HTMLFormElement>("form.sign-dialog")!;
    dialog.querySelector<HTMLInputElement>("input[name=password]")!.value = "my-password";
    dialog.querySelector<HTMLInputElement>("input[name=meaning]")!.value = "Approved for release";
    dialog.dispatchEvent(new Event("submit", { cancelable: true }));
    await settle();
    expect(api.transitionPackage).toHaveBeenCalledWith("m", "k1", { status: "approved", password: "my-password", meaning: "Approved for release" });

    const fresh = root.querySelector<HTMLElement>("section[data-package='k1']")!;
    buttonNamed(fresh, "→ rejected")!.click();
    await settle();
    expect(api.transitionPackage).toHaveBeenLastCalledWith("m", "k1", { status: "rejected" });
  });

  it("lets the assigned reviewer vote, and verifies a signature", async () => {
    const { ctx, api } = setup("reviewer");
    const root = document.createElement("div");
    document.body.replaceChildren(root);
    await renderReviews(ctx, root, "w", "p", "m");
    const row = root.querySelector<HTMLElement>("li[data-assignment='a1']")!;
    expect(row.textContent).toContain("me@x");
    buttonNamed(row, "Approve")!.click();
    await settle();
    expect(api.vote).toHaveBeenCalledWith("k1", "a1", "approved");
    const sig = root.querySelector<HTMLElement>("li[data-signature='s1']")!;
    buttonNamed(sig, "Verify")!.click();
    await settle();
    expect(sig.querySelector(".verdict")!.textContent).toBe("valid; the package changed since");
  });

  it("shows viewers the packages without moves, votes or forms", async () => {
    const { ctx } = setup("viewer", null);
    const root = document.createElement("div");
    await renderReviews(ctx, root, "w", "p", "m");
    expect(root.querySelector("[aria-label='Move to']")).toBeNull();
    expect(root.querySelector("form.create-package")).toBeNull();
    expect(root.textContent).toContain("No move of this module needs an e-signature.");
  });
});
