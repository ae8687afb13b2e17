import { useCallback, useEffect, useState } from "react";
import type { Query } from "../api/client";
import { load, type Get } from "../api/endpoints";

export interface ApiState<T> {
  data: T | null;
  error: Error | null;
  loading: boolean;
  reload: () => void;
}

/** Keep the answer of an endpoint's GET (null: nothing); a changed path or query fetches again. */
export function useApi<T>(what: Get<T> | null): ApiState<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [loading, setLoading] = useState(false);
  const [tick, setTick] = useState(0);
  // A Get is rebuilt on every render: what identifies it is its path and query.
  const path = what?.path ?? null;
  const queryKey = JSON.stringify(what?.query ?? null);
  useEffect(() => {
    if (path === null) return;
    const controller = new AbortController();
    setLoading(true);
    load<T>({ path, query: JSON.parse(queryKey) as Query | undefined }, controller.signal)
      .then((d) => {
        setData(d);
        setError(null);
      })
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(e instanceof Error ? e : new Error(String(e)));
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
  }, [path, queryKey, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, loading, reload };
}
