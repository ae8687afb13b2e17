/**
 * Runs hidden from the charts. Hiding is separate from selection: a hidden run stays selected
 * (it still goes to Compare and keeps its colour) but no chart draws it. The set is kept in the
 * URL as `?hidden=id1,id2`, ids sorted, so the same set always gives the same link.
 */
import { parseList, writeList } from "./urlState";

export const HIDDEN_PARAM = "hidden";

export function readHidden(params: URLSearchParams): Set<string> {
  return readHiddenValue(params.get(HIDDEN_PARAM));
}

/** The hidden set from the parameter's raw value. */
export function readHiddenValue(raw: string | null): Set<string> {
  return new Set(parseList(raw) ?? []);
}

/** The URL value for a hidden set; null (no parameter) when nothing is hidden. */
export function writeHidden(hidden: Iterable<string>): string | null {
  return writeList([...new Set(hidden)].sort()) || null;
}

/** The hidden set with `runIds` hidden (or shown). */
export function withRunsHidden(hidden: ReadonlySet<string>, runIds: readonly string[], hide: boolean): Set<string> {
  const next = new Set(hidden);
  for (const id of runIds) {
    if (hide) next.add(id);
    else next.delete(id);
  }
  return next;
}

/** One eye button for one run or a group of runs: all hidden → all shown, otherwise all hidden. */
export function toggleRunsHidden(hidden: ReadonlySet<string>, runIds: readonly string[]): Set<string> {
  return withRunsHidden(hidden, runIds, !allHidden(hidden, runIds));
}

export function allHidden(hidden: ReadonlySet<string>, runIds: readonly string[]): boolean {
  return runIds.length > 0 && runIds.every((id) => hidden.has(id));
}
