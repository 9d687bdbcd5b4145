import { describe, expect, it, vi } from "vitest";
import type { ApiClient } from "../api/client";
import type { AppUser, Link, ReqObject } from "../api/types";
import type { Ctx } from "../ui/common";
import { renderModule } from "./module";

function obj(id: string, level: string, parent: string | null, position: number, extra: Partial<ReqObject> = {}): ReqObject {
  return {
    id, module_id: "m", parent_id: parent, position, level, heading: `Heading ${id}`, body: `<p>Body ${id}</p><script>window.bad=1</script>`,
    attributes: {}, current_version: 1, classification: "normative", content_fingerprint: "f", reviewed_fingerprint: "f",
    reviewed_at: null, reviewed_by: null, deleted_at: null, created_at: "", updated_at: "", ...extra,
  };
}

const objects = [obj("a", "1", null, 0, { classification: "heading" }), obj("a1", "1.1", "a", 0, { reviewed_fingerprint: null }), obj("b", "2", null, 1)];
const links: Link[] = [
  { id: "l1", source_object_id: "b", target_object_id: "x-other", link_type_id: "t", attributes: null, suspect: true, created_at: "", updated_at: "" },
];

function fakeApi(role: AppUser["role"]) {
  const user: AppUser = { id: "u", email: "u@x", display_name: "U", role };
  const page = <T>(items: T[]) => ({ items, total: items.length, offset: 0, limit: 1000 });
  return {
    session: { token: "t", refresh_token: null, user, expires_at: null },
    getWorkspace: vi.fn(async () => ({ id: "w", name: "WS" })),
    getProject: vi.fn(async () => ({ id: "p", name: "Proj" })),
    getModule: vi.fn(async () => ({ id: "m", name: "Mod", prefix: "SYS", description: null, default_classification: "normative" })),
    listAllObjects: vi.fn(async () => objects),
    attributeDefinitions: vi.fn(async () => page([])),
    linkTypes: vi.fn(async () => [{ id: "t", name: "satisfies", description: null }]),
    moduleLinks: vi.fn(async () => page(links)),
    listUsers: vi.fn(async () => page([user])),
    moveObject: vi.fn(async () => objects[2]),
    linksFrom: vi.fn(async () => page(links)),
    linksTo: vi.fn(async () => page([])),
    impact: vi.fn(async () => ({ root_id: "b", objects: [] })),
    objectHistory: vi.fn(async () => page([])),
    listLifecycleModels: vi.fn(async () => []),
  } as unknown as ApiClient;
}

async function render(role: AppUser["role"], objectId?: string) {
  const api = fakeApi(role);
  const root = document.createElement("div");
  document.body.replaceChildren(root);
  await renderModule({ api, refresh: () => undefined } as Ctx, root, "w", "p", "m", objectId);
  return { root, api };
}

describe("module document view", () => {
  it("renders objects as a document with levels, heading tags and sanitized bodies", async () => {
    const { root } = await render("viewer");
    const sections = root.querySelectorAll("article.document section.obj");
    expect(sections).toHaveLength(3);
    expect(Array.from(root.querySelectorAll(".obj-title .level")).map((e) => e.textContent)).toEqual(["1", "1.1", "2"]);
    expect(sections[0].querySelector("h2")).not.toBeNull();
    expect(sections[1].querySelector("h3")).not.toBeNull();
    expect(root.querySelector("article.document script")).toBeNull();
    expect(sections[1].querySelector(".obj-body")?.textContent).toBe("Body a1");
  });

  it("marks suspect links and review state", async () => {
    const { root } = await render("viewer");
    const [a, a1, b] = Array.from(root.querySelectorAll("section.obj"));
    expect(b.querySelector(".badge.suspect")).not.toBeNull();
    expect(a1.querySelector(".badge.suspect")).toBeNull();
    expect(a1.textContent).toContain("needs review");
    expect(a.textContent).not.toContain("needs review"); // headings are not reviewed
  });

  it("gives viewers no edit actions and editors actions on the selected object", async () => {
    const viewer = await render("viewer", "b");
    expect(viewer.root.querySelector("section.obj.selected")).not.toBeNull();
    expect(viewer.root.querySelector(".obj-actions")?.children.length ?? 0).toBe(0);
    expect(viewer.root.querySelector(".add-end")).toBeNull();

    const editor = await render("editor", "b");
    const actions = editor.root.querySelectorAll(".obj-actions");
    expect(actions).toHaveLength(1);
    const up = editor.root.querySelector<HTMLButtonElement>('[data-move="up"]')!;
    const down = editor.root.querySelector<HTMLButtonElement>('[data-move="down"]')!;
    expect(up.disabled).toBe(false);
    expect(down.disabled).toBe(true); // last root object
    up.click();
    await new Promise((r) => setTimeout(r, 0));
    expect(editor.api.moveObject).toHaveBeenCalledWith("m", "b", "up", 1);
  });

  it("filters by review state and suspect links with CSS classes only", async () => {
    const { root } = await render("viewer");
    const filter = root.querySelector<HTMLSelectElement>('select[name="filter"]')!;
    filter.value = "has-suspect";
    filter.dispatchEvent(new Event("change"));
    const doc = root.querySelector("article.document")!;
    expect(doc.classList.contains("only-has-suspect")).toBe(true);
    expect(Array.from(root.querySelectorAll("section.obj.has-suspect")).map((e) => e.id)).toEqual(["obj-b"]);
    expect(Array.from(root.querySelectorAll("section.obj.needs-review")).map((e) => e.id)).toEqual(["obj-a1"]);
  });

  it("moves focus between objects with the arrow keys", async () => {
    const { root } = await render("viewer");
    const titles = root.querySelectorAll<HTMLButtonElement>(".obj-title");
    titles[0].focus();
    titles[0].dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
    expect(document.activeElement).toBe(titles[1]);
    titles[1].dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowUp", bubbles: true }));
    expect(document.activeElement).toBe(titles[0]);
  });

  it("moves the selection without re-rendering the whole document", async () => {
    const { root } = await render("editor");
    const untouched = root.querySelector("#obj-a1");
    root.querySelector<HTMLButtonElement>("#obj-b .obj-title")!.click();
    expect(root.querySelector("section.obj.selected")?.id).toBe("obj-b");
    expect(root.querySelector("#obj-a1")).toBe(untouched);
    expect(root.querySelector<HTMLElement>("aside.panel")!.hidden).toBe(false);
  });

  it("links to traceability and validation and offers the comment and attachment tabs", async () => {
    const { root } = await render("viewer", "b");
    const hrefs = Array.from(root.querySelectorAll(".module-tools a")).map((a) => a.getAttribute("href"));
    expect(hrefs).toContain("/w/w/p/p/m/m/traceability");
    expect(hrefs).toContain("/w/w/p/p/m/m/validate");
    const tabs = Array.from(root.querySelectorAll("aside.panel [role=tab]")).map((t) => t.textContent);
    expect(tabs).toEqual(["Details", "Links", "Impact", "Comments", "Attachments", "History"]);
  });
});
