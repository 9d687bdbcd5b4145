// The one HTTP client of the UI: adds the bearer token, refreshes it once on 401,
// and turns every failure into an ApiError carrying the server's error envelope.

import { sessionFromLogin, type SessionStore } from "./session";
import type {
  ChangeProposal,
  ObjectType,
  ObjectTypeInput,
  ProposalInput,
  WorkspaceMember,
  AppNotification,
  ESignature,
  ESignatureVerification,
  PackageStatus,
  ReviewAssignment,
  ReviewPackage,
  Vote,
  VotingSummary,
  AppUser,
  AuditFilters,
  AuditLogEntry,
  AuditVerification,
  LifecycleModel,
  Webhook,
  WebhookDelivery,
  WebhookInput,
  AttributeDefinition,
  AttrValue,
  Baseline,
  BaselineDiff,
  Classification,
  Link,
  LinkType,
  LoginResponse,
  Module,
  ModuleView,
  ModuleViewInput,
  MoveAction,
  ObjectHistory,
  Page,
  Project,
  ReqifImportResult,
  ReqObject,
  SearchHit,
  Workspace,
  ImpactResult,
  Attachment,
  AttachmentVerify,
  Comment,
  Coverage,
  TraceabilityMatrix,
  UserInput,
  ValidationReport,
  ModuleIndicators,
  Role,
} from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }

  get isConflict(): boolean {
    return this.status === 409;
  }
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  query?: Query;
  json?: unknown;
  body?: BodyInit;
  contentType?: string;
  /** Skip the token refresh-and-retry on 401 (auth routes themselves). */
  noRetry?: boolean;
  /** A 401 here is an answer about the request (a wrong current password), not a lost session. */
  plain401?: boolean;
  /** Do not send the Authorization header. */
  anonymous?: boolean;
}

export interface ClientOptions {
  store: SessionStore;
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Called when the session is gone for good (refresh failed or impossible). */
  onAuthLost?: () => void;
}

export const API_PREFIX = "/api/v1";

/** Build `path?query` with undefined/null/empty values left out. */
export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === "") continue;
    params.append(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}${path.includes("?") ? "&" : "?"}${qs}` : path;
}

/** Turn a non-2xx response into an ApiError, reading the JSON envelope when there is one. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  const requestId = res.headers.get("X-Request-Id");
  let code = `HTTP_${res.status}`;
  let message = res.statusText || `request failed with status ${res.status}`;
  try {
    const text = await res.text();
    if (text) {
      const data = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
      if (data && typeof data.error === "object" && data.error) {
        if (typeof data.error.code === "string") code = data.error.code;
        if (typeof data.error.message === "string") message = data.error.message;
      }
    }
  } catch {
    // Not JSON (a proxy's error page): keep the status text.
  }
  if (res.status === 429) {
    const retry = res.headers.get("Retry-After");
    if (retry && !message.includes("retry")) message = `${message} (retry in ${retry} s)`;
  }
  return new ApiError(res.status, code, message, requestId);
}

const enc = encodeURIComponent;

export class ApiClient {
  private readonly store: SessionStore;
  private readonly baseUrl: string;
  private readonly fetchFn: typeof fetch;
  private readonly onAuthLost: () => void;
  private refreshing: Promise<boolean> | null = null;

  constructor(opts: ClientOptions) {
    this.store = opts.store;
    this.baseUrl = opts.baseUrl ?? "";
    this.fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
    this.onAuthLost = opts.onAuthLost ?? (() => undefined);
  }

  get session() {
    return this.store.get();
  }

  /** Low-level request against /api/v1; resolves to parsed JSON, or undefined for 204. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    return this.parse<T>(await this.authorized(() => this.send(method, path, opts), opts));
  }

  /** Send, and on a 401 refresh the token once and send again; drop the session when that is impossible. */
  private async authorized(send: () => Promise<Response>, opts: RequestOptions): Promise<Response> {
    const res = await send();
    if (res.status !== 401 || opts.plain401 || opts.anonymous) return res;
    if (!opts.noRetry && this.store.get()?.refresh_token) {
      if (await this.refresh()) return send();
      this.lose();
    } else if (this.store.get()) {
      this.lose();
    }
    return res;
  }

  /** Open a server-sent event stream (fetch, so the bearer header and the refresh-once logic apply). */
  async openStream(path: string, signal: AbortSignal): Promise<Response> {
    const res = await this.authorized(async () => {
      const headers: Record<string, string> = { Accept: "text/event-stream" };
      const token = this.store.get()?.token;
      if (token) headers.Authorization = `Bearer ${token}`;
      return this.fetchFn(this.baseUrl + API_PREFIX + path, { headers, signal, cache: "no-store" });
    }, {});
    if (!res.ok) throw await errorFromResponse(res);
    return res;
  }

  /**
   * POST a multipart form reporting upload progress. fetch cannot report it, so this uses
   * XMLHttpRequest (same headers, refresh and error envelope); without XHR it falls back to fetch.
   */
  async upload<T>(path: string, form: FormData, onProgress?: (loaded: number, total: number) => void): Promise<T> {
    if (!onProgress || typeof XMLHttpRequest === "undefined") return this.request<T>("POST", path, { body: form });
    return this.parse<T>(await this.authorized(() => this.sendXhr(path, form, onProgress), {}));
  }

  private sendXhr(path: string, form: FormData, onProgress: (loaded: number, total: number) => void): Promise<Response> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", this.baseUrl + API_PREFIX + path);
      xhr.setRequestHeader("Accept", "application/json");
      const token = this.store.get()?.token;
      if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
      xhr.upload.addEventListener("progress", (ev) => {
        if (ev.lengthComputable) onProgress(ev.loaded, ev.total);
      });
      xhr.addEventListener("load", () => {
        const headers = new Headers();
        for (const name of ["Content-Type", "X-Request-Id", "Retry-After"]) {
          const value = xhr.getResponseHeader(name);
          if (value) headers.set(name, value);
        }
        const empty = xhr.status === 204 || xhr.status === 205 || xhr.status === 304;
        resolve(new Response(empty ? null : xhr.responseText, { status: xhr.status, statusText: xhr.statusText, headers }));
      });
      xhr.addEventListener("error", () => reject(new ApiError(0, "NETWORK_ERROR", "cannot reach the server: the upload failed")));
      xhr.addEventListener("abort", () => reject(new ApiError(0, "ABORTED", "the upload was aborted")));
      xhr.send(form);
    });
  }

  private async send(method: string, path: string, opts: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json" };
    let body: BodyInit | undefined = opts.body;
    if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.json);
    } else if (opts.contentType) {
      headers["Content-Type"] = opts.contentType;
    }
    const token = this.store.get()?.token;
    if (token && !opts.anonymous) headers.Authorization = `Bearer ${token}`;
    try {
      return await this.fetchFn(this.baseUrl + withQuery(API_PREFIX + path, opts.query), { method, headers, body });
    } catch (err) {
      throw new ApiError(0, "NETWORK_ERROR", `cannot reach the server: ${(err as Error).message}`);
    }
  }

  private async parse<T>(res: Response): Promise<T> {
    if (!res.ok) throw await errorFromResponse(res);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private lose(): void {
    this.store.clear();
    this.onAuthLost();
  }

  /** Rotate the refresh token; concurrent callers share one refresh. */
  refresh(): Promise<boolean> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<boolean> {
    const refresh_token = this.store.get()?.refresh_token;
    if (!refresh_token) return false;
    try {
      const res = await this.request<LoginResponse>("POST", "/auth/refresh", {
        json: { refresh_token },
        noRetry: true,
        anonymous: true,
      });
      this.store.set(sessionFromLogin(res));
      return true;
    } catch {
      return false;
    }
  }

  // --- auth -------------------------------------------------------------------------

  async login(email: string, password: string): Promise<AppUser> {
    const res = await this.request<LoginResponse>("POST", "/auth/login", {
      json: { email, password },
      noRetry: true,
      anonymous: true,
    });
    this.store.set(sessionFromLogin(res));
    return res.user;
  }

  async logout(): Promise<void> {
    try {
      if (this.store.get()) await this.request<void>("POST", "/auth/logout", { noRetry: true });
    } finally {
      this.store.clear();
    }
  }

  listReviewPackages(moduleId: string): Promise<Page<ReviewPackage>> {
    return this.request("GET", `/modules/${enc(moduleId)}/review-packages`, { query: { limit: 1000 } });
  }
  createReviewPackage(moduleId: string, input: { name: string; description?: string | null }): Promise<ReviewPackage> {
    return this.request("POST", `/modules/${enc(moduleId)}/review-packages`, { json: input });
  }
  transitionPackage(moduleId: string, id: string, input: { status: PackageStatus; password?: string; meaning?: string }): Promise<ReviewPackage> {
    return this.request("POST", `/modules/${enc(moduleId)}/review-packages/${enc(id)}/transition`, { json: input });
  }
  votingSummary(moduleId: string): Promise<VotingSummary[]> {
    return this.request("GET", `/modules/${enc(moduleId)}/review-packages/voting-summary`);
  }
  listAssignments(packageId: string): Promise<Page<ReviewAssignment>> {
    return this.request("GET", `/review-packages/${enc(packageId)}/assignments`, { query: { limit: 1000 } });
  }
  assignReviewer(packageId: string, reviewerId: string): Promise<ReviewAssignment> {
    return this.request("POST", `/review-packages/${enc(packageId)}/assignments`, { json: { reviewer_id: reviewerId } });
  }
  vote(packageId: string, id: string, status: Vote, comment?: string): Promise<ReviewAssignment> {
    return this.request("PATCH", `/review-packages/${enc(packageId)}/assignments/${enc(id)}`, { json: comment ? { status, comment } : { status } });
  }
  signaturesOf(entityType: string, entityId: string): Promise<ESignature[]> {
    return this.request("GET", `/e-signatures/entity/${enc(entityType)}/${enc(entityId)}`);
  }
  verifySignature(id: string): Promise<ESignatureVerification> {
    return this.request("GET", `/e-signatures/${enc(id)}/verify`);
  }

  listNotifications(unreadOnly = false, offset = 0, limit = 50): Promise<Page<AppNotification>> {
    return this.request("GET", "/notifications", { query: { unread_only: unreadOnly, offset, limit } });
  }
  async unreadCount(): Promise<number> {
    return (await this.request<{ count: number }>("GET", "/notifications/unread-count")).count;
  }
  markNotificationRead(id: string): Promise<AppNotification> {
    return this.request("POST", `/notifications/${enc(id)}/read`);
  }
  async markAllNotificationsRead(): Promise<number> {
    return (await this.request<{ updated: number }>("POST", "/notifications/read-all")).updated;
  }

  listLifecycleModels(moduleId: string): Promise<LifecycleModel[]> {
    return this.request("GET", `/modules/${enc(moduleId)}/lifecycle-models`);
  }

  listObjectTypes(moduleId: string): Promise<Page<ObjectType>> {
    return this.request("GET", "/object-types", { query: { module_id: moduleId, limit: 1000 } });
  }
  createObjectType(moduleId: string, input: ObjectTypeInput & { name: string }): Promise<ObjectType> {
    return this.request("POST", "/object-types", { json: { module_id: moduleId, ...input } });
  }
  updateObjectType(id: string, input: ObjectTypeInput): Promise<ObjectType> {
    return this.request("PATCH", `/object-types/${enc(id)}`, { json: input });
  }
  deleteObjectType(id: string): Promise<void> {
    return this.request("DELETE", `/object-types/${enc(id)}`);
  }

  listChangeProposals(moduleId: string): Promise<Page<ChangeProposal>> {
    return this.request("GET", `/modules/${enc(moduleId)}/change-proposals`, { query: { limit: 1000 } });
  }
  createChangeProposal(moduleId: string, input: ProposalInput & { title: string }): Promise<ChangeProposal> {
    return this.request("POST", `/modules/${enc(moduleId)}/change-proposals`, { json: input });
  }
  /** Fields, or `status` along the proposal's graph. */
  updateChangeProposal(moduleId: string, id: string, input: ProposalInput): Promise<ChangeProposal> {
    return this.request("PATCH", `/modules/${enc(moduleId)}/change-proposals/${enc(id)}`, { json: input });
  }
  deleteChangeProposal(moduleId: string, id: string): Promise<void> {
    return this.request("DELETE", `/modules/${enc(moduleId)}/change-proposals/${enc(id)}`);
  }
  /** Apply an approved proposal: every object of it edited in one transaction, then `applied`. */
  applyChangeProposal(moduleId: string, id: string): Promise<{ proposal: ChangeProposal; objects_updated: number }> {
    return this.request("POST", `/modules/${enc(moduleId)}/change-proposals/${enc(id)}/apply`, { json: {} });
  }

  listWorkspaceMembers(ws: string): Promise<Page<WorkspaceMember>> {
    return this.request("GET", `/workspaces/${enc(ws)}/members`, { query: { limit: 1000 } });
  }
  /** Add a user to the workspace, or change their role there. */
  setWorkspaceMember(ws: string, userId: string, role: Role): Promise<WorkspaceMember> {
    return this.request("PUT", `/workspaces/${enc(ws)}/members/${enc(userId)}`, { json: { role } });
  }
  removeWorkspaceMember(ws: string, userId: string): Promise<void> {
    return this.request("DELETE", `/workspaces/${enc(ws)}/members/${enc(userId)}`);
  }

  listWebhooks(moduleId: string): Promise<Webhook[]> {
    return this.request("GET", `/modules/${enc(moduleId)}/webhooks`);
  }
  createWebhook(moduleId: string, input: WebhookInput): Promise<Webhook> {
    return this.request("POST", `/modules/${enc(moduleId)}/webhooks`, { json: input });
  }
  updateWebhook(moduleId: string, id: string, input: WebhookInput): Promise<Webhook> {
    return this.request("PATCH", `/modules/${enc(moduleId)}/webhooks/${enc(id)}`, { json: input });
  }
  deleteWebhook(moduleId: string, id: string): Promise<void> {
    return this.request("DELETE", `/modules/${enc(moduleId)}/webhooks/${enc(id)}`);
  }
  listDeliveries(moduleId: string, id: string, limit = 20): Promise<Page<WebhookDelivery>> {
    return this.request("GET", `/modules/${enc(moduleId)}/webhooks/${enc(id)}/deliveries`, { query: { limit } });
  }
  redeliver(moduleId: string, id: string, deliveryId: string): Promise<WebhookDelivery> {
    return this.request("POST", `/modules/${enc(moduleId)}/webhooks/${enc(id)}/deliveries/${enc(deliveryId)}/redeliver`);
  }

  /** Audit entries, newest first (admins). */
  listAuditLog(filters: AuditFilters, offset = 0, limit = 50): Promise<Page<AuditLogEntry>> {
    const query: Query = { offset, limit };
    for (const [k, v] of Object.entries(filters)) if (v) query[k] = v;
    return this.request("GET", "/audit-log", { query });
  }

  verifyAuditLog(): Promise<AuditVerification> {
    return this.request("GET", "/audit-log/verify");
  }

  listUsers(): Promise<Page<AppUser>> {
    return this.request("GET", "/users", { query: { limit: 1000 } });
  }

  createUser(input: UserInput & { email: string; display_name: string }): Promise<AppUser> {
    return this.request("POST", "/users", { json: input });
  }
  async updateUser(id: string, input: UserInput): Promise<AppUser> {
    const user = await this.request<AppUser>("PATCH", `/users/${enc(id)}`, { json: input });
    // Keep the shell's name and role in step when the signed-in user changed.
    const session = this.store.get();
    if (session && session.user.id === user.id) this.store.set({ ...session, user: { ...session.user, ...user } });
    return user;
  }
  /** Change one's own password; the server revokes the user's other sessions. */
  changePassword(oldPassword: string, newPassword: string): Promise<void> {
    return this.request("POST", "/auth/change-password", {
      json: { old_password: oldPassword, new_password: newPassword },
      plain401: true,
    });
  }

  me(): Promise<AppUser> {
    return this.request("GET", "/auth/me");
  }

  /** A URL for a GET download/export/publish route authorized by a 60 s link token. */
  async linkUrl(path: string, query?: Query): Promise<string> {
    const { token } = await this.request<{ token: string; expires_in: number }>("POST", "/auth/link-token");
    return this.baseUrl + withQuery(API_PREFIX + path, { ...query, token });
  }

  // --- workspaces, projects, modules ---------------------------------------------------

  listWorkspaces(): Promise<Page<Workspace>> {
    return this.request("GET", "/workspaces", { query: { limit: 1000 } });
  }
  getWorkspace(id: string): Promise<Workspace> {
    return this.request("GET", `/workspaces/${enc(id)}`);
  }
  createWorkspace(name: string, description?: string): Promise<Workspace> {
    return this.request("POST", "/workspaces", { json: { name, description: description || undefined } });
  }
  listProjects(ws: string): Promise<Page<Project>> {
    return this.request("GET", `/workspaces/${enc(ws)}/projects`, { query: { limit: 1000 } });
  }
  getProject(ws: string, id: string): Promise<Project> {
    return this.request("GET", `/workspaces/${enc(ws)}/projects/${enc(id)}`);
  }
  createProject(ws: string, name: string, description?: string): Promise<Project> {
    return this.request("POST", `/workspaces/${enc(ws)}/projects`, {
      json: { name, description: description || undefined },
    });
  }
  listModules(projectId: string): Promise<Page<Module>> {
    return this.request("GET", "/modules", { query: { project_id: projectId, limit: 1000 } });
  }
  getModule(id: string): Promise<Module> {
    return this.request("GET", `/modules/${enc(id)}`);
  }
  createModule(projectId: string, name: string, prefix?: string, description?: string): Promise<Module> {
    return this.request("POST", "/modules", {
      json: { project_id: projectId, name, prefix: prefix || undefined, description: description || undefined },
    });
  }

  // --- objects --------------------------------------------------------------------------

  /**
   * Every live object of a module in document order, in pages of 1000: the first page tells the
   * total, the others are fetched four at a time (a 10,000-object module is ten pages).
   * `onFirstPage` lets a screen draw the top of the module before the rest has arrived.
   */
  async listAllObjects(moduleId: string, onFirstPage?: (items: ReqObject[], total: number) => void): Promise<ReqObject[]> {
    const PAGE = 1000;
    const page = (offset: number) =>
      this.request<Page<ReqObject>>("GET", `/modules/${enc(moduleId)}/objects`, { query: { offset, limit: PAGE } });
    const first = await page(0);
    onFirstPage?.(first.items, first.total);
    const offsets: number[] = [];
    for (let offset = first.items.length; first.items.length > 0 && offset < first.total; offset += PAGE) offsets.push(offset);
    const rest: ReqObject[][] = new Array(offsets.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < offsets.length) {
        const i = next++;
        rest[i] = (await page(offsets[i])).items;
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    return first.items.concat(...rest);
  }
  listViews(moduleId: string): Promise<Page<ModuleView>> {
    return this.request("GET", `/modules/${enc(moduleId)}/views`, { query: { limit: 1000 } });
  }
  createView(moduleId: string, input: ModuleViewInput & { name: string }): Promise<ModuleView> {
    return this.request("POST", `/modules/${enc(moduleId)}/views`, { json: input });
  }
  updateView(moduleId: string, id: string, input: ModuleViewInput): Promise<ModuleView> {
    return this.request("PATCH", `/modules/${enc(moduleId)}/views/${enc(id)}`, { json: input });
  }
  deleteView(moduleId: string, id: string): Promise<void> {
    return this.request("DELETE", `/modules/${enc(moduleId)}/views/${enc(id)}`);
  }
  getObject(moduleId: string, id: string): Promise<ReqObject> {
    return this.request("GET", `/modules/${enc(moduleId)}/objects/${enc(id)}`);
  }
  searchObjects(moduleId: string, q: string): Promise<Page<ReqObject>> {
    return this.request("GET", `/modules/${enc(moduleId)}/objects`, { query: { search: q, limit: 200 } });
  }
  createObject(moduleId: string, input: ObjectInput & { parent_id?: string | null; position?: number }): Promise<ReqObject> {
    return this.request("POST", `/modules/${enc(moduleId)}/objects`, { json: input });
  }
  updateObject(moduleId: string, id: string, input: ObjectInput & { expected_version?: number; reviewed?: boolean }): Promise<ReqObject> {
    return this.request("PATCH", `/modules/${enc(moduleId)}/objects/${enc(id)}`, { json: input });
  }
  moveObject(moduleId: string, id: string, action: MoveAction, expectedVersion?: number): Promise<ReqObject> {
    return this.request("POST", `/modules/${enc(moduleId)}/objects/${enc(id)}/move`, {
      json: { action, expected_version: expectedVersion },
    });
  }
  moveObjectTo(moduleId: string, id: string, parentId: string | null, position: number, expectedVersion?: number): Promise<ReqObject> {
    return this.request("POST", `/modules/${enc(moduleId)}/objects/${enc(id)}/move`, {
      json: { action: "move_to", parent_id: parentId, position, expected_version: expectedVersion },
    });
  }
  deleteObject(moduleId: string, id: string): Promise<void> {
    return this.request("DELETE", `/modules/${enc(moduleId)}/objects/${enc(id)}`);
  }
  objectHistory(moduleId: string, id: string): Promise<Page<ObjectHistory>> {
    return this.request("GET", `/modules/${enc(moduleId)}/objects/${enc(id)}/history`, { query: { limit: 1000 } });
  }
  attributeDefinitions(moduleId: string): Promise<Page<AttributeDefinition>> {
    return this.request("GET", `/modules/${enc(moduleId)}/attribute-definitions`, { query: { limit: 1000 } });
  }
  createAttributeDefinition(
    moduleId: string,
    input: { name: string; data_type: string; enum_values?: string[]; multi_select?: boolean; default_value?: string },
  ): Promise<AttributeDefinition> {
    return this.request("POST", `/modules/${enc(moduleId)}/attribute-definitions`, { json: input });
  }

  // --- links ----------------------------------------------------------------------------

  linkTypes(): Promise<LinkType[]> {
    return this.request("GET", "/link-types");
  }
  linksFrom(objectId: string): Promise<Page<Link>> {
    return this.request("GET", "/links", { query: { source_object_id: objectId, limit: 1000 } });
  }
  linksTo(objectId: string): Promise<Page<Link>> {
    return this.request("GET", "/links", { query: { target_object_id: objectId, limit: 1000 } });
  }
  moduleLinks(moduleId: string): Promise<Page<Link>> {
    return this.request("GET", "/links", { query: { module_id: moduleId, limit: 1000 } });
  }
  createLink(source: string, target: string, linkTypeId: string): Promise<Link> {
    return this.request("POST", "/links", {
      json: { source_object_id: source, target_object_id: target, link_type_id: linkTypeId },
    });
  }
  clearSuspect(linkId: string): Promise<Link> {
    return this.request("PATCH", `/links/${enc(linkId)}`, { json: { suspect: false } });
  }
  deleteLink(linkId: string): Promise<void> {
    return this.request("DELETE", `/links/${enc(linkId)}`);
  }

  /** Breadth-first impact over links (`forward` = source → target), up to `maxDepth` hops. */
  objectImpact(id: string, direction: "forward" | "backward" | "both", maxDepth: number): Promise<ImpactResult> {
    return this.request("GET", `/object-impact/${enc(id)}`, { query: { direction, max_depth: maxDepth } });
  }
  traceabilityMatrix(sourceModuleId: string, targetModuleId: string, linkTypeId?: string): Promise<TraceabilityMatrix> {
    return this.request("GET", "/traceability-matrix", {
      query: { source_module_id: sourceModuleId, target_module_id: targetModuleId, link_type_id: linkTypeId },
    });
  }
  coverage(moduleId: string, linkTypeId?: string): Promise<Coverage> {
    return this.request("GET", `/modules/${enc(moduleId)}/coverage`, { query: { link_type_id: linkTypeId } });
  }
  /** Comment and attachment counts of the module's objects (only objects that have any). */
  moduleIndicators(moduleId: string): Promise<ModuleIndicators> {
    return this.request("GET", `/modules/${enc(moduleId)}/indicators`);
  }
  validateModule(moduleId: string): Promise<ValidationReport> {
    return this.request("GET", `/modules/${enc(moduleId)}/validate`);
  }

  // --- comments and attachments --------------------------------------------------------

  comments(objectId: string): Promise<Page<Comment>> {
    return this.request("GET", `/objects/${enc(objectId)}/comments`, { query: { limit: 1000 } });
  }
  createComment(objectId: string, body: string): Promise<Comment> {
    return this.request("POST", `/objects/${enc(objectId)}/comments`, { json: { body } });
  }
  updateComment(objectId: string, id: string, input: { body?: string; resolved?: boolean }): Promise<Comment> {
    return this.request("PATCH", `/objects/${enc(objectId)}/comments/${enc(id)}`, { json: input });
  }
  deleteComment(objectId: string, id: string): Promise<void> {
    return this.request("DELETE", `/objects/${enc(objectId)}/comments/${enc(id)}`);
  }
  attachments(objectId: string): Promise<Attachment[]> {
    return this.request("GET", `/objects/${enc(objectId)}/attachments`);
  }
  uploadAttachment(objectId: string, file: File | Blob, onProgress?: (loaded: number, total: number) => void): Promise<Attachment> {
    const form = new FormData();
    form.append("file", file, (file as File).name || "upload");
    return this.upload(`/objects/${enc(objectId)}/attachments`, form, onProgress);
  }
  verifyAttachment(objectId: string, id: string): Promise<AttachmentVerify> {
    return this.request("GET", `/objects/${enc(objectId)}/attachments/${enc(id)}/verify`);
  }
  deleteAttachment(objectId: string, id: string): Promise<void> {
    return this.request("DELETE", `/objects/${enc(objectId)}/attachments/${enc(id)}`);
  }
  /** An absolute URL for a server-relative signed link (an attachment's `download_url`). */
  absoluteUrl(relative: string): string {
    return this.baseUrl + relative;
  }

  /** Objects linked to `id` (depth 1): heading, level and module of link ends in other modules. */
  impact(id: string, maxDepth = 1): Promise<ImpactResult> {
    return this.request("GET", `/object-impact/${enc(id)}`, { query: { direction: "both", max_depth: maxDepth } });
  }

  // --- baselines, search, ReqIF ------------------------------------------------------------

  baselines(moduleId: string): Promise<Page<Baseline>> {
    return this.request("GET", `/modules/${enc(moduleId)}/baselines`, { query: { limit: 1000 } });
  }
  createBaseline(moduleId: string, name: string, description?: string): Promise<Baseline> {
    return this.request("POST", `/modules/${enc(moduleId)}/baselines`, {
      json: { name, description: description || undefined },
    });
  }
  baselineDiff(moduleId: string, a: string, b: string): Promise<BaselineDiff> {
    return this.request("GET", `/modules/${enc(moduleId)}/baseline-diff`, { query: { a, b } });
  }
  search(q: string, offset = 0, limit = 50): Promise<Page<SearchHit>> {
    return this.request("GET", "/search", { query: { q, offset, limit } });
  }
  importReqif(projectId: string, file: File | Blob, fileName = "import.reqif"): Promise<ReqifImportResult> {
    const form = new FormData();
    form.append("file", file, (file as File).name || fileName);
    return this.request("POST", `/projects/${enc(projectId)}/reqif/import`, { body: form });
  }
}

export interface ObjectInput {
  heading?: string | null;
  body?: string | null;
  classification?: Classification;
  attributes?: Record<string, AttrValue>;
  lifecycle_state?: string | null;
  object_type_id?: string | null;
}
