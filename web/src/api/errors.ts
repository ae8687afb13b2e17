/**
 * The server's error body: `{"detail": "<English message>", "code": "<stable code>"}`. The app shows
 * a translation of `code` (i18n `errors.*`) and falls back to `detail` for a code it does not know.
 */

// PROVISIONAL, the one place to switch: the server's `ErrorCode` enum is not in openapi.json yet.
// Once it is (python scripts/openapi.py && npm run gen:api), replace this union with
//   export type ErrorCode = components["schemas"]["ErrorCode"];   (import type { components } from "./schema")
// and the type checker lists every code the translation tables in src/i18n then lack.
export type ErrorCode =
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "invalid_request"
  | "invalid_filter"
  | "payload_too_large"
  | "unsupported_media_type"
  | "method_not_allowed"
  | "rate_limited"
  | "csrf_failed"
  | "sequence_gap"
  | "insufficient_storage"
  | "internal_error";

/** The code of an error body, or null when it has none (an older server, a proxy's page). */
export function errorCode(body: unknown): string | null {
  if (body === null || typeof body !== "object" || !("code" in body)) return null;
  const code = body.code;
  return typeof code === "string" ? code : null;
}

/** The `detail` of an error body as text, or null when it has none. */
export function errorDetail(body: unknown): string | null {
  if (body === null || typeof body !== "object" || !("detail" in body)) return null;
  const detail = body.detail;
  return typeof detail === "string" ? detail : JSON.stringify(detail);
}
