/**
 * The run table's rows, loaded a page at a time as they scroll into view: 10k runs never arrive
 * at once. A filter or sort change starts over; a live reload refetches the loaded pages in place.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, api, seg } from "../api/client";
import type { FilterErrorBody, Run, RunPage } from "../api/types";

export const PAGE_SIZE = 500;

export interface RunRows {
  total: number | null;
  /** Row i, or undefined while its page loads. */
  row: (index: number) => Run | undefined;
  /** Every loaded row, in order. */
  loaded: () => Run[];
  ensure: (start: number, end: number) => void;
  reload: () => void;
  error: FilterErrorBody | null;
  version: number;
}

export function useRuns(entity: string, project: string, filter: string, order: string): RunRows {
  const pages = useRef(new Map<number, Run[]>());
  const inflight = useRef(new Set<number>());
  const generation = useRef(0);
  const [total, setTotal] = useState<number | null>(null);
  const [error, setError] = useState<FilterErrorBody | null>(null);
  const [version, setVersion] = useState(0);

  const fetchPage = useCallback(
    (page: number, gen: number) => {
      if (inflight.current.has(page)) return;
      inflight.current.add(page);
      api
        .get<RunPage>(`/projects/${seg(entity)}/${seg(project)}/runs`, {
          filter: filter || undefined,
          order: order || undefined,
          limit: PAGE_SIZE,
          offset: page * PAGE_SIZE,
        })
        .then((answer) => {
          if (gen !== generation.current) return;
          pages.current.set(page, answer.runs);
          setTotal(answer.total);
          setError(null);
          setVersion((v) => v + 1);
        })
        .catch((e: unknown) => {
          if (gen !== generation.current) return;
          if (e instanceof ApiError) {
            const body = (e.body ?? { detail: e.message }) as FilterErrorBody;
            setError({ ...body, detail: typeof body.detail === "string" ? body.detail : e.message });
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
    setVersion((v) => v + 1);
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

  const row = useCallback((index: number) => pages.current.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE], []);
  const loaded = useCallback(() => {
    const out: Run[] = [];
    [...pages.current.keys()].sort((a, b) => a - b).forEach((p) => out.push(...(pages.current.get(p) ?? [])));
    return out;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [version]);

  return { total, row, loaded, ensure, reload, error, version };
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
