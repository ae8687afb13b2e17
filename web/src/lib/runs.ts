/**
 * The run table's rows, loaded a page at a time as they scroll into view: 10k runs never arrive
 * at once. A filter or sort change starts over, but the old rows stay on screen (marked `loading`)
 * until the new first page replaces them: the table never blinks empty and a focused row keeps its
 * focus. A live reload refetches the loaded pages in place.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ApiError } from "../api/client";
import { load, runPage } from "../api/endpoints";
import type { FilterErrorBody, Run } from "../api/types";

export const PAGE_SIZE = 500;

export interface RunRows {
  total: number | null;
  /** True from a filter or sort change until its first page arrives (the rows shown are the old ones). */
  loading: boolean;
  /** Row i, or undefined while its page loads. */
  row: (index: number) => Run | undefined;
  /** Every loaded row, in order (a new array only when a page arrives). */
  loaded: Run[];
  ensure: (start: number, end: number) => void;
  reload: () => void;
  error: FilterErrorBody | null;
}

export function useRuns(entity: string, project: string, filter: string, order: string): RunRows {
  const pages = useRef(new Map<number, Run[]>());
  const inflight = useRef(new Set<number>());
  const generation = useRef(0);
  const [total, setTotal] = useState<number | null>(null);
  const [error, setError] = useState<FilterErrorBody | null>(null);
  const [loading, setLoading] = useState(true);
  // What `pages` held when a page last arrived: rendering reads this copy, never the ref.
  const [shown, setShown] = useState<ReadonlyMap<number, Run[]>>(() => new Map());

  const fetchPage = useCallback(
    (page: number, gen: number) => {
      if (inflight.current.has(page)) return;
      inflight.current.add(page);
      load(runPage(entity, project, { filter: filter || undefined, order: order || undefined, limit: PAGE_SIZE, offset: page * PAGE_SIZE }))
        .then((answer) => {
          if (gen !== generation.current) return;
          pages.current.set(page, answer.runs);
          setTotal(answer.total);
          setError(null);
          setLoading(false);
          setShown(new Map(pages.current));
        })
        .catch((e: unknown) => {
          if (gen !== generation.current) return;
          if (e instanceof ApiError) {
            const body = (e.body ?? {}) as Partial<FilterErrorBody>;
            setError({ ...body, detail: e.message, code: e.code });
          } else setError({ detail: String(e) });
          setLoading(false);
          // A failed first page: the old rows do not answer this filter, so show none.
          if (pages.current.size === 0) {
            setTotal(0);
            setShown(new Map());
          }
        })
        .finally(() => {
          if (gen === generation.current) inflight.current.delete(page);
        });
    },
    [entity, project, filter, order],
  );

  useEffect(() => {
    generation.current++;
    pages.current = new Map();
    inflight.current = new Set();
    setLoading(true);
    fetchPage(0, generation.current);
  }, [fetchPage]);

  const ensure = useCallback(
    (start: number, end: number) => {
      const first = Math.floor(Math.max(0, start) / PAGE_SIZE);
      const last = Math.floor(Math.max(0, end) / PAGE_SIZE);
      for (let p = first; p <= last; p++) {
        if (!pages.current.has(p)) fetchPage(p, generation.current);
      }
    },
    [fetchPage],
  );

  const reload = useCallback(() => {
    const loaded = [...pages.current.keys()];
    if (loaded.length === 0) loaded.push(0);
    loaded.forEach((p) => fetchPage(p, generation.current));
  }, [fetchPage]);

  const row = useCallback((index: number) => shown.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE], [shown]);
  const loaded = useMemo(
    () => [...shown.keys()].sort((a, b) => a - b).flatMap((p) => shown.get(p) ?? []),
    [shown],
  );

  return { total, loading, row, loaded, ensure, reload, error };
}

/** A config value by dotted path ("optimizer.lr"), trying the whole key first. */
export function configValue(config: Record<string, unknown>, path: string): unknown {
  if (path in config) return config[path];
  let node: unknown = config;
  for (const part of path.split(".")) {
    if (node === null || typeof node !== "object" || !(part in (node as Record<string, unknown>))) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** What `define_metric(summary=…)` keeps of a metric: the summary then holds `{"acc": {"max": 0.9}}`. */
export const SUMMARY_VIEWS = ["min", "max", "mean", "first", "last", "best"] as const;

/** The views a `define_metric` summary entry holds (`{"max": 0.9}` → ["max"]), or null for any other value. */
function viewsOf(value: unknown): string[] | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => (SUMMARY_VIEWS as readonly string[]).includes(k)) ? keys : null;
}

/** `acc.max` as ["acc", "max"] when it names a view, else null. */
function splitView(field: string): [string, string] | null {
  const dot = field.lastIndexOf(".");
  if (dot <= 0) return null;
  const view = field.slice(dot + 1);
  return (SUMMARY_VIEWS as readonly string[]).includes(view) ? [field.slice(0, dot), view] : null;
}

/**
 * A summary field's value. A field is a summary key, or wandb's `acc.max` for the value
 * `define_metric("acc", summary="max")` keeps at `{"acc": {"max": …}}` (the server filters and
 * sorts on the same name). The plain key of such an entry reads its `last` view only: any other
 * view is not the metric's last value, and is shown under its own name.
 */
export function summaryValue(summary: Record<string, unknown>, field: string): unknown {
  if (field in summary) {
    const v = summary[field];
    const views = viewsOf(v);
    return views === null ? v : (v as Record<string, unknown>).last;
  }
  const split = splitView(field);
  if (split === null || viewsOf(summary[split[0]]) === null) return undefined;
  return (summary[split[0]] as Record<string, unknown>)[split[1]];
}

/** A summary field as people read it: `eval/acc.max` is "eval/acc (max)". */
export function summaryLabel(field: string): string {
  const split = splitView(field);
  return split ? `${split[0]} (${split[1]})` : field;
}

/**
 * The summary fields of `keys` over `runs`: a key whose runs hold `define_metric` views becomes one
 * field per view (`eval/acc.max`), kept as the plain key too where some run holds a plain value
 * (or no loaded run holds it at all).
 */
export function summaryFields(keys: readonly string[], runs: readonly Pick<Run, "summary">[]): string[] {
  const out: string[] = [];
  for (const key of keys) {
    const views = new Set<string>();
    let plain = false;
    for (const r of runs) {
      if (!(key in r.summary)) continue;
      const v = viewsOf(r.summary[key]);
      if (v === null) plain = true;
      else v.forEach((view) => views.add(view));
    }
    if (plain || views.size === 0) out.push(key);
    for (const view of SUMMARY_VIEWS) if (views.has(view)) out.push(`${key}.${view}`);
  }
  return out;
}

/** A run's summary as shown: `define_metric` entries spread into one labelled value per view. */
export function shownSummary(summary: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(summary)) {
    const views = viewsOf(value);
    if (views === null) out[key] = value;
    else for (const view of views) out[summaryLabel(`${key}.${view}`)] = (value as Record<string, unknown>)[view];
  }
  return out;
}
