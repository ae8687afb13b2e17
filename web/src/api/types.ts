/**
 * The API's shapes as the app names them. Most are the server's own models from schema.d.ts
 * (generated from its OpenAPI schema: `npm run gen:api`); what the server does not declare there
 * (the auth, key and member answers, the error body until its codes are generated) is written here.
 */
import type { components, paths } from "./schema";

type Schemas = components["schemas"];

export type Project = Schemas["ProjectOut"];
export type ProjectDetail = Schemas["ProjectDetail"];
export type ProjectKeys = Schemas["ProjectKeys"];
export type Run = Schemas["RunOut"] & {
  /** Not sent by the server yet; shown when it is. */
  user?: string | null;
};
export type RunDetail = Schemas["RunDetail"];
/** A project at a glance: the server sends its runs as the run table's rows. */
export type ProjectOverview = Omit<Schemas["ProjectOverview"], "pinned" | "latest" | "best"> & { pinned: Run[]; latest: Run[]; best: Run | null };
export type TrashedProject = Schemas["TrashedProject"];
export type RunPage = Schemas["RunPageOut"];
export type KeyInfo = Schemas["KeyInfo"];
export type RunKeys = Schemas["RunKeys"];
export type ConsoleLine = Schemas["ConsoleLine"];
export type ConsolePage = Schemas["ConsolePage"];
export type MediaItem = Schemas["MediaItem"];
export type MediaPage = Schemas["MediaPage"];
export type RunFile = Schemas["FileOut"];
export type FileList = Schemas["FileList"];
export type CommentThread = Schemas["Thread"];
export type Comment = Schemas["Comment"];

/** A run's address: the path parameters of every `/runs/{entity}/{project}/{run_id}/…` endpoint. */
export interface RunRef {
  entity: string;
  project: string;
  run_id: string;
}

/** What a user may do under an entity; each role allows what the ones before it allow. */
export const ROLES = ["viewer", "member", "admin"] as const;
export type Role = (typeof ROLES)[number];

export interface Membership {
  entity: string;
  role: Role;
}

export interface Me {
  username: string;
  is_admin: boolean;
  /** The entities the user is a member of (`/auth/me` only; not in the sign-in answer). */
  memberships?: Membership[];
  csrf_token?: string;
}

/** The sign-in answer: who signed in and the session's CSRF token. */
export interface LoginAnswer {
  user: { username: string; is_admin: boolean };
  csrf_token: string;
}

export interface Member {
  username: string;
  role: Role;
}

export interface ApiKey {
  prefix: string;
  name: string;
  user: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  revoked: boolean;
  key?: string;
}

/** A filter or sort that did not parse: where and what was expected. */
export interface FilterErrorBody {
  detail: string;
  /** The server's error code (`invalid_filter`), when it sends one. */
  code?: string | null;
  position?: number;
  expected?: string | null;
}

// -- sweeps ----------------------------------------------------------------------------------------------
export type SweepSummary = Schemas["SweepSummary"];
export type Sweep = Schemas["SweepOut"];
export type Trial = Schemas["TrialOut"];
export type SweepMetric = Schemas["MetricOut"];
export type SweepConfigError = Schemas["ConfigProblem"];
export type SweepValidation = Schemas["ValidationOut"];
export type ParamImportance = Schemas["ImportanceOut"];
export type SweepState = Sweep["state"];
/** What `POST …/control` takes (the server reads it as a string). */
export type SweepAction = "pause" | "resume" | "stop" | "cancel";

// -- artifacts ---------------------------------------------------------------------------------------------
export type ArtifactCollection = Schemas["CollectionOut"];
export type ArtifactVersion = Schemas["ArtifactVersionOut"];
export type ManifestDiff = Schemas["DiffOut"];
export type RunArtifacts = Schemas["RunArtifactsOut"];
export type RegistryCollection = Schemas["RegistryCollectionOut"];
/** A model version linked into a registry collection: the version, with the collection's aliases (`registry_aliases`). */
export type RegistryLink = Schemas["LinkedVersionOut"];

// The manifest (any JSON to the schema) and the lineage's nodes (the server sends more than it declares):
export interface ManifestEntry {
  /** base64 md5, as wandb. */
  digest: string;
  sha256: string | null;
  size: number;
  /** An external URI the entry only refers to (stored, never fetched by the server). */
  ref: string | null;
  extra?: Record<string, unknown>;
}

export interface Manifest {
  version: number;
  entries: Record<string, ManifestEntry>;
}

export interface LineageNode {
  id: string;
  kind: "run" | "artifact";
  label: string;
  /** Where the node leads, when the server says (else read from `id`). */
  run_id?: string;
  name?: string;
  version?: string;
  entity?: string;
  project?: string;
}

export interface Lineage {
  nodes: LineageNode[];
  edges: { from: string; to: string }[];
  /** The server stopped adding nodes at its limit. */
  truncated?: boolean;
}

// -- notifications -------------------------------------------------------------------------------------------
// The schema declares the settings and rule bodies; the answers (any JSON to it) are typed here.
type SettingsBody = NonNullable<paths["/api/v1/notifications/settings"]["put"]>["requestBody"]["content"]["application/json"];
/** Where events go: `inapp` (the bell of the user the settings belong to), `email` or `webhook`. */
export type NotificationTarget = SettingsBody["targets"][number];
export type NotificationChannel = NotificationTarget["channel"];
export type WebhookFormat = NonNullable<NotificationTarget["format"]>;
/** Every event kind, in the order the server lists them (server/notify/events.py). */
export const NOTIFICATION_EVENTS = ["alert", "finished", "failed", "crashed", "threshold"] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];
export const WEBHOOK_FORMATS: readonly WebhookFormat[] = ["feishu", "dingtalk", "wecom", "slack", "json"];

export interface NotificationSettings {
  targets: NotificationTarget[];
  /** Null until saved (the answer is then the default, or no targets). */
  updated_at: number | null;
}

export interface Notification {
  id: number;
  event: NotificationEvent;
  level: "INFO" | "WARN" | "ERROR";
  title: string;
  text: string;
  /** The run it is about, as it was addressed then. */
  run: { entity: string; project: string; run_id: string; name: string | null } | null;
  created_at: number;
  read: boolean;
}

export interface NotificationList {
  notifications: Notification[];
  unread: number;
}

export type NewAlertRule = NonNullable<paths["/api/v1/projects/{entity}/{project}/alert-rules"]["post"]>["requestBody"]["content"]["application/json"];
export type AlertLevel = NonNullable<NewAlertRule["level"]>;
export type AlertOp = NewAlertRule["op"];

export interface AlertRule {
  id: number;
  key: string;
  op: AlertOp;
  value: number;
  after_step: number | null;
  level: AlertLevel;
  created_at: number;
  /** As the server words it: `eval/acc < 0.5 after step 1000`. */
  description: string;
}
