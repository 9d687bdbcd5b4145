// Members of a workspace (per-workspace access): who may see it and with which role there. Administrators — of
// the whole installation or of this workspace — add users, change their role and remove them; the server decides.

import type { AppUser, Role, WorkspaceMember } from "../api/types";
import { h, replace } from "../lib/dom";
import { formatTime } from "../lib/format";
import { busy, button, crumbs, empty, field, forgetMemberships, link, loading, type Ctx } from "../ui/common";
import { toast } from "../ui/toast";
import { ROLES } from "./users";

/** Whether the signed-in user manages this workspace's members: a global admin, or an admin member of it. */
export function mayManage(me: Pick<AppUser, "id" | "role"> | undefined, members: WorkspaceMember[]): boolean {
  if (!me) return false;
  return me.role === "admin" || members.some((x) => x.user_id === me.id && x.role === "admin");
}

/** Users who may be added: active ones not yet members, by email. */
export function candidates(users: AppUser[], members: WorkspaceMember[]): AppUser[] {
  const inside = new Set(members.map((x) => x.user_id));
  return users.filter((u) => !inside.has(u.id) && u.active !== false).sort((a, b) => a.email.localeCompare(b.email));
}

function roleSelect(current: Role, label?: string): HTMLSelectElement {
  return h("select", { name: "role", "aria-label": label }, ROLES.map((r) => h("option", { value: r, selected: r === current }, r)));
}

export async function renderMembers(ctx: Ctx, root: HTMLElement, ws: string): Promise<void> {
  replace(root, loading());
  const [workspace, members] = await Promise.all([ctx.api.getWorkspace(ws), ctx.api.listWorkspaceMembers(ws)]);
  const me = ctx.api.session?.user;
  const manage = mayManage(me, members.items);
  // Only managers need the user list (and non-admins may not be shown every user).
  const users = manage ? (await ctx.api.listUsers().catch(() => ({ items: [] as AppUser[] }))).items : [];
  const reload = () => renderMembers(ctx, root, ws);

  const row = (x: WorkspaceMember): HTMLElement => {
    let role: HTMLElement = h("span", { class: "badge" }, x.role);
    if (manage) {
      const select = roleSelect(x.role, `Role of ${x.email} in ${workspace.name}`);
      select.addEventListener("change", async () => {
        const done = await busy(select, () => ctx.api.setWorkspaceMember(ws, x.user_id, select.value as Role), `Role of ${x.email}`);
        if (done) {
          forgetMemberships();
          toast(`${x.email} is now ${done.role} in ${workspace.name}`, "success");
          x.role = done.role;
        } else {
          select.value = x.role;
        }
      });
      role = select;
    }
    const remove = manage
      ? button("Remove", async (ev) => {
          if (!window.confirm(`Remove ${x.email} from ${workspace.name}? They no longer see it.`)) return;
          if (await busy(ev.currentTarget as HTMLElement, () => ctx.api.removeWorkspaceMember(ws, x.user_id).then(() => true), x.email)) {
            forgetMemberships();
            toast(`Removed ${x.email} from ${workspace.name}`, "success");
            await reload();
          }
        }, { class: "small danger", "aria-label": `Remove ${x.email}` })
      : null;
    return h(
      "tr",
      { dataset: { member: x.user_id } },
      h("th", { scope: "row" }, x.display_name, x.user_id === me?.id ? h("small", { class: "muted" }, " (you)") : null),
      h("td", null, x.email),
      h("td", null, role),
      h("td", null, formatTime(x.created_at)),
      h("td", null, remove),
    );
  };

  let form: HTMLElement | null = null;
  if (manage) {
    const pool = candidates(users, members.items);
    const user = h("select", { name: "user_id", required: true },
      h("option", { value: "" }, pool.length ? "Choose a user…" : "Every user is a member"),
      pool.map((u) => h("option", { value: u.id }, `${u.display_name} <${u.email}>`)));
    const role = roleSelect("viewer"); // labelled by its field
    const submit = h("button", { type: "submit", class: "primary" }, "Add member");
    const hint = me?.role === "admin" ? undefined : "only users who share a workspace with you are listed";
    form = h("form", { class: "inline-form add-member", "aria-label": "Add a member" }, h("h2", null, "Add a member"), field("User", user, hint), field("Role", role), submit);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!user.value) return void toast("Choose a user", "error");
      const done = await busy(submit, () => ctx.api.setWorkspaceMember(ws, user.value, role.value as Role), "Add member");
      if (done) {
        forgetMemberships();
        toast(`${done.email} is now a ${done.role} of ${workspace.name}`, "success");
        await reload();
      }
    });
  }

  replace(
    root,
    crumbs(link({ name: "workspaces" }, "Workspaces"), link({ name: "workspace", ws }, workspace.name), "Members"),
    h("h1", null, `Members of ${workspace.name}`),
    h("p", { class: "lead" }, "Only members see this workspace, its projects and modules, each with the role given here; administrators of the installation see every workspace."),
    members.items.length
      ? h(
          "table",
          { class: "members" },
          h("thead", null, h("tr", null, ["Name", "Email", "Role", "Member since", ""].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", null, members.items.map(row)),
        )
      : empty("No members yet."),
    form,
  );
}
