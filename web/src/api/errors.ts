/**
 * The server's error body: `{"detail": "<English message>", "code": "<stable code>"}`. The app shows
 * a translation of `code` (i18n `errors.*`) and falls back to `detail` for a code it does not know.
 */

import type { components } from "./schema";

/** Every code the server sends, from its OpenAPI schema: the translation tables must cover them all. */
export type ErrorCode = components["schemas"]["ErrorCode"];

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
