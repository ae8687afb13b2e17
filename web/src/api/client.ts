/**
 * The one way the app talks to the server. Same-origin fetch with the session cookie; every
 * write carries the session's CSRF token; a 401 anywhere sends the person to the sign-in page.
 * Histories come as MessagePack, whose numeric series are raw float64 bytes (no JSON parsing of
 * millions of numbers).
 */
import { decode } from "@msgpack/msgpack";
import { errorCode, errorDetail } from "./errors";

/** A refused request: the HTTP status, the error body, its `code` if any; the message is its `detail`. */
export class ApiError extends Error {
  readonly code: string | null;

  constructor(
    readonly status: number,
    readonly body: unknown,
    message: string,
  ) {
    super(message);
    this.code = errorCode(body);
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
    let errorBody: unknown = null;
    try {
      errorBody = await response.json();
    } catch {
      errorBody = null;
    }
    if (response.status === 401 && !options.quiet401) unauthorizedListeners.forEach((l) => l());
    throw new ApiError(response.status, errorBody, errorDetail(errorBody) ?? `${response.status} ${response.statusText}`);
  }
  if (response.status === 204) return undefined as T;
  if (options.accept === "msgpack") return decode(new Uint8Array(await response.arrayBuffer())) as T;
  return (await response.json()) as T;
}
