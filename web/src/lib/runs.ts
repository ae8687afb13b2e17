/**
 * The run table's rows, loaded a page at a time as they scroll into view: 10k runs never arrive
 * at once. A filter or sort change starts over; a live reload refetches the loaded pages in place.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ApiError } from "../api/client";
import { load, runPage } from "../api/endpoints";
import type { FilterErrorBody, Run } from "../api/types";

export const PAGE_SIZE = 500;

export interface RunRows {
  total: number | null;
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
          setShown(new Map(pages.current));
        })
        .catch((e: unknown) => {
          if (gen !== generation.current) return;
          if (e instanceof ApiError) {
            const body = (e.body ?? {}) as Partial<FilterErrorBody>;
            setError({ ...body, detail: e.message, code: e.code });
          } else setError({ detail: String(e) });
          setTotal((t) => t ?? 0);
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
    setTotal(null);
    setShown(new Map());
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

  return { total, row, loaded, ensure, reload, error };
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

/** A summary entry's shown value: the last value of a metric, or the value itself. */
export function summaryValue(summary: Record<string, unknown>, key: string): unknown {
  const v = summary[key];
  if (v !== null && typeof v === "object" && !Array.isArray(v) && "last" in (v as Record<string, unknown>)) {
    return (v as Record<string, unknown>).last;
  }
  return v;
}
