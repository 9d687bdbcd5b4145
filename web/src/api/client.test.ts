import { describe, expect, it, vi } from "vitest";
import { ApiClient, ApiError, errorFromResponse, withQuery } from "./client";
import { MemorySessionStore, StorageSessionStore } from "./session";

type Call = { url: string; init: RequestInit };

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

/** A fetch double answering from a queue and recording calls. */
function fakeFetch(...answers: Response[]) {
  const calls: Call[] = [];
  const fn = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    const next = answers.shift();
    if (!next) throw new Error(`unexpected request ${String(url)}`);
    return next;
  });
  return { fn: fn as unknown as typeof fetch, calls };
}

const user = { id: "u1", email: "a@b", display_name: "A", role: "editor" as const };
const loginBody = (token: string, refresh: string | null = "r1") => ({ token, user, refresh_token: refresh, expires_at: "2030-01-01T00:00:00+00:00" });

describe("withQuery", () => {
  it("drops empty values and encodes the rest", () => {
    expect(withQuery("/x", { a: 1, b: undefined, c: null, d: "", e: "a b&c" })).toBe("/x?a=1&e=a+b%26c");
    expect(withQuery("/x")).toBe("/x");
    expect(withQuery("/x?y=1", { z: true })).toBe("/x?y=1&z=true");
  });
});

describe("errorFromResponse", () => {
  it("reads the error envelope", async () => {
    const err = await errorFromResponse(json(409, { error: { code: "CONFLICT", message: "object x version conflict: expected 1, found 2" } }, { "X-Request-Id": "rid-1" }));
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(409);
    expect(err.code).toBe("CONFLICT");
    expect(err.message).toBe("object x version conflict: expected 1, found 2");
    expect(err.requestId).toBe("rid-1");
    expect(err.isConflict).toBe(true);
  });

  it("falls back to the status for non-JSON bodies", async () => {
    const err = await errorFromResponse(new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" }));
    expect(err.code).toBe("HTTP_502");
    expect(err.message).toBe("Bad Gateway");
  });

  it("mentions Retry-After on 429", async () => {
    const err = await errorFromResponse(json(429, { error: { code: "RATE_LIMITED", message: "slow down" } }, { "Retry-After": "7" }));
    expect(err.message).toBe("slow down (retry in 7 s)");
  });
});

describe("ApiClient", () => {
  it("logs in, stores the session and sends the bearer token", async () => {
    const store = new MemorySessionStore();
    const f = fakeFetch(json(200, loginBody("t1")), json(200, { items: [], total: 0, offset: 0, limit: 1000 }));
    const api = new ApiClient({ store, fetch: f.fn });
    await api.login("a@b", "secret-pw");
    expect(store.get()?.token).toBe("t1");
    expect(f.calls[0].url).toBe("/api/v1/auth/login");
    expect(f.calls[0].init.method).toBe("POST");
    expect((f.calls[0].init.headers as Record<string, string>).Authorization).toBeUndefined();
    expect(JSON.parse(String(f.calls[0].init.body))).toEqual({ email: "a@b", password: "secret-pw" });
    await api.listWorkspaces();
    expect(f.calls[1].url).toBe("/api/v1/workspaces?limit=1000");
    expect((f.calls[1].init.headers as Record<string, string>).Authorization).toBe("Bearer t1");
  });

  it("surfaces a failed login as ApiError without touching the session", async () => {
    const store = new MemorySessionStore();
    const lost = vi.fn();
    const f = fakeFetch(json(401, { error: { code: "UNAUTHORIZED", message: "invalid credentials" } }));
    const api = new ApiClient({ store, fetch: f.fn, onAuthLost: lost });
    await expect(api.login("a@b", "wrong")).rejects.toMatchObject({ status: 401, message: "invalid credentials" });
    expect(store.get()).toBeNull();
    expect(lost).not.toHaveBeenCalled();
  });

  it("refreshes once on 401 and retries with the new token", async () => {
    const store = new MemorySessionStore();
    store.set({ token: "old", refresh_token: "r1", user, expires_at: null });
    const f = fakeFetch(
      json(401, { error: { code: "UNAUTHORIZED", message: "invalid or expired token" } }),
      json(200, loginBody("new", "r2")),
      json(200, { id: "m1" }),
    );
    const api = new ApiClient({ store, fetch: f.fn });
    const mod = await api.getModule("m1");
    expect(mod).toEqual({ id: "m1" });
    expect(f.calls[1].url).toBe("/api/v1/auth/refresh");
    expect(JSON.parse(String(f.calls[1].init.body))).toEqual({ refresh_token: "r1" });
    expect((f.calls[2].init.headers as Record<string, string>).Authorization).toBe("Bearer new");
    expect(store.get()?.refresh_token).toBe("r2");
  });

  it("shares one refresh between concurrent 401s", async () => {
    const store = new MemorySessionStore();
    store.set({ token: "old", refresh_token: "r1", user, expires_at: null });
    let refreshes = 0;
    const fn = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
      const auth = (init?.headers as Record<string, string>).Authorization;
      if (String(url).endsWith("/auth/refresh")) {
        refreshes++;
        await new Promise((r) => setTimeout(r, 5));
        return json(200, loginBody("new", "r2"));
      }
      return auth === "Bearer new" ? json(200, { ok: true }) : json(401, { error: { code: "UNAUTHORIZED", message: "expired" } });
    });
    const api = new ApiClient({ store, fetch: fn as unknown as typeof fetch });
    const results = await Promise.all([api.me(), api.me(), api.me()]);
    expect(results).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(refreshes).toBe(1);
  });

  it("drops the session and reports when refresh fails", async () => {
    const store = new MemorySessionStore();
    store.set({ token: "old", refresh_token: "r1", user, expires_at: null });
    const lost = vi.fn();
    const f = fakeFetch(
      json(401, { error: { code: "UNAUTHORIZED", message: "invalid or expired token" } }),
      json(401, { error: { code: "UNAUTHORIZED", message: "invalid or expired refresh token" } }),
    );
    const api = new ApiClient({ store, fetch: f.fn, onAuthLost: lost });
    await expect(api.me()).rejects.toMatchObject({ status: 401 });
    expect(store.get()).toBeNull();
    expect(lost).toHaveBeenCalledOnce();
  });

  it("drops the session on 401 when there is no refresh token (Redis down)", async () => {
    const store = new MemorySessionStore();
    store.set({ token: "old", refresh_token: null, user, expires_at: null });
    const lost = vi.fn();
    const f = fakeFetch(json(401, { error: { code: "UNAUTHORIZED", message: "invalid or expired token" } }));
    const api = new ApiClient({ store, fetch: f.fn, onAuthLost: lost });
    await expect(api.me()).rejects.toBeInstanceOf(ApiError);
    expect(lost).toHaveBeenCalledOnce();
    expect(f.calls).toHaveLength(1);
  });

  it("sends expected_version on updates and moves", async () => {
    const store = new MemorySessionStore();
    store.set({ token: "t", refresh_token: null, user, expires_at: null });
    const f = fakeFetch(
      json(409, { error: { code: "CONFLICT", message: "object o1 version conflict: expected 3, found 4" } }),
      json(200, { id: "o1" }),
    );
    const api = new ApiClient({ store, fetch: f.fn });
    const err = await api.updateObject("m1", "o1", { heading: "H", expected_version: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).isConflict).toBe(true);
    expect(f.calls[0].init.method).toBe("PATCH");
    expect(f.calls[0].url).toBe("/api/v1/modules/m1/objects/o1");
    expect(JSON.parse(String(f.calls[0].init.body))).toEqual({ heading: "H", expected_version: 3 });
    expect((f.calls[0].init.headers as Record<string, string>)["Content-Type"]).toBe("application/json");
    await api.moveObject("m1", "o1", "indent", 4);
    expect(f.calls[1].url).toBe("/api/v1/modules/m1/objects/o1/move");
    expect(JSON.parse(String(f.calls[1].init.body))).toEqual({ action: "indent", expected_version: 4 });
  });

  it("returns undefined for 204 and builds link-token URLs", async () => {
    const store = new MemorySessionStore();
    store.set({ token: "t", refresh_token: null, user, expires_at: null });
    const f = fakeFetch(new Response(null, { status: 204 }), json(200, { token: "lt", expires_in: 60 }));
    const api = new ApiClient({ store, fetch: f.fn });
    await expect(api.deleteLink("l1")).resolves.toBeUndefined();
    const url = await api.linkUrl("/modules/m1/reqif/export", { format: "reqifz" });
    expect(url).toBe("/api/v1/modules/m1/reqif/export?format=reqifz&token=lt");
    expect(f.calls[1].url).toBe("/api/v1/auth/link-token");
  });

  it("pages through every object of a module", async () => {
    const store = new MemorySessionStore();
    store.set({ token: "t", refresh_token: null, user, expires_at: null });
    const many = Array.from({ length: 1000 }, (_, i) => ({ id: `o${i}` }));
    const f = fakeFetch(json(200, { items: many, total: 1001, offset: 0, limit: 1000 }), json(200, { items: [{ id: "last" }], total: 1001, offset: 1000, limit: 1000 }));
    const api = new ApiClient({ store, fetch: f.fn });
    const all = await api.listAllObjects("m1");
    expect(all).toHaveLength(1001);
    expect(f.calls[1].url).toBe("/api/v1/modules/m1/objects?offset=1000&limit=1000");
  });

  it("sends ReqIF imports as multipart without forcing a content type", async () => {
    const store = new MemorySessionStore();
    store.set({ token: "t", refresh_token: null, user, expires_at: null });
    const f = fakeFetch(json(201, { module_id: "m", module_ids: ["m"], objects_created: 2, links_created: 0 }));
    const api = new ApiClient({ store, fetch: f.fn });
    await api.importReqif("p1", new File(["<REQ-IF/>"], "spec.reqif"));
    expect(f.calls[0].url).toBe("/api/v1/projects/p1/reqif/import");
    expect(f.calls[0].init.body).toBeInstanceOf(FormData);
    expect((f.calls[0].init.headers as Record<string, string>)["Content-Type"]).toBeUndefined();
  });

  it("keeps the session when a wrong current password answers 401", async () => {
    const store = new MemorySessionStore();
    store.set({ token: "t", refresh_token: "r1", user, expires_at: null });
    const lost = vi.fn();
    const f = fakeFetch(json(401, { error: { code: "UNAUTHORIZED", message: "current password is incorrect" } }));
    const api = new ApiClient({ store, fetch: f.fn, onAuthLost: lost });
    await expect(api.changePassword("wrong", "new-password-1")).rejects.toMatchObject({ status: 401, message: "current password is incorrect" });
    expect(f.calls).toHaveLength(1); // no refresh attempt
    expect(f.calls[0].url).toBe("/api/v1/auth/change-password");
    expect(JSON.parse(String(f.calls[0].init.body))).toEqual({ old_password: "wrong", new_password: "new-password-1" });
    expect(lost).not.toHaveBeenCalled();
    expect(store.get()?.token).toBe("t");
  });

  it("calls the comment, attachment and traceability routes", async () => {
    const store = new MemorySessionStore();
    store.set({ token: "t", refresh_token: null, user, expires_at: null });
    const f = fakeFetch(
      json(201, { id: "c1" }),
      json(200, { id: "c1", resolved: true }),
      json(201, { id: "a1" }),
      json(200, { valid: true }),
      json(200, { source_objects: [], target_objects: [], cells: [] }),
      json(200, { total_objects: 0 }),
      json(200, { root_id: "o1", objects: [] }),
      json(200, { id: "u2" }),
    );
    const api = new ApiClient({ store, fetch: f.fn, baseUrl: "http://h" });
    await api.createComment("o1", "hi @A");
    await api.updateComment("o1", "c1", { resolved: true });
    await api.uploadAttachment("o1", new File(["x"], "a.txt"));
    await api.verifyAttachment("o1", "a1");
    await api.traceabilityMatrix("m1", "m2");
    await api.coverage("m1", "t1");
    await api.objectImpact("o1", "forward", 3);
    await api.updateUser("u2", { role: "editor", active: false });
    expect(f.calls.map((c) => `${c.init.method} ${c.url}`)).toEqual([
      "POST http://h/api/v1/objects/o1/comments",
      "PATCH http://h/api/v1/objects/o1/comments/c1",
      "POST http://h/api/v1/objects/o1/attachments",
      "GET http://h/api/v1/objects/o1/attachments/a1/verify",
      "GET http://h/api/v1/traceability-matrix?source_module_id=m1&target_module_id=m2",
      "GET http://h/api/v1/modules/m1/coverage?link_type_id=t1",
      "GET http://h/api/v1/object-impact/o1?direction=forward&max_depth=3",
      "PATCH http://h/api/v1/users/u2",
    ]);
    expect(JSON.parse(String(f.calls[0].init.body))).toEqual({ body: "hi @A" });
    expect(f.calls[2].init.body).toBeInstanceOf(FormData);
    expect(((f.calls[2].init.body as FormData).get("file") as File).name).toBe("a.txt");
    expect(JSON.parse(String(f.calls[7].init.body))).toEqual({ role: "editor", active: false });
    expect(api.absoluteUrl("/api/v1/x?signature=s")).toBe("http://h/api/v1/x?signature=s");
    expect(store.get()?.user.role).toBe("editor"); // u2 is someone else: the session user is untouched
  });

  it("updates the session user when the signed-in user renames themself", async () => {
    const store = new MemorySessionStore();
    store.set({ token: "t", refresh_token: null, user, expires_at: null });
    const f = fakeFetch(json(200, { ...user, display_name: "Alice" }));
    const api = new ApiClient({ store, fetch: f.fn });
    await api.updateUser("u1", { display_name: "Alice" });
    expect(store.get()?.user.display_name).toBe("Alice");
    expect(store.get()?.token).toBe("t");
  });

  it("uploads with progress over XMLHttpRequest, refreshing once on 401 and reading the error envelope", async () => {
    const sent: { url: string; headers: Record<string, string>; body: unknown }[] = [];
    const answers = [
      { status: 401, body: JSON.stringify({ error: { code: "UNAUTHORIZED", message: "expired" } }) },
      { status: 413, body: JSON.stringify({ error: { code: "PAYLOAD_TOO_LARGE", message: "upload exceeds 10 bytes" } }), rid: "rid-7" },
    ];
    class FakeXhr {
      status = 0;
      statusText = "";
      responseText = "";
      private listeners: Record<string, () => void> = {};
      private url = "";
      private headers: Record<string, string> = {};
      private rid: string | null = null;
      upload = { addEventListener: (_n: string, fn: (ev: { lengthComputable: boolean; loaded: number; total: number }) => void) => (this.progress = fn) };
      private progress: ((ev: { lengthComputable: boolean; loaded: number; total: number }) => void) | null = null;
      open(_m: string, url: string) { this.url = url; }
      setRequestHeader(k: string, v: string) { this.headers[k] = v; }
      addEventListener(name: string, fn: () => void) { this.listeners[name] = fn; }
      getResponseHeader(name: string) { return name === "X-Request-Id" ? this.rid : name === "Content-Type" ? "application/json" : null; }
      send(body: unknown) {
        sent.push({ url: this.url, headers: this.headers, body });
        const a = answers.shift()!;
        this.progress?.({ lengthComputable: true, loaded: 10, total: 10 });
        Object.assign(this, { status: a.status, responseText: a.body, rid: a.rid ?? null });
        setTimeout(() => this.listeners.load(), 0);
      }
    }
    vi.stubGlobal("XMLHttpRequest", FakeXhr);
    try {
      const store = new MemorySessionStore();
      store.set({ token: "old", refresh_token: "r1", user, expires_at: null });
      const f = fakeFetch(json(200, loginBody("new", "r2")));
      const api = new ApiClient({ store, fetch: f.fn });
      const progress = vi.fn();
      const err = await api.uploadAttachment("o1", new File(["0123456789"], "big.bin"), progress).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 413, code: "PAYLOAD_TOO_LARGE", message: "upload exceeds 10 bytes", requestId: "rid-7" });
      expect(progress).toHaveBeenCalledWith(10, 10);
      expect(sent.map((s) => s.headers.Authorization)).toEqual(["Bearer old", "Bearer new"]);
      expect(sent[0].url).toBe("/api/v1/objects/o1/attachments");
      expect(sent[0].body).toBeInstanceOf(FormData);
      expect(f.calls[0].url).toBe("/api/v1/auth/refresh");
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("sends object types, change proposals and workspace members to their routes", async () => {
    const store = new MemorySessionStore();
    store.set({ token: "t", refresh_token: null, user, expires_at: null });
    const empty = () => json(200, { items: [], total: 0, offset: 0, limit: 1000 });
    const f = fakeFetch(empty(), json(201, {}), json(200, {}), new Response(null, { status: 204 }), empty(), json(200, {}),
      json(200, { proposal: {}, objects_updated: 2 }), empty(), json(200, {}), new Response(null, { status: 204 }));
    const api = new ApiClient({ store, fetch: f.fn });
    await api.listObjectTypes("m 1");
    await api.createObjectType("m1", { name: "Safety", required_attributes: ["ASIL"] });
    await api.updateObjectType("t1", { description: null });
    await api.deleteObjectType("t1");
    await api.listChangeProposals("m1");
    await api.updateChangeProposal("m1", "c1", { status: "submitted" });
    expect((await api.applyChangeProposal("m1", "c1")).objects_updated).toBe(2);
    await api.listWorkspaceMembers("w1");
    await api.setWorkspaceMember("w1", "u2", "reviewer");
    await api.removeWorkspaceMember("w1", "u2");
    const sent = f.calls.map((c) => [c.init.method, c.url, c.init.body === undefined ? undefined : JSON.parse(String(c.init.body))]);
    expect(sent).toEqual([
      ["GET", "/api/v1/object-types?module_id=m+1&limit=1000", undefined],
      ["POST", "/api/v1/object-types", { module_id: "m1", name: "Safety", required_attributes: ["ASIL"] }],
      ["PATCH", "/api/v1/object-types/t1", { description: null }],
      ["DELETE", "/api/v1/object-types/t1", undefined],
      ["GET", "/api/v1/modules/m1/change-proposals?limit=1000", undefined],
      ["PATCH", "/api/v1/modules/m1/change-proposals/c1", { status: "submitted" }],
      ["POST", "/api/v1/modules/m1/change-proposals/c1/apply", {}],
      ["GET", "/api/v1/workspaces/w1/members?limit=1000", undefined],
      ["PUT", "/api/v1/workspaces/w1/members/u2", { role: "reviewer" }],
      ["DELETE", "/api/v1/workspaces/w1/members/u2", undefined],
    ]);
  });

  it("turns network failures into ApiError", async () => {
    const api = new ApiClient({ store: new MemorySessionStore(), fetch: (async () => { throw new TypeError("Failed to fetch"); }) as typeof fetch });
    await expect(api.listWorkspaces()).rejects.toMatchObject({ code: "NETWORK_ERROR" });
  });
});

describe("StorageSessionStore", () => {
  it("round-trips and ignores garbage", () => {
    const store = new StorageSessionStore(window.sessionStorage, "t.session");
    expect(store.get()).toBeNull();
    store.set({ token: "a", refresh_token: null, user, expires_at: null });
    expect(store.get()?.token).toBe("a");
    window.sessionStorage.setItem("t.session", "{not json");
    expect(store.get()).toBeNull();
    store.clear();
    expect(window.sessionStorage.getItem("t.session")).toBeNull();
  });
});
