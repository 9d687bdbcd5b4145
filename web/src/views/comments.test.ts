import { describe, expect, it, vi } from "vitest";
import type { Comment, ReqObject, Role } from "../api/types";
import { buttonNamed, fakeCtx, page, settle } from "../test/fake";
import { renderComments } from "./comments";

const obj = { id: "o1" } as ReqObject;
const users = new Map([["me", "Me"], ["ann", "Ann Lee"], ["bob", "Bob"]]);
const comment = (id: string, author: string, extra: Partial<Comment> = {}): Comment => ({
  id, object_id: "o1", author_id: author, body: `text ${id}`, mentioned_user_ids: [], resolved: false, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z", ...extra,
});

async function render(role: Role, items: Comment[]) {
  const { ctx, api } = fakeCtx(role, {
    comments: vi.fn(async () => page(items)),
    createComment: vi.fn(async () => comment("new", "me")),
    updateComment: vi.fn(async () => comment("c1", "me")),
    deleteComment: vi.fn(async () => undefined),
  });
  const body = document.createElement("div");
  document.body.replaceChildren(body);
  await renderComments(ctx, body, obj, users);
  return { body, api };
}

describe("comments tab", () => {
  it("lists comments with marked mentions and no actions for viewers", async () => {
    const { body } = await render("viewer", [comment("c1", "ann", { body: "see @bob and @nobody", mentioned_user_ids: ["bob"] })]);
    expect(body.querySelector("h3")?.textContent).toBe("Comments (1, 1 open)");
    expect(body.querySelector(".comment-head strong")?.textContent).toBe("Ann Lee");
    const mention = body.querySelector(".mention");
    expect(mention?.textContent).toBe("@bob");
    expect(body.querySelector(".comment-body")?.textContent).toBe("see @bob and @nobody");
    expect(body.querySelectorAll(".comment-actions button")).toHaveLength(0);
    expect(body.querySelector("form")).toBeNull();
  });

  it("lets reviewers comment, resolve any, edit and delete only their own", async () => {
    const { body, api } = await render("reviewer", [comment("c1", "ann"), comment("c2", "me", { resolved: true })]);
    const [theirs, mine] = Array.from(body.querySelectorAll<HTMLElement>("li.comment"));
    expect(Array.from(theirs.querySelectorAll("button")).map((b) => b.textContent)).toEqual(["Resolve"]);
    expect(Array.from(mine.querySelectorAll("button")).map((b) => b.textContent)).toEqual(["Reopen", "Edit", "Delete"]);
    expect(mine.classList.contains("resolved")).toBe(true);

    buttonNamed(theirs, "Resolve")!.click();
    await settle();
    expect(api.updateComment).toHaveBeenCalledWith("o1", "c1", { resolved: true });

    const area = body.querySelector<HTMLTextAreaElement>("form.comment-form textarea")!;
    area.value = "hello @Ann Lee";
    body.querySelector<HTMLFormElement>("form.comment-form")!.requestSubmit();
    await settle();
    expect(api.createComment).toHaveBeenCalledWith("o1", "hello @Ann Lee");
    expect(api.comments).toHaveBeenCalledTimes(3); // initial + after resolve + after add
  });

  it("edits a comment in place and lets admins delete anyone's", async () => {
    const { body, api } = await render("admin", [comment("c1", "ann")]);
    const li = body.querySelector<HTMLElement>("li.comment")!;
    buttonNamed(li, "Edit")!.click();
    const area = li.querySelector("textarea")!;
    expect(area.value).toBe("text c1");
    area.value = "changed";
    li.querySelector("form")!.requestSubmit();
    await settle();
    expect(api.updateComment).toHaveBeenCalledWith("o1", "c1", { body: "changed" });

    vi.stubGlobal("confirm", vi.fn(() => true));
    buttonNamed(body.querySelector("li.comment")!, "Delete")!.click();
    await settle();
    expect(api.deleteComment).toHaveBeenCalledWith("o1", "c1");
  });

  it("refuses an empty comment without calling the API", async () => {
    const { body, api } = await render("reviewer", []);
    expect(body.textContent).toContain("No comments yet.");
    body.querySelector<HTMLFormElement>("form.comment-form")!.requestSubmit();
    await settle();
    expect(api.createComment).not.toHaveBeenCalled();
    expect(document.querySelector(".toast-error")?.textContent).toContain("cannot be empty");
  });
});
