/**
 * What the app tells a person about a refused API call: the translation of the server's stable
 * error `code` (the tables are `errors` in en.ts and zh.ts, complete over `ErrorCode`), followed by
 * the server's own `detail`, which names the particular cause; only `detail` for a code with no
 * translation (an older or newer server).
 */
import i18next from "i18next";
import { ApiError } from "../api/client";

export function describeError(code: string | null | undefined, detail: string): string {
  const key = `errors.${code}`;
  if (!code || !i18next.exists(key)) return detail;
  return i18next.t("errors.withDetail", { message: i18next.t(key), detail });
}

/** `describeError` for anything a call may throw. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return describeError(e.code, e.message);
  return e instanceof Error ? e.message : String(e);
}
