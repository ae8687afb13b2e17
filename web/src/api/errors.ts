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

/** One of pydantic's problems in a 422 `validation_failed` body: where (`["targets", 0, "url"]`) and what. */
interface Problem {
  loc: (string | number)[];
  msg: string;
}

function isProblem(item: unknown): item is Problem {
  return item !== null && typeof item === "object" && "msg" in item && typeof item.msg === "string" && "loc" in item && Array.isArray(item.loc);
}

/** A 422's list of problems as one line a person reads: `targets.1.url: Field required; value: …`
 * (where the request put the field, `body`/`query`, is left out: the form is what the person sees). */
function describeProblems(problems: Problem[]): string {
  return problems
    .map(({ loc, msg }) => {
      const where = loc.filter((part, i) => !(i === 0 && (part === "body" || part === "query" || part === "path"))).join(".");
      return where ? `${where}: ${msg}` : msg;
    })
    .join("; ");
}

/** The `detail` of an error body as text, or null when it has none. */
export function errorDetail(body: unknown): string | null {
  if (body === null || typeof body !== "object" || !("detail" in body)) return null;
  const detail = body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail) && detail.length > 0 && detail.every(isProblem)) return describeProblems(detail);
  return JSON.stringify(detail);
}
