// Wire shapes from the req1 REST API contract (shared/spec/req1-api.md). Only the
// fields the UI reads are required here; the server may send more.

export type Role = "viewer" | "reviewer" | "editor" | "admin";
export type Classification = "normative" | "informative" | "heading";

export interface Page<T> {
  items: T[];
  total: number;
  offset: number;
  limit: number;
}

export interface AppUser {
  id: string;
  email: string;
  display_name: string;
  role: Role;
  active?: boolean;
  /** GET /auth/me: the caller's role in each workspace they are a member of (per-workspace access). */
  workspaces?: { workspace_id: string; role: Role }[];
}

export interface LoginResponse {
  token: string;
  user: AppUser;
  refresh_token: string | null;
  expires_at: string | number | null;
}

export interface Workspace {
  id: string;
  name: string;
  description: string | null;
  created_at: string;
  updated_at: string;
}

export interface Project extends Workspace {
  workspace_id: string;
}

export interface Module {
  id: string;
  project_id: string;
  name: string;
  description: string | null;
  prefix: string;
  separator: string;
  digits: number;
  required_attributes: string[];
  default_classification: Classification;
  default_lifecycle_model_id?: string | null;
  signature_config?: { require_signature_transitions?: string[]; require_four_eyes?: boolean } | null;
  created_at: string;
  updated_at: string;
}

export type AttrValue = string | number | boolean | string[] | null;

export interface ReqObject {
  id: string;
  module_id: string;
  parent_id: string | null;
  position: number;
  level: string;
  heading: string | null;
  body: string | null;
  attributes: Record<string, AttrValue> | null;
  current_version: number;
  classification: Classification;
  content_fingerprint: string;
  reviewed_fingerprint: string | null;
  reviewed_at: string | null;
  reviewed_by: string | null;
  deleted_at: string | null;
  created_at: string;
  updated_at: string;
  object_type_id?: string | null;
  lifecycle_model_id?: string | null;
  lifecycle_state?: string | null;
  rank?: number;
  highlight?: { heading: string | null; body: string | null };
}

export interface SearchHit extends ReqObject {
  module_name: string;
  project_id: string;
  workspace_id: string;
  rank: number;
  highlight: { heading: string | null; body: string | null };
}

export type ChangeType = "create" | "update" | "delete" | "move" | "sync";

export interface ObjectHistory {
  id: number;
  object_id: string;
  module_id: string;
  version: number;
  attribute_values: Record<string, AttrValue> | null;
  heading: string | null;
  body: string | null;
  changed_by: string | null;
  changed_at: string;
  change_type: ChangeType;
}

export type DataType = "string" | "integer" | "float" | "date" | "bool" | "enum" | "rich_text" | "user_ref";

export interface AttributeDefinition {
  id: string;
  module_id: string | null;
  name: string;
  data_type: DataType | "boolean";
  default_value: string | null;
  enum_values: string[] | null;
  multi_select: boolean;
  created_at: string;
}

export interface LinkType {
  id: string;
  name: string;
  description: string | null;
}

export interface Link {
  id: string;
  source_object_id: string;
  target_object_id: string;
  link_type_id: string;
  attributes: Record<string, unknown> | null;
  suspect: boolean;
  created_at: string;
  updated_at: string;
}

export interface Baseline {
  id: string;
  module_id: string;
  name: string;
  description: string | null;
  created_by: string | null;
  created_at: string;
  locked: boolean;
}

export interface DiffEntry {
  object_id: string;
  version: number;
  heading: string | null;
  body: string | null;
  attributes: Record<string, AttrValue> | null;
}

export interface DiffModified {
  object_id: string;
  version_a: number;
  version_b: number;
  heading_a: string | null;
  heading_b: string | null;
  body_a: string | null;
  body_b: string | null;
  attributes_a: Record<string, AttrValue> | null;
  attributes_b: Record<string, AttrValue> | null;
}

export interface BaselineDiff {
  baseline_a: string;
  baseline_b: string;
  added: DiffEntry[];
  removed: DiffEntry[];
  modified: DiffModified[];
}

export interface ReqifImportResult {
  module_id: string;
  module_ids: string[];
  objects_created: number;
  links_created: number;
  attribute_definitions_created: number;
  link_types_created: number;
}

export type MoveAction = "up" | "down" | "indent" | "dedent";

export interface ImpactObject {
  id: string;
  heading: string | null;
  level: string;
  depth: number;
  link_type: string;
  module_id: string;
}

export interface ImpactEdge {
  source_id: string;
  target_id: string;
  link_type: string;
  suspect: boolean;
}

export interface ImpactResult {
  root_id: string;
  direction?: "forward" | "backward" | "both";
  max_depth?: number;
  objects: ImpactObject[];
  edges?: ImpactEdge[];
}

export interface Comment {
  id: string;
  object_id: string;
  author_id: string | null;
  body: string;
  mentioned_user_ids: string[];
  resolved: boolean;
  created_at: string;
  updated_at: string;
}

export interface Attachment {
  id: string;
  object_id: string;
  file_name: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  created_at: string;
  /** Signed relative URL, valid for a limited time (DOWNLOAD_URL_TTL_SECONDS). */
  download_url: string;
}

export interface AttachmentVerify {
  attachment_id: string;
  file_name: string;
  expected_sha256: string;
  actual_sha256: string | null;
  valid: boolean;
}

export interface MatrixObject {
  id: string;
  heading: string | null;
  position: number;
  level: string;
}

export interface MatrixCell {
  source_id: string;
  target_id: string;
  link_id: string;
  suspect: boolean;
}

export interface TraceabilityMatrix {
  source_objects: MatrixObject[];
  target_objects: MatrixObject[];
  cells: MatrixCell[];
}

export interface Coverage {
  total_objects: number;
  with_upstream: number;
  with_downstream: number;
  with_any_link: number;
  upstream_pct: number;
  downstream_pct: number;
  any_link_pct: number;
}

export type Severity = "error" | "warning" | "info";

export interface ValidationIssue {
  rule: string;
  severity: Severity;
  object_id: string | null;
  link_id: string | null;
  message: string;
}

/** GET /modules/{id}/indicators: per-object counts for the grid's indicator column. */
export interface ObjectCounts {
  object_id: string;
  comments: number;
  open_comments: number;
  attachments: number;
}
export interface ModuleIndicators {
  module_id: string;
  items: ObjectCounts[];
}

export interface ValidationReport {
  module_id: string;
  issues: ValidationIssue[];
  object_count: number;
  link_count: number;
}

export interface UserInput {
  email?: string;
  display_name?: string;
  role?: Role;
  active?: boolean;
  password?: string;
}

/** A saved module view (§4.10); the configs are opaque to the server, lib/grid.ts reads and writes them. */
export interface ModuleView {
  id: string;
  module_id: string;
  name: string;
  is_default: boolean;
  column_config: unknown;
  filter_config: unknown;
  sort_config: unknown;
  created_at: string;
  updated_at: string;
}

export interface ModuleViewInput {
  name?: string;
  is_default?: boolean;
  column_config?: unknown;
  filter_config?: unknown;
  sort_config?: unknown;
}

/** One audit log entry (the server writes them in the same transaction as the change). */
export interface AuditLogEntry {
  id: number;
  user_id: string | null;
  action: string;
  entity_type: string;
  entity_id: string | null;
  details: Record<string, unknown> | null;
  ip_address: string | null;
  created_at: string;
}

/** The audit log's hash chain recomputed by the server. */
export interface AuditVerification {
  valid: boolean;
  entries: number;
  head: { id: number; hash: string };
  first_invalid: { id: number; problem: string } | null;
}

export interface AuditFilters {
  entity_type?: string;
  action?: string;
  user_id?: string;
  entity_id?: string;
  from?: string;
  to?: string;
}

export type WebhookEvent = "object.created" | "object.updated" | "object.deleted";

/** A module's subscription of a URL to object events (admins). */
export interface Webhook {
  id: string;
  module_id: string;
  name: string;
  url: string;
  secret: string | null;
  events: string; // comma-separated WebhookEvent
  active: boolean;
  created_at: string;
  updated_at: string;
}

export interface WebhookInput {
  name?: string;
  url?: string;
  secret?: string | null;
  events?: string;
  active?: boolean;
}

export interface WebhookDelivery {
  id: string;
  webhook_id: string;
  event: string;
  payload: Record<string, unknown>;
  status: "pending" | "success" | "failed";
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  delivered_at: string | null;
}

export interface LifecycleState {
  name: string;
  color: string | null;
  description: string | null;
}

/** States and the allowed moves between them; `required_role` limits who may make a move. */
export interface LifecycleModel {
  id: string;
  module_id: string;
  name: string;
  description: string | null;
  initial_state: string;
  states: LifecycleState[];
  transitions: { from: string; to: string; required_role?: Role }[];
}

/** A message for the signed-in user (a mention in a comment); `target` says where its comment sits. */
export interface AppNotification {
  id: string;
  user_id: string;
  notification_type: "mention" | "review_assignment";
  title: string;
  body: string;
  entity_type: string;
  entity_id: string | null;
  read: boolean;
  created_at: string;
  target?: { workspace_id: string; project_id: string; module_id: string; object_id: string } | null;
}

export type PackageStatus = "draft" | "open" | "in_review" | "approved" | "rejected" | "closed";
export type Vote = "pending" | "approved" | "rejected" | "abstained";

export interface ReviewPackage {
  id: string;
  module_id: string;
  name: string;
  description: string | null;
  status: PackageStatus;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

export interface ReviewAssignment {
  id: string;
  package_id: string;
  reviewer_id: string | null;
  status: Vote;
  comment: string | null;
  signed_at: string | null;
  created_at: string;
}

export interface VotingSummary {
  package_id: string;
  package_name: string;
  package_status: PackageStatus;
  total_assignments: number;
  approved: number;
  rejected: number;
  abstained: number;
  pending: number;
}

/** A 21 CFR Part 11 style signature: who signed what, meaning what, bound to the entity's content. */
export interface ESignature {
  id: string;
  user_id: string;
  entity_type: string;
  entity_id: string;
  meaning: string;
  signature_hash: string;
  ip_address: string | null;
  created_at: string;
  signer_email: string;
  signer_name: string;
  entity_version: number | null;
  entity_fingerprint: string | null;
}

export interface ESignatureVerification {
  signature_id: string;
  valid: boolean;
  entity_changed: boolean;
}

/** A module's kind of object (extended contract §1): the attributes it requires and a form layout. */
export interface ObjectType {
  id: string;
  module_id: string;
  name: string;
  description: string | null;
  default_classification: Classification;
  required_attributes: string[];
  /** `{}` or `{"sections": [{id, title, columns, fields: [{attribute_name, order, width, required}]}]}` */
  attribute_schema: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export interface ObjectTypeInput {
  name?: string;
  description?: string | null;
  default_classification?: Classification;
  required_attributes?: string[];
  attribute_schema?: Record<string, unknown>;
}

export type ProposalStatus = "draft" | "submitted" | "in_review" | "approved" | "rejected" | "applied";

/** One entry of a proposal's `diff_data`: set `field` (heading, body, classification, lifecycle_state or
 * `attributes.<name>`) of an object from `old_value` to `new_value`. */
export interface ProposalChange {
  object_id: string;
  field: string;
  old_value: AttrValue;
  new_value: AttrValue;
}

export interface ChangeProposal {
  id: string;
  module_id: string;
  title: string;
  description: string | null;
  status: ProposalStatus;
  author_id: string | null;
  /** An array of changes, or `{}` (none). */
  diff_data: ProposalChange[] | Record<string, never>;
  created_at: string;
  updated_at: string;
}

export interface ProposalInput {
  title?: string;
  description?: string | null;
  status?: ProposalStatus;
  diff_data?: ProposalChange[];
}

/** A user's role in one workspace (per-workspace access). */
export interface WorkspaceMember {
  user_id: string;
  email: string;
  display_name: string;
  role: Role;
  created_at: string;
}
