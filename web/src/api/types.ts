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

// -- sweeps (written from the HTTP contract until the server's schema declares them) ---------------
export type SweepState = "running" | "paused" | "finished" | "stopping" | "canceled";
export type TrialState = "pending" | "running" | "finished" | "failed" | "crashed" | "killed";
export type SweepAction = "pause" | "resume" | "stop" | "cancel";

export interface SweepMetric {
  name: string;
  goal: "minimize" | "maximize";
}

export interface SweepBest {
  run_id: string;
  value: number;
  params?: Record<string, unknown>;
}

export interface SweepSummary {
  id: string;
  name: string | null;
  method: string;
  state: SweepState;
  metric: SweepMetric | null;
  created_at: number;
  /** Trials by state. */
  counts: Record<string, number>;
  best: SweepBest | null;
}

export interface Trial {
  run_id: string;
  params: Record<string, unknown>;
  state: TrialState;
  agent: string | null;
  created_at: number;
  metric: number | null;
  stopped_reason: string | null;
}

export interface Sweep extends SweepSummary {
  entity: string;
  project: string;
  description: string | null;
  config: Record<string, unknown>;
  yaml: string | null;
  created_by: string | null;
  run_cap: number | null;
  trials: Trial[];
}

export interface SweepConfigError {
  key: string;
  message: string;
}

export interface SweepValidation {
  ok: boolean;
  errors: SweepConfigError[];
  config: Record<string, unknown> | null;
}

export interface ParamImportance {
  param: string;
  importance: number;
  correlation: number;
}
