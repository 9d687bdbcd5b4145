import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import type { AppUser, Role } from "../api/types";
import { buttonNamed, fakeCtx, page, settle } from "../test/fake";
import { passwordProblem, renderAccount, renderUsers } from "./users";

const people: AppUser[] = [
  { id: "me", email: "me@x", display_name: "Me", role: "admin", active: true },
  { id: "u2", email: "ann@x", display_name: "Ann", role: "viewer", active: true },
  { id: "u3", email: "old@x", display_name: "Old", role: "editor", active: false },
];

function setup(role: Role) {
  return fakeCtx(role, {
    listUsers: vi.fn(async () => page(people)),
    createUser: vi.fn(async (u: AppUser) => ({ ...u, id: "new" })),
    updateUser: vi.fn(async (id: string, input: Partial<AppUser>) => ({ ...people.find((p) => p.id === id)!, ...input })),
    changePassword: vi.fn(async () => undefined),
  });
}

afterEach(() => vi.unstubAllGlobals());

describe("users admin", () => {
  it("is for admins only", async () => {
    const { ctx, api } = setup("editor");
    const root = document.createElement("div");
    await renderUsers(ctx, root);
    expect(root.textContent).toContain("Only administrators manage users.");
    expect(api.listUsers).not.toHaveBeenCalled();
    expect(root.querySelector("table")).toBeNull();
  });

  it("lists users and changes roles, activity and passwords", async () => {
    const { ctx, api } = setup("admin");
    const root = document.createElement("div");
    document.body.replaceChildren(root);
    await renderUsers(ctx, root);
    const rows = root.querySelectorAll("tbody tr");
    expect(rows).toHaveLength(3);
    expect(rows[2].classList.contains("inactive")).toBe(true);
    const ann = root.querySelector<HTMLElement>("tr[data-user='u2']")!;
    const role = ann.querySelector<HTMLSelectElement>("select[name=role]")!;
    role.value = "editor";
    role.dispatchEvent(new Event("change"));
    await settle();
    expect(api.updateUser).toHaveBeenCalledWith("u2", { role: "editor" });

    const pw = ann.querySelector<HTMLInputElement>("input[type=password]")!;
    pw.value = "short";
    ann.querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true }));
    await settle();
    expect(api.updateUser).toHaveBeenCalledTimes(1);
    pw.value = "long-enough-1";
    ann.querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true }));
    await settle();
    expect(api.updateUser).toHaveBeenLastCalledWith("u2", { password: "long-enough-1" });

    vi.stubGlobal("confirm", vi.fn(() => true));
    buttonNamed(ann, "Deactivate")!.click();
    await settle();
    expect(api.updateUser).toHaveBeenLastCalledWith("u2", { active: false });
    expect(buttonNamed(root.querySelector("tr[data-user='u3']")!, "Activate")).toBeDefined();
  });

  it("creates a user and shows the server's refusal as a toast", async () => {
    const { ctx, api } = setup("admin");
    const root = document.createElement("div");
    document.body.replaceChildren(root);
    await renderUsers(ctx, root);
    const form = root.querySelector<HTMLFormElement>("form.create-user")!;
    (form.querySelector("input[name=email]") as HTMLInputElement).value = " new@x ";
    (form.querySelector("input[name=display_name]") as HTMLInputElement).value = "New";
    (form.querySelector("select[name=role]") as HTMLSelectElement).value = "reviewer";
    form.dispatchEvent(new Event("submit", { cancelable: true }));
    await settle();
    expect(api.createUser).toHaveBeenCalledWith({ email: "new@x", display_name: "New", role: "reviewer", password: undefined });

    api.createUser.mockRejectedValueOnce(new ApiError(409, "CONFLICT", "user with email new@x already exists", "rid-9"));
    root.querySelector<HTMLFormElement>("form.create-user")!.dispatchEvent(new Event("submit", { cancelable: true }));
    await settle();
    const toastEl = document.querySelector(".toast-error");
    expect(toastEl?.textContent).toContain("user with email new@x already exists");
    expect(toastEl?.textContent).toContain("rid-9");
  });
});

describe("account", () => {
  it("checks the new password locally, then changes it", async () => {
    expect(passwordProblem("short", "short")).toContain("at least 8");
    expect(passwordProblem("long-enough", "long-enougH")).toBe("The two new passwords differ");
    expect(passwordProblem("long-enough", "long-enough")).toBeNull();

    const { ctx, api } = setup("viewer");
    const root = document.createElement("div");
    document.body.replaceChildren(root);
    renderAccount(ctx, root);
    const form = root.querySelector<HTMLFormElement>("form.change-password")!;
    const set = (name: string, v: string) => ((form.querySelector(`input[name=${name}]`) as HTMLInputElement).value = v);
    set("old_password", "old-password");
    set("new_password", "new-password-1");
    set("new_password_again", "new-password-2");
    form.dispatchEvent(new Event("submit", { cancelable: true }));
    await settle();
    expect(api.changePassword).not.toHaveBeenCalled();
    expect(form.querySelector(".form-error")?.textContent).toBe("The two new passwords differ");
    set("new_password_again", "new-password-1");
    form.dispatchEvent(new Event("submit", { cancelable: true }));
    await settle();
    expect(api.changePassword).toHaveBeenCalledWith("old-password", "new-password-1");
    expect(root.textContent).not.toContain("Manage users");
  });
});
