/** What the server answers (see the query routers under src/wakelog/server/routes/). */

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

export interface Member {
  username: string;
  role: Role;
}

export interface Project {
  entity: string;
  name: string;
  created_at: number;
  updated_at: number;
  runs: number;
}

export interface ProjectDetail extends Project {
  states: Record<string, number>;
}

export interface ProjectKeys {
  summary: string[];
  config: string[];
}

export interface Run {
  id: string;
  entity: string;
  project: string;
  name: string | null;
  state: string;
  group: string | null;
  job_type: string | null;
  tags: string[];
  notes: string | null;
  config: Record<string, unknown>;
  summary: Record<string, unknown>;
  host: string | null;
  created_at: number;
  updated_at: number;
  heartbeat_at: number;
  finished_at: number | null;
  runtime: number | null;
  exit_code: number | null;
  last_step: number;
  /** Not sent by the server yet; shown when it is. */
  user?: string | null;
}

export interface RunDetail extends Run {
  metadata: Record<string, unknown>;
  metric_defs: Record<string, unknown>;
  last_seq: number;
}

export interface RunPage {
  runs: Run[];
  total: number;
  offset: number;
  limit: number;
  next_offset: number | null;
}

export interface KeyInfo {
  key: string;
  count: number;
  first_step: number;
  last_step: number;
}

export interface RunKeys {
  history: KeyInfo[];
  system: KeyInfo[];
  objects: KeyInfo[];
}

export interface ConsoleLine {
  line: number;
  stream: string;
  time: number;
  text: string;
}

export interface ConsolePage {
  lines: ConsoleLine[];
  total: number;
  next_offset: number | null;
}

export interface MediaItem {
  key: string;
  step: number;
  value: unknown;
  url?: string | null;
}

export interface MediaPage {
  items: MediaItem[];
  next_offset: number | null;
}

export interface RunFile {
  name: string;
  size: number | null;
  sha256: string | null;
  policy: string;
  updated_at: number;
  uploaded: boolean;
  url: string;
}

export interface FileList {
  files: RunFile[];
  total: number;
  next_offset: number | null;
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

export interface HistoryRequest {
  runs: string[];
  keys: string[];
  points: number;
  x_axis: string;
  stream: "history" | "system";
  x_min?: number | null;
  x_max?: number | null;
}

/** A filter or sort that did not parse: where and what was expected. */
export interface FilterErrorBody {
  detail: string;
  position?: number;
  expected?: string | null;
}
