/**
 * One typed function per API endpoint the app calls. Paths, parameters, bodies and answers come from
 * schema.d.ts, which `npm run gen:api` generates from the server's OpenAPI schema (openapi.json,
 * written by scripts/openapi.py): a renamed route, parameter or field fails `tsc` here, not in a browser.
 *
 * Reads return a `Get` (what `useApi` keeps loaded, or `load` fetches once); writes return promises.
 */
import { toNumbers, type SeriesData } from "../lib/series";
import { request, seg, type Query } from "./client";
import type { paths } from "./schema";
import type {
  AlertRule,
  Comment,
  CommentThread,
  ApiKey,
  Lineage,
  LoginAnswer,
  Manifest,
  ManifestEntry,
  Me,
  Member,
  NewAlertRule,
  NotificationList,
  NotificationSettings,
  NotificationTarget,
  ProjectOverview,
  Role,
  RunDetail,
  RunRef,
  Sweep,
  SweepAction,
} from "./types";

const PREFIX = "/api/v1";
type Route = keyof paths;
type Method = "get" | "post" | "put" | "delete" | "patch";
type Operation<R extends Route, M extends Method> = NonNullable<paths[R][M]>;
type PathParams<O> = O extends { parameters: { path: infer P } } ? P : Record<string, never>;
type QueryParams<O> = O extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
type JsonBody<O> = O extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;
type Answer<O> = O extends { responses: { 200: { content: { "application/json": infer A } } } } ? A : undefined;

/** A route's path under /api/v1 with its `{name}` parameters filled in, each escaped as one segment. */
function fill<R extends Route, M extends Method>(route: R, params: PathParams<Operation<R, M>>): string {
  const values = params as Record<string, string>;
  return route.slice(PREFIX.length).replace(/\{(\w+)\}/g, (_, name: string) => seg(values[name] ?? ""));
}

/** A GET of one endpoint: its path and query, and (as a type only) its answer. */
export interface Get<T> {
  readonly path: string;
  readonly query?: Query;
  /** Never set: carries the answer's type to `useApi` and `load`. */
  readonly answer?: T;
}

function get<R extends Route, T = Answer<Operation<R, "get">>>(
  route: R,
  params: PathParams<Operation<R, "get">>,
  query?: QueryParams<Operation<R, "get">>,
): Get<T> {
  return { path: fill<R, "get">(route, params), query };
}

/** Fetch a `Get` once. */
export function load<T>(what: Get<T>, signal?: AbortSignal): Promise<T> {
  return request<T>(what.path, { query: what.query, signal });
}

function send<R extends Route, M extends "post" | "put" | "delete" | "patch", T = Answer<Operation<R, M>>>(
  method: M,
  route: R,
  params: PathParams<Operation<R, M>>,
  body?: JsonBody<Operation<R, M>>,
): Promise<T> {
  return request<T>(fill<R, M>(route, params), { method: method.toUpperCase(), body });
}

const none = {} as Record<string, never>;

// -- auth and keys (the server declares no answer models here: their shapes live in types.ts) --------
export const me = () => get<"/api/v1/auth/me", Me>("/api/v1/auth/me", none);
/** Who is signed in, when the app starts: a 401 here means nobody, not a lapsed session. */
export const currentSession = () => request<Me>(me().path, { quiet401: true });
/** The sign-in call: a 401 here is a wrong password, not a lapsed session. */
export const login = (body: JsonBody<Operation<"/api/v1/auth/login", "post">>) =>
  request<LoginAnswer>(fill<"/api/v1/auth/login", "post">("/api/v1/auth/login", none), { method: "POST", body, quiet401: true });
export const logout = () =>
  request<undefined>(fill<"/api/v1/auth/logout", "post">("/api/v1/auth/logout", none), { method: "POST", quiet401: true });
export const apiKeys = () => get<"/api/v1/keys", { keys: ApiKey[] }>("/api/v1/keys", none);
export const createApiKey = (name: string) => send<"/api/v1/keys", "post", ApiKey>("post", "/api/v1/keys", none, { name });
export const revokeApiKey = (prefix: string) => send("delete", "/api/v1/keys/{prefix}", { prefix });

// -- storage quotas ------------------------------------------------------------------------------------
export const usage = () => get("/api/v1/usage", none);

// -- teams ----------------------------------------------------------------------------------------------
export const members = (entity: string) =>
  get<"/api/v1/entities/{entity}/members", { members: Member[] }>("/api/v1/entities/{entity}/members", { entity });
export const setMember = (entity: string, username: string, role: Role) =>
  send("put", "/api/v1/entities/{entity}/members/{username}", { entity, username }, { role });
export const removeMember = (entity: string, username: string) =>
  send("delete", "/api/v1/entities/{entity}/members/{username}", { entity, username });

// -- projects ---------------------------------------------------------------------------------------------
export const projects = (entity?: string) => get("/api/v1/projects", none, entity ? { entity } : undefined);
export const projectKeys = (entity: string, project: string) =>
  get("/api/v1/projects/{entity}/{project}/keys", { entity, project });
export const workspace = (entity: string, project: string) =>
  get("/api/v1/projects/{entity}/{project}/workspace", { entity, project });
/** The server takes any JSON layout (it keeps what the app sends); the schema has no body model. */
export const saveWorkspace = (entity: string, project: string, layout: unknown) =>
  request<Answer<Operation<"/api/v1/projects/{entity}/{project}/workspace", "put">>>(
    fill<"/api/v1/projects/{entity}/{project}/workspace", "put">("/api/v1/projects/{entity}/{project}/workspace", { entity, project }),
    { method: "PUT", body: layout },
  );
/** Each config key's importance to a summary metric over the runs a filter shows (the importance panel). */
export const projectImportance = (entity: string, project: string, query: QueryParams<Operation<"/api/v1/projects/{entity}/{project}/importance", "get">>) =>
  get("/api/v1/projects/{entity}/{project}/importance", { entity, project }, query);
export const runPage = (entity: string, project: string, query: QueryParams<Operation<"/api/v1/projects/{entity}/{project}/runs", "get">>) =>
  get("/api/v1/projects/{entity}/{project}/runs", { entity, project }, query);
/** Where a project's live events stream from (an EventSource URL under /api/v1). */
export const projectEvents = (entity: string, project: string) =>
  fill<"/api/v1/projects/{entity}/{project}/events", "get">("/api/v1/projects/{entity}/{project}/events", { entity, project });

/** The history request, as the server's schema states it. */
export type HistoryQuery = JsonBody<Operation<"/api/v1/projects/{entity}/{project}/history", "post">>;

/** How a series arrives as MessagePack: numeric columns are raw float64 bytes, not JSON numbers. */
interface PackedSeries {
  run: string;
  key: string;
  downsampled: boolean;
  count: number;
  steps: unknown;
  values: unknown;
  min: unknown;
  max: unknown;
  x?: unknown;
}

/** Downsampled histories of runs × keys in one request, as typed arrays. */
export async function history(entity: string, project: string, query: HistoryQuery, signal?: AbortSignal): Promise<SeriesData[]> {
  const body = await request<{ series: PackedSeries[] }>(
    fill<"/api/v1/projects/{entity}/{project}/history", "post">("/api/v1/projects/{entity}/{project}/history", { entity, project }),
    { method: "POST", body: query, accept: "msgpack", signal },
  );
  return body.series.map((s) => ({
    run: s.run,
    key: s.key,
    downsampled: s.downsampled,
    count: s.count,
    x: toNumbers(s.x ?? s.steps),
    values: toNumbers(s.values),
    min: toNumbers(s.min),
    max: toNumbers(s.max),
  }));
}

// -- runs ---------------------------------------------------------------------------------------------------
export const runDetail = (ref: RunRef) => get("/api/v1/runs/{entity}/{project}/{run_id}", ref);
export const runKeys = (ref: RunRef) => get("/api/v1/runs/{entity}/{project}/{run_id}/keys", ref);
export const runFiles = (ref: RunRef, query: QueryParams<Operation<"/api/v1/runs/{entity}/{project}/{run_id}/files", "get">>) =>
  get("/api/v1/runs/{entity}/{project}/{run_id}/files", ref, query);
/** Which console lines to read: the last N, from a line on, or before one. */
export type ConsoleQuery = QueryParams<Operation<"/api/v1/runs/{entity}/{project}/{run_id}/console", "get">>;
export const consolePage = (ref: RunRef, query: ConsoleQuery) =>
  get("/api/v1/runs/{entity}/{project}/{run_id}/console", ref, query);
export const mediaPage = (ref: RunRef, query: QueryParams<Operation<"/api/v1/runs/{entity}/{project}/{run_id}/media", "get">>) =>
  get("/api/v1/runs/{entity}/{project}/{run_id}/media", ref, query);
/** Where a run's live events stream from (an EventSource URL under /api/v1). */
export const runEvents = (ref: RunRef) => fill<"/api/v1/runs/{entity}/{project}/{run_id}/events", "get">("/api/v1/runs/{entity}/{project}/{run_id}/events", ref);
/** Whether `name` is a run file's name as the server takes it (wakelog/_names.py `check_file_name`):
 * relative, `/`-separated, no empty, `.` or `..` part, no backslash, no NUL. Escaping cannot make a
 * `..` part safe: browsers resolve `%2e%2e` as `..` too. */
export function isRunFileName(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= 1024 &&
    !/[\\\0]/.test(name) &&
    !/^[A-Za-z]:/.test(name) &&
    name.split("/").every((part) => part !== "" && part !== "." && part !== "..")
  );
}

/** A media file's URL from the path a table cell or image stub names (`media/images/…`); null where it has none. */
export type FileUrl = (path: string) => string | null;

/** Where a media stub's file is fetched: through `fileUrl` where given (e.g. an artifact's files), else from `runRef`'s run. */
export function mediaFileUrl(path: string, runRef?: RunRef, fileUrl?: FileUrl): string | null {
  if (fileUrl) return fileUrl(path);
  return runRef ? runFileUrl(runRef, path) : null;
}

/** The download URL of a run's file (`media/images/…`): its folders stay folders, each part escaped;
 * null for a name that is not a run file's (it would lead out of the run's files, to other endpoints). */
export function runFileUrl(ref: RunRef, name: string): string | null {
  if (!isRunFileName(name)) return null;
  const files = fill<"/api/v1/runs/{entity}/{project}/{run_id}/files", "get">("/api/v1/runs/{entity}/{project}/{run_id}/files", ref);
  return `${PREFIX}${files}/${name.split("/").map(seg).join("/")}`;
}


// -- sweeps -----------------------------------------------------------------------------------------------
// The server reads these bodies itself (a configuration may be YAML text or an object), so the
// schema declares no body models for them: the bodies are typed here.
export const sweeps = (entity: string, project: string) => get("/api/v1/projects/{entity}/{project}/sweeps", { entity, project });
export const sweepDetail = (entity: string, project: string, sweep: string) => get("/api/v1/sweeps/{entity}/{project}/{sweep}", { entity, project, sweep });
export const sweepImportance = (entity: string, project: string, sweep: string) =>
  get("/api/v1/sweeps/{entity}/{project}/{sweep}/importance", { entity, project, sweep });
/** A configuration as YAML text (kept as written) or an object; 400 `invalid_sweep_config` with `details`. */
export const createSweep = (entity: string, project: string, config: string | Record<string, unknown>) =>
  request<Sweep>(fill<"/api/v1/projects/{entity}/{project}/sweeps", "post">("/api/v1/projects/{entity}/{project}/sweeps", { entity, project }), {
    method: "POST",
    body: { config },
  });
export const validateSweep = (config: string | Record<string, unknown>, signal?: AbortSignal) =>
  request<Answer<Operation<"/api/v1/sweeps/validate", "post">>>(fill<"/api/v1/sweeps/validate", "post">("/api/v1/sweeps/validate", none), {
    method: "POST",
    body: { config },
    signal,
  });
export const controlSweep = (entity: string, project: string, sweep: string, action: SweepAction) =>
  request<Answer<Operation<"/api/v1/sweeps/{entity}/{project}/{sweep}/control", "post">>>(
    fill<"/api/v1/sweeps/{entity}/{project}/{sweep}/control", "post">("/api/v1/sweeps/{entity}/{project}/{sweep}/control", { entity, project, sweep }),
    { method: "POST", body: { action } },
  );

// -- artifacts --------------------------------------------------------------------------------------------
// A version is addressed as `name:version_or_alias`. The manifest and lineage answers are typed in
// types.ts (the server sends them as built; the schema declares the manifest as any JSON).
const VERSION = "/api/v1/artifacts/{entity}/{project}/{name}:{version}";

export const artifactCollections = (entity: string, project: string, type?: string) =>
  get("/api/v1/projects/{entity}/{project}/artifacts", { entity, project }, type ? { type } : undefined);
export const artifactVersions = (entity: string, project: string, name: string) =>
  get("/api/v1/artifacts/{entity}/{project}/{name}/versions", { entity, project, name });
export const artifactVersion = (entity: string, project: string, name: string, version: string) =>
  get(VERSION, { entity, project, name, version });
export const artifactManifest = (entity: string, project: string, name: string, version: string) =>
  get<`${typeof VERSION}/manifest`, Manifest>(`${VERSION}/manifest`, { entity, project, name, version });
export const artifactDiff = (entity: string, project: string, name: string, version: string, against: string) =>
  get(`${VERSION}/diff`, { entity, project, name, version }, { against });
export const artifactLineage = (entity: string, project: string, name: string, version: string, depth: number) =>
  get<`${typeof VERSION}/lineage`, Lineage>(`${VERSION}/lineage`, { entity, project, name, version }, { depth });
export const runArtifacts = (ref: RunRef) => get("/api/v1/runs/{entity}/{project}/{run_id}/artifacts", ref);

/** The download URL of an artifact version's file; null for a name that is not a manifest path. */
export function artifactFileUrl(entity: string, project: string, name: string, version: string, path: string): string | null {
  if (!isRunFileName(path)) return null;
  const base = fill<typeof VERSION, "get">(VERSION, { entity, project, name, version });
  return `${PREFIX}${base}/files/${path.split("/").map(seg).join("/")}`;
}

/**
 * The files an artifact's table or media JSON names (`media/images/…`): the artifact's own entry at
 * that path (`artifact.add(table, name)` stores them there, as wandb), else the creator run's file (a
 * run's table JSON added with `add_file` names the run's media). A reference entry has no file here.
 */
export function artifactMediaUrl(art: { entity: string; project: string; name: string; version: string; run: string | null }, entries: Record<string, ManifestEntry>): FileUrl {
  return (path) => {
    const entry = Object.hasOwn(entries, path) ? entries[path] : undefined; // never `constructor` from the prototype
    if (entry) return entry.ref ? null : artifactFileUrl(art.entity, art.project, art.name, art.version, path);
    return art.run ? runFileUrl({ entity: art.entity, project: art.project, run_id: art.run }, path) : null;
  };
}

export const registryCollections = (entity: string) => get("/api/v1/registry/{entity}", { entity });
export const registryCollection = (entity: string, collection: string) => get("/api/v1/registry/{entity}/{collection}", { entity, collection });

// -- managing runs, the trash, the audit trail (docs/collaboration.md) ------------------------------
export type RunEdit = JsonBody<Operation<"/api/v1/runs/{entity}/{project}/{run_id}", "patch">>;
export type BulkAction = JsonBody<Operation<"/api/v1/projects/{entity}/{project}/runs/bulk", "post">>;
export const editRun = (ref: RunRef, body: RunEdit) =>
  send<"/api/v1/runs/{entity}/{project}/{run_id}", "patch", RunDetail>("patch", "/api/v1/runs/{entity}/{project}/{run_id}", ref, body);
export const deleteRun = (ref: RunRef) => send("delete", "/api/v1/runs/{entity}/{project}/{run_id}", ref);
export const restoreRun = (ref: RunRef) => send("post", "/api/v1/runs/{entity}/{project}/{run_id}/restore", ref);
/** Ask a running run to stop: its client (the stock wandb client) ends the script at its next check. */
export const stopRun = (ref: RunRef) => send("post", "/api/v1/runs/{entity}/{project}/{run_id}/stop", ref);
export const bulkRuns = (entity: string, project: string, body: BulkAction) =>
  send("post", "/api/v1/projects/{entity}/{project}/runs/bulk", { entity, project }, body);
export const runTrash = (entity: string, project: string) => get("/api/v1/projects/{entity}/{project}/trash", { entity, project });
export type ProjectEdit = JsonBody<Operation<"/api/v1/projects/{entity}/{project}", "patch">>;
export const projectDetail = (entity: string, project: string) => get("/api/v1/projects/{entity}/{project}", { entity, project });
/** Description and pinned runs need the member role; name and visibility the entity's admin. */
export const editProject = (entity: string, project: string, body: ProjectEdit) =>
  send("patch", "/api/v1/projects/{entity}/{project}", { entity, project }, body);
export const deleteProject = (entity: string, project: string) => send("delete", "/api/v1/projects/{entity}/{project}", { entity, project });
export const restoreProject = (entity: string, project: string) => send("post", "/api/v1/projects/{entity}/{project}/restore", { entity, project });
export const projectTrash = (entity: string) => get("/api/v1/entities/{entity}/trash", { entity });
export const projectOverview = (entity: string, project: string, query: QueryParams<Operation<"/api/v1/projects/{entity}/{project}/overview", "get">>) =>
  get<"/api/v1/projects/{entity}/{project}/overview", ProjectOverview>("/api/v1/projects/{entity}/{project}/overview", { entity, project }, query);
export const auditLog = (entity: string | null, before?: number) =>
  entity
    ? get("/api/v1/entities/{entity}/audit", { entity }, before ? { before } : undefined)
    : get("/api/v1/audit", none, before ? { before } : undefined);
// -- comments (docs/collaboration.md#comments) -----------------------------------------------------
export const runThreads = (ref: RunRef) => get("/api/v1/runs/{entity}/{project}/{run_id}/threads", ref);
export const startThread = (ref: RunRef, body: string) =>
  send<"/api/v1/runs/{entity}/{project}/{run_id}/threads", "post", CommentThread>("post", "/api/v1/runs/{entity}/{project}/{run_id}/threads", ref, { body });
export const replyToThread = (ref: RunRef, threadId: number, body: string) =>
  send<"/api/v1/runs/{entity}/{project}/{run_id}/threads/{thread_id}/comments", "post", Comment>(
    "post",
    "/api/v1/runs/{entity}/{project}/{run_id}/threads/{thread_id}/comments",
    { ...ref, thread_id: threadId },
    { body },
  );
export const resolveThread = (ref: RunRef, threadId: number, resolved: boolean) =>
  send("patch", "/api/v1/runs/{entity}/{project}/{run_id}/threads/{thread_id}", { ...ref, thread_id: threadId }, { resolved });
export const editComment = (ref: RunRef, commentId: number, body: string) =>
  send("patch", "/api/v1/runs/{entity}/{project}/{run_id}/comments/{comment_id}", { ...ref, comment_id: commentId }, { body });
export const deleteComment = (ref: RunRef, commentId: number) =>
  send("delete", "/api/v1/runs/{entity}/{project}/{run_id}/comments/{comment_id}", { ...ref, comment_id: commentId });
export const mentionable = (entity: string, q: string) => load(get("/api/v1/entities/{entity}/mentionable", { entity }, { q }));
// -- notifications ----------------------------------------------------------------------------------------
// The answers are typed in types.ts (the server declares them as any JSON).
type ProjectParams = { entity: string; project: string };
export const notifications = (query: QueryParams<Operation<"/api/v1/notifications", "get">> = {}) =>
  get<"/api/v1/notifications", NotificationList>("/api/v1/notifications", none, query);
export const unreadNotifications = () => get<"/api/v1/notifications/unread", { unread: number }>("/api/v1/notifications/unread", none);
/** Where the signed-in user's own notifications stream from (an EventSource URL under /api/v1). */
export const notificationEvents = () => fill<"/api/v1/notifications/events", "get">("/api/v1/notifications/events", none);
/** Mark these notifications read (`"all"`: every one); answers the unread count left. */
export const markNotificationsRead = (which: number[] | "all") =>
  send<"/api/v1/notifications/read", "post", { unread: number }>("post", "/api/v1/notifications/read", none, which === "all" ? { all: true } : { ids: which });
export const mySettings = () => get<"/api/v1/notifications/settings", NotificationSettings>("/api/v1/notifications/settings", none);
export const saveMySettings = (targets: NotificationTarget[]) =>
  send<"/api/v1/notifications/settings", "put", NotificationSettings>("put", "/api/v1/notifications/settings", none, { targets });
export const subscription = (entity: string, project: string) =>
  get<"/api/v1/projects/{entity}/{project}/subscription", NotificationSettings>("/api/v1/projects/{entity}/{project}/subscription", { entity, project });
export const saveSubscription = (entity: string, project: string, targets: NotificationTarget[]) =>
  send<"/api/v1/projects/{entity}/{project}/subscription", "put", NotificationSettings>("put", "/api/v1/projects/{entity}/{project}/subscription", { entity, project }, { targets });
export const teamChannels = (entity: string, project: string) =>
  get<"/api/v1/projects/{entity}/{project}/notification-settings", NotificationSettings>("/api/v1/projects/{entity}/{project}/notification-settings", { entity, project });
export const saveTeamChannels = (entity: string, project: string, targets: NotificationTarget[]) =>
  send<"/api/v1/projects/{entity}/{project}/notification-settings", "put", NotificationSettings>(
    "put",
    "/api/v1/projects/{entity}/{project}/notification-settings",
    { entity, project },
    { targets },
  );
export const alertRules = (entity: string, project: string) =>
  get<"/api/v1/projects/{entity}/{project}/alert-rules", { rules: AlertRule[] }>("/api/v1/projects/{entity}/{project}/alert-rules", { entity, project });
export const createAlertRule = (where: ProjectParams, rule: NewAlertRule) =>
  send<"/api/v1/projects/{entity}/{project}/alert-rules", "post", AlertRule>("post", "/api/v1/projects/{entity}/{project}/alert-rules", where, rule);
export const deleteAlertRule = (where: ProjectParams, ruleId: number) =>
  send("delete", "/api/v1/projects/{entity}/{project}/alert-rules/{rule_id}", { ...where, rule_id: ruleId });
