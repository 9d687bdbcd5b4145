import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeCtx } from "../test/fake";
import { currentRole, enterWorkspace, forgetMemberships, hasRole, workspaceRoleOf } from "./common";

afterEach(async () => {
  forgetMemberships();
});

const memberships = [{ workspace_id: "wa", role: "editor" as const }, { workspace_id: "wb", role: "viewer" as const }];

describe("roles inside a workspace", () => {
  it("are the membership's, admins being admins everywhere, else the global role", () => {
    expect(workspaceRoleOf({ role: "viewer", workspaces: memberships }, "wa")).toBe("editor");
    expect(workspaceRoleOf({ role: "editor", workspaces: memberships }, "wb")).toBe("viewer");
    expect(workspaceRoleOf({ role: "reviewer", workspaces: memberships }, "wc")).toBe("reviewer");
    expect(workspaceRoleOf({ role: "admin", workspaces: [] }, "wa")).toBe("admin");
    expect(workspaceRoleOf({ role: "viewer" }, "wa")).toBe("viewer");
  });

  it("decide what a screen offers once the router entered the workspace, with one /auth/me for a while", async () => {
    const me = vi.fn(async () => ({ id: "me", email: "me@x", display_name: "Me", role: "viewer", workspaces: memberships }));
    const { ctx } = fakeCtx("viewer", { me });
    await enterWorkspace(ctx, "wa");
    expect(currentRole(ctx)).toBe("editor");
    expect(hasRole(ctx, "editor")).toBe(true);
    await enterWorkspace(ctx, "wb");
    expect(hasRole(ctx, "reviewer")).toBe(false);
    await enterWorkspace(ctx, null);
    expect(currentRole(ctx)).toBe("viewer");
    expect(me).toHaveBeenCalledTimes(1);
    forgetMemberships();
    await enterWorkspace(ctx, "wa");
    expect(me).toHaveBeenCalledTimes(2);
    await enterWorkspace(ctx, null);
  });

  it("keep the global role when /auth/me fails, and never ask for a global admin", async () => {
    const failing = fakeCtx("reviewer", { me: vi.fn(async () => { throw new Error("offline"); }) });
    await enterWorkspace(failing.ctx, "wa");
    expect(currentRole(failing.ctx)).toBe("reviewer");
    const admin = fakeCtx("admin", { me: vi.fn() });
    await enterWorkspace(admin.ctx, "wa");
    expect(currentRole(admin.ctx)).toBe("admin");
    expect(admin.api.me).not.toHaveBeenCalled();
  });
});
