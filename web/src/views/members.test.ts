import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import type { AppUser, Role, WorkspaceMember } from "../api/types";
import { buttonNamed, fakeCtx, page, settle } from "../test/fake";
import { candidates, mayManage, renderMembers } from "./members";

afterEach(() => vi.unstubAllGlobals());

const member = (user_id: string, role: Role): WorkspaceMember => ({ user_id, email: `${user_id}@x`, display_name: user_id.toUpperCase(), role, created_at: "2026-12-03T10:00:00Z" });
const user = (id: string, over: Partial<AppUser> = {}): AppUser => ({ id, email: `${id}@x`, display_name: id, role: "viewer", ...over });

describe("member rules", () => {
  it("global admins and admins of the workspace manage its members", () => {
    const members = [member("wa", "admin"), member("ed", "editor")];
    expect(mayManage({ id: "x", role: "admin" }, [])).toBe(true);
    expect(mayManage({ id: "wa", role: "viewer" }, members)).toBe(true);
    expect(mayManage({ id: "ed", role: "editor" }, members)).toBe(false);
    expect(mayManage(undefined, members)).toBe(false);
  });

  it("offers active users who are not members yet, by email", () => {
    const users = [user("zed"), user("ann"), user("ed"), user("old", { active: false })];
    expect(candidates(users, [member("ed", "editor")]).map((u) => u.id)).toEqual(["ann", "zed"]);
  });
});

function setup(role: Role, members: WorkspaceMember[], over: Record<string, unknown> = {}, userId = "me") {
  return fakeCtx(role, {
    getWorkspace: vi.fn(async () => ({ id: "w", name: "Braking" })),
    listWorkspaceMembers: vi.fn(async () => page(members)),
    listUsers: vi.fn(async () => page([user("me", { role }), user("rita"), user("vera")])),
    setWorkspaceMember: vi.fn(async (_ws: string, id: string, r: Role) => member(id, r)),
    removeWorkspaceMember: vi.fn(async () => undefined),
    ...over,
  }, userId);
}

async function render(role: Role, members: WorkspaceMember[], over: Record<string, unknown> = {}, userId = "me") {
  const { ctx, api } = setup(role, members, over, userId);
  const root = document.createElement("div");
  document.body.replaceChildren(root);
  await renderMembers(ctx, root, "w");
  return { root, api };
}

describe("workspace members screen", () => {
  it("adds a user with a role, changes a role and removes a member", async () => {
    vi.stubGlobal("confirm", vi.fn(() => true));
    const { root, api } = await render("admin", [member("me", "admin"), member("rita", "reviewer")]);
    const options = Array.from(root.querySelectorAll<HTMLOptionElement>("select[name=user_id] option")).map((o) => o.value);
    expect(options).toEqual(["", "vera"]);
    const form = root.querySelector<HTMLFormElement>("form.add-member")!;
    form.querySelector<HTMLSelectElement>("select[name=user_id]")!.value = "vera";
    form.querySelector<HTMLSelectElement>("select[name=role]")!.value = "editor";
    form.dispatchEvent(new Event("submit", { cancelable: true }));
    await settle();
    expect(api.setWorkspaceMember).toHaveBeenCalledWith("w", "vera", "editor");
    expect(api.listWorkspaceMembers).toHaveBeenCalledTimes(2);

    const rita = root.querySelector<HTMLElement>("tr[data-member='rita']")!;
    const role = rita.querySelector<HTMLSelectElement>("select[name=role]")!;
    expect(role.value).toBe("reviewer");
    role.value = "editor";
    role.dispatchEvent(new Event("change"));
    await settle();
    expect(api.setWorkspaceMember).toHaveBeenLastCalledWith("w", "rita", "editor");

    buttonNamed(rita, "Remove")!.click();
    await settle();
    expect(api.removeWorkspaceMember).toHaveBeenCalledWith("w", "rita");
  });

  it("puts a refused role change back and shows the server's message", async () => {
    const refuse = vi.fn(async () => {
      throw new ApiError(409, "CONFLICT", "a workspace needs at least one admin");
    });
    const { root } = await render("viewer", [member("me", "admin")], { setWorkspaceMember: refuse });
    const role = root.querySelector<HTMLSelectElement>("tr[data-member='me'] select[name=role]")!;
    role.value = "viewer";
    role.dispatchEvent(new Event("change"));
    await settle();
    expect(role.value).toBe("admin");
    expect(document.querySelector(".toast-error")!.textContent).toContain("a workspace needs at least one admin");
  });

  it("shows other members the list without controls, and does not ask for every user", async () => {
    const { root, api } = await render("editor", [member("me", "editor"), member("rita", "reviewer")]);
    expect(root.querySelector("tr[data-member='rita']")!.textContent).toContain("reviewer");
    expect(root.querySelector("select, form, button")).toBeNull();
    expect(api.listUsers).not.toHaveBeenCalled();
  });
});
