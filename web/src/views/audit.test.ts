import { afterEach, describe, expect, it, vi } from "vitest";
import type { AuditLogEntry, AuditVerification, Role } from "../api/types";
import { parseRoute, hrefOf } from "../router";
import { buttonNamed, fakeCtx, settle } from "../test/fake";
import { actorName, AUDIT_PAGE, describeDetails, describeVerification, renderAudit, toLocalInput } from "./audit";

function entry(id: number, over: Partial<AuditLogEntry> = {}): AuditLogEntry {
  return {
    id, user_id: "0190aaaa-bbbb-7ccc-8ddd-eeeeffff0001", action: "update", entity_type: "module",
    entity_id: "0190aaaa-bbbb-7ccc-8ddd-eeeeffff0002", details: { fields: ["name", "prefix"] },
    ip_address: "10.0.0.7", created_at: "2026-12-03T09:00:00Z", ...over,
  };
}

const intact: AuditVerification = { valid: true, entries: 120, head: { id: 120, hash: "ab".repeat(32) }, first_invalid: null };
const broken: AuditVerification = { ...intact, valid: false, first_invalid: { id: 17, problem: "hash mismatch" } };

function setup(role: Role, total = 3, verification = intact) {
  const all = Array.from({ length: total }, (_, i) => entry(total - i));
  return fakeCtx(role, {
    listAuditLog: vi.fn(async (_f: unknown, offset: number, limit: number) => ({
      items: all.slice(offset, offset + limit), total, offset, limit,
    })),
    verifyAuditLog: vi.fn(async () => verification),
    listUsers: vi.fn(async () => ({ items: [{ id: "0190aaaa-bbbb-7ccc-8ddd-eeeeffff0001", email: "ann@x" }], total: 1 })),
  });
}

afterEach(() => {
  vi.unstubAllGlobals();
  history.replaceState(null, "", "/");
});

describe("audit log screen", () => {
  it("is for admins only", async () => {
    const { ctx, api } = setup("editor");
    const root = document.createElement("div");
    await renderAudit(ctx, root, {});
    expect(root.textContent).toContain("Only administrators can view the audit log.");
    expect(api.listAuditLog).not.toHaveBeenCalled();
  });

  it("lists entries newest first with their details and pages through the rest", async () => {
    const { ctx, api } = setup("admin", AUDIT_PAGE + 5);
    const root = document.createElement("div");
    document.body.replaceChildren(root);
    await renderAudit(ctx, root, { entity_type: "module" });
    expect(api.listAuditLog).toHaveBeenCalledWith({ entity_type: "module" }, 0, AUDIT_PAGE);
    let rows = root.querySelectorAll("tbody tr");
    expect(rows).toHaveLength(AUDIT_PAGE);
    expect(rows[0].getAttribute("data-entry")).toBe(String(AUDIT_PAGE + 5));
    expect(rows[0].textContent).toContain("name changed; prefix changed");
    expect(rows[0].textContent).toContain("ann@x"); // the actor by email, not by id
    expect(root.textContent).toContain(`${AUDIT_PAGE} of ${AUDIT_PAGE + 5} entries`);
    const more = buttonNamed(root, "Load more")!;
    expect(more.hidden).toBe(false);
    more.click();
    await settle();
    expect(api.listAuditLog).toHaveBeenLastCalledWith({ entity_type: "module" }, AUDIT_PAGE, AUDIT_PAGE);
    rows = root.querySelectorAll("tbody tr");
    expect(rows).toHaveLength(AUDIT_PAGE + 5);
    expect(more.hidden).toBe(true);
  });

  it("says whether the chain is intact and where it breaks", async () => {
    for (const [verification, text, cls] of [
      [intact, "Chain intact: 120 entries, head #120", "ok"],
      [broken, "Chain broken at entry #17: hash mismatch", "broken"],
    ] as const) {
      const { ctx, api } = setup("admin", 1, verification);
      const root = document.createElement("div");
      await renderAudit(ctx, root, {});
      buttonNamed(root, "Verify chain")!.click();
      await settle();
      expect(api.verifyAuditLog).toHaveBeenCalledTimes(1);
      const verdict = root.querySelector(".audit-verdict")!;
      expect(verdict.textContent).toContain(text);
      expect(verdict.classList.contains(cls)).toBe(true);
    }
  });

  it("keeps the filters in the URL", async () => {
    const { ctx } = setup("admin");
    const root = document.createElement("div");
    document.body.replaceChildren(root);
    await renderAudit(ctx, root, {});
    const form = root.querySelector<HTMLFormElement>("form.audit-filters")!;
    form.querySelector<HTMLInputElement>("input[name=action]")!.value = "delete";
    form.querySelector<HTMLInputElement>("input[name=entity_type]")!.value = " baseline ";
    form.dispatchEvent(new Event("submit", { cancelable: true }));
    expect(window.location.pathname).toBe("/admin/audit");
    const route = parseRoute(window.location.pathname, window.location.search);
    expect(route).toEqual({ name: "audit", filters: { entity_type: "baseline", action: "delete" } });
    expect(hrefOf(route)).toBe("/admin/audit?entity_type=baseline&action=delete");
  });

  it("shows an empty log plainly", async () => {
    const { ctx } = setup("admin", 0);
    const root = document.createElement("div");
    await renderAudit(ctx, root, { action: "nothing" });
    expect(root.querySelector("table")).toBeNull();
    expect(root.textContent).toContain("No entries match these filters.");
  });
});

describe("audit formatting", () => {
  it("describes details and times", () => {
    expect(describeDetails(null)).toBe("");
    expect(describeDetails({ email: "a@x", n: 3, nested: { a: 1 } })).toBe('email: a@x; n: 3; nested: {"a":1}');
    expect(describeDetails({ fields: ["description", "name"], before: { description: null, name: "A" }, after: { description: "d", name: "B" } }))
      .toBe("description: ∅ → d; name: A → B");
    expect(describeDetails({ fields: ["password_hash"], before: null, after: null })).toBe("password_hash changed");
    expect(describeDetails({ after: { id: "x", name: "Tried", created_at: "t" } })).toBe("name: Tried");
    expect(describeDetails({ before: { id: "x", heading: "Gone" } })).toBe("heading: Gone");
    expect(describeDetails({ blob: "x".repeat(300) }).length).toBe(201);
    expect(toLocalInput(undefined)).toBe("");
    expect(toLocalInput("garbage")).toBe("");
    expect(toLocalInput(new Date(2026, 11, 3, 9, 5).toISOString())).toBe("2026-12-03T09:05");
    expect(describeVerification({ ...broken, first_invalid: null })).toBe("Chain broken");
    expect(actorName(null, new Map())).toBe("system");
    expect(actorName("0190aaaa-bbbb-7ccc-8ddd-eeeeffff0009", new Map())).toBe("…ffff0009");
  });
});
