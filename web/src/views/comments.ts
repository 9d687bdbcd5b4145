// Comments tab of the object panel: the discussion on one object, with @mentions marked,
// edit/delete for the author (admins: any), resolve/unresolve for reviewers.

import type { Comment, ReqObject } from "../api/types";
import { h, replace } from "../lib/dom";
import { formatTime, shortId } from "../lib/format";
import { mentionSegments } from "../lib/mentions";
import { busy, button, field, hasRole, loading, type Ctx } from "../ui/common";
import { toast } from "../ui/toast";

/** Render the comments of `obj` into `body`; `users` maps user ids to display names. */
export async function renderComments(ctx: Ctx, body: HTMLElement, obj: ReqObject, users: Map<string, string>, changed?: () => void): Promise<void> {
  replace(body, loading());
  let items: Comment[];
  try {
    items = (await ctx.api.comments(obj.id)).items;
  } catch (err) {
    replace(body, h("p", { class: "form-error" }, (err as Error).message));
    return;
  }
  const reload = (): Promise<void> => {
    changed?.(); // every call follows a change: the grid refreshes its comment counts
    return renderComments(ctx, body, obj, users, changed);
  };
  const me = ctx.api.session?.user.id;
  const canComment = hasRole(ctx, "reviewer");
  const isAdmin = hasRole(ctx, "admin");
  const who = (id: string | null) => (id ? users.get(id) ?? shortId(id) : "(deleted user)");

  const text = (c: Comment) =>
    h(
      "p",
      { class: "comment-body" },
      mentionSegments(c.body, c.mentioned_user_ids.map((id) => ({ id, name: users.get(id) ?? "" }))).map((s) =>
        s.userId ? h("span", { class: "mention", title: `mentions ${who(s.userId)}` }, s.text) : s.text,
      ),
    );

  const item = (c: Comment): HTMLElement => {
    const mine = c.author_id !== null && c.author_id === me;
    const li = h("li", { class: c.resolved ? "comment resolved" : "comment", dataset: { comment: c.id } });
    const view = (): void => {
      replace(
        li,
        h(
          "div",
          { class: "comment-head" },
          h("strong", null, who(c.author_id)),
          " ",
          // No "(edited)" marker: updated_at also moves when a comment is resolved.
          h("span", { class: "muted" }, formatTime(c.created_at)),
          c.resolved ? h("span", { class: "badge resolved" }, "resolved") : null,
        ),
        text(c),
        h(
          "div",
          { class: "comment-actions" },
          canComment
            ? button(c.resolved ? "Reopen" : "Resolve", async (ev) => {
                if (await busy(ev.currentTarget as HTMLElement, () => ctx.api.updateComment(obj.id, c.id, { resolved: !c.resolved }), "Comment")) await reload();
              }, { class: "small" })
            : null,
          canComment && (mine || isAdmin) ? button("Edit", edit, { class: "small" }) : null,
          canComment && (mine || isAdmin)
            ? button("Delete", async (ev) => {
                if (!window.confirm("Delete this comment?")) return;
                const ok = await busy(ev.currentTarget as HTMLElement, async () => {
                  await ctx.api.deleteComment(obj.id, c.id);
                  return true;
                }, "Delete comment");
                if (ok) await reload();
              }, { class: "small danger" })
            : null,
        ),
      );
    };
    const edit = (): void => {
      const area = h("textarea", { name: "body", rows: 3, required: true, value: c.body });
      const save = h("button", { type: "submit", class: "primary small" }, "Save");
      const form = h("form", { class: "inline-form" }, field("Comment", area), save, button("Cancel", view, { class: "small" }));
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        if (!area.value.trim()) return void toast("A comment cannot be empty", "error");
        if (await busy(save, () => ctx.api.updateComment(obj.id, c.id, { body: area.value }), "Edit comment")) await reload();
      });
      replace(li, form);
      area.focus();
    };
    view();
    return li;
  };

  let form: HTMLElement | null = null;
  if (canComment) {
    const area = h("textarea", { name: "comment", rows: 3, placeholder: "Write a comment. @Display Name mentions a user." });
    const submit = h("button", { type: "submit", class: "primary small" }, "Add comment");
    form = h("form", { class: "inline-form comment-form" }, field("New comment", area), submit);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!area.value.trim()) return void toast("A comment cannot be empty", "error");
      if (await busy(submit, () => ctx.api.createComment(obj.id, area.value), "Add comment")) {
        toast("Comment added", "success");
        await reload();
      }
    });
  }
  const open = items.filter((c) => !c.resolved).length;
  replace(
    body,
    h("h3", null, `Comments (${items.length}${items.length ? `, ${open} open` : ""})`),
    items.length ? h("ol", { class: "comments" }, items.map(item)) : h("p", { class: "muted" }, "No comments yet."),
    form,
  );
}
