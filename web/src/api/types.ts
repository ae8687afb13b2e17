/**
 * The API's shapes as the app names them. Most are the server's own models from schema.d.ts
 * (generated from its OpenAPI schema: `npm run gen:api`); what the server does not declare there
 * (the auth, key and member answers, the error body until its codes are generated) is written here.
 */
import type { components } from "./schema";

type Schemas = components["schemas"];

export type Project = Schemas["ProjectOut"];
export type ProjectDetail = Schemas["ProjectDetail"];
export type ProjectKeys = Schemas["ProjectKeys"];
export type Run = Schemas["RunOut"] & {
  /** Not sent by the server yet; shown when it is. */
  user?: string | null;
};
export type RunDetail = Schemas["RunDetail"];
export type RunPage = Schemas["RunPageOut"];
export type KeyInfo = Schemas["KeyInfo"];
export type RunKeys = Schemas["RunKeys"];
export type ConsoleLine = Schemas["ConsoleLine"];
export type ConsolePage = Schemas["ConsolePage"];
export type MediaItem = Schemas["MediaItem"];
export type MediaPage = Schemas["MediaPage"];
export type RunFile = Schemas["FileOut"];
export type FileList = Schemas["FileList"];

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
// Written from the artifacts HTTP contract (docs/artifacts.md) until the server's schema declares them.

/** One name's versions, as the project's artifacts list shows it. */
export interface ArtifactCollection {
  name: string;
  type: string;
  versions: number;
  /** The newest version (`v3`). */
  latest: string | null;
  updated_at: number;
  /** Bytes of the newest version. */
  size: number;
}

export interface ArtifactVersion {
  id: string | number;
  entity: string;
  project: string;
  name: string;
  type: string;
  version: string;
  aliases: string[];
  digest: string;
  description: string | null;
  metadata: Record<string, unknown> | null;
  size: number;
  file_count: number;
  created_at: number;
  created_by: string | null;
  /** The run that logged it, or null. */
  run: string | null;
  state: string;
}

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

/** An entry of a manifest diff: its path, or an object naming it. */
export type ManifestDiffItem = string | { path: string };

export interface ManifestDiff {
  added: ManifestDiffItem[];
  removed: ManifestDiffItem[];
  changed: ManifestDiffItem[];
}

export interface RunArtifacts {
  logged: ArtifactVersion[];
  used: ArtifactVersion[];
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

/** A model-registry collection of an entity. */
export interface RegistryCollection {
  name: string;
  /** Linked versions. */
  versions: number;
  created_at: number;
  updated_at: number;
}

/** A model version linked into a registry collection: the version, with the collection's aliases on it. */
export type RegistryLink = ArtifactVersion & {
  /** The collection's aliases (`production`, `staging`) on this version; `aliases` are the artifact's own. */
  registry_aliases: string[];
  linked_at: number;
};
