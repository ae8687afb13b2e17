/**
 * The one way the app talks to the server. Same-origin fetch with the session cookie; every
 * write carries the session's CSRF token; a 401 anywhere sends the person to the sign-in page.
 * Histories come as MessagePack, whose numeric series are raw float64 bytes (no JSON parsing of
 * millions of numbers).
 */
import { decode } from "@msgpack/msgpack";
import { toNumbers, type SeriesData } from "../lib/series";
import type { HistoryRequest } from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
const unauthorizedListeners = new Set<() => void>();

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export type Query = Record<string, string | number | boolean | null | undefined | (string | number)[]>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === null || v === undefined || v === "") continue;
    if (Array.isArray(v)) v.forEach((item) => params.append(k, String(item)));
    else params.append(k, String(v));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** A path segment, escaped. */
export const seg = (part: string): string => encodeURIComponent(part);

/** The download URL of a run's file (`media/images/…`), under the run's API path (`/runs/e/p/id`). */
export function runFileUrl(runPath: string, path: string): string {
  return `/api/v1${runPath}/files/${path.split("/").map(seg).join("/")}`;
}

interface Options {
  method?: string;
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  accept?: "json" | "msgpack";
  /** Do not treat 401 as "signed out" (the sign-in call itself). */
  quiet401?: boolean;
}

export async function request<T>(path: string, options: Options = {}): Promise<T> {
  const method = options.method ?? "GET";
  const headers: Record<string, string> = {
    Accept: options.accept === "msgpack" ? "application/msgpack" : "application/json",
    // Lets the server tell the app from a script, e.g. to leave out the Basic-auth challenge.
    "X-Requested-With": "wakelog-web",
  };
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let body: BodyInit | undefined;
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  const response = await fetch(withQuery(`/api/v1${path}`, options.query), {
    method,
    headers,
    body,
    signal: options.signal,
    credentials: "same-origin",
  });
  if (!response.ok) {
    let detail: unknown = null;
    try {
      detail = await response.json();
    } catch {
      detail = null;
    }
    if (response.status === 401 && !options.quiet401) unauthorizedListeners.forEach((l) => l());
    const text =
      detail && typeof detail === "object" && "detail" in detail
        ? typeof (detail as { detail: unknown }).detail === "string"
          ? (detail as { detail: string }).detail
          : JSON.stringify((detail as { detail: unknown }).detail)
        : `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, detail, text);
  }
  if (response.status === 204) return undefined as T;
  if (options.accept === "msgpack") return decode(new Uint8Array(await response.arrayBuffer())) as T;
  return (await response.json()) as T;
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>(path, { query, signal }),
  post: <T>(path: string, body?: unknown) => request<T>(path, { method: "POST", body }),
  put: <T>(path: string, body?: unknown) => request<T>(path, { method: "PUT", body }),
  del: <T>(path: string) => request<T>(path, { method: "DELETE" }),
};

interface RawSeries {
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
export async function fetchHistory(
  entity: string,
  project: string,
  query: HistoryRequest,
  signal?: AbortSignal,
): Promise<SeriesData[]> {
  const body = await request<{ series: RawSeries[] }>(`/projects/${seg(entity)}/${seg(project)}/history`, {
    method: "POST",
    body: query,
    accept: "msgpack",
    signal,
  });
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
