/**
 * Live push: one EventSource per page, its events gathered and handed over at most once per
 * `interval` ms (a chart redraws once per batch, not once per ingest batch of every run).
 * Events are not replayed by the server, so after a reconnect the page refetches what it shows.
 */
import { useEffect, useRef, useState } from "react";

export interface LiveBatch {
  /** Runs with new points, and their keys. */
  points: Map<string, Set<string>>;
  /** Runs created, changed state, or otherwise updated. */
  changed: Set<string>;
  created: boolean;
  /** The stream reconnected: anything may have changed. */
  reconnected: boolean;
}

/** Whether a batch brings a metric key that is not in `known`: a list of keys is out of date. */
export function bringsNewKeys(batch: LiveBatch, known: Iterable<string>): boolean {
  const knownKeys = new Set(known);
  for (const keys of batch.points.values()) {
    for (const key of keys) if (!knownKeys.has(key)) return true;
  }
  return false;
}

export function useLive(path: string | null, onBatch: (batch: LiveBatch) => void, interval = 1000): boolean {
  const handler = useRef(onBatch);
  handler.current = onBatch;
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    if (!path) return;
    let batch: LiveBatch | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let readyCount = 0;
    const source = new EventSource(`/api/v1${path}`, { withCredentials: true });
    const current = (): LiveBatch => {
      batch ??= { points: new Map(), changed: new Set(), created: false, reconnected: false };
      if (timer === null) {
        timer = setTimeout(() => {
          timer = null;
          const done = batch;
          batch = null;
          if (done) handler.current(done);
        }, interval);
      }
      return batch;
    };
    const parse = (e: MessageEvent): { run_id?: string; keys?: string[] } => {
      try {
        return JSON.parse(String(e.data)) as { run_id?: string; keys?: string[] };
      } catch {
        return {};
      }
    };
    source.addEventListener("ready", () => {
      setConnected(true);
      readyCount++;
      if (readyCount > 1) current().reconnected = true;
    });
    source.addEventListener("points", (e) => {
      const data = parse(e);
      if (!data.run_id) return;
      const b = current();
      const keys = b.points.get(data.run_id) ?? new Set<string>();
      (data.keys ?? []).forEach((k) => keys.add(k));
      b.points.set(data.run_id, keys);
      b.changed.add(data.run_id);
    });
    for (const name of ["run_created", "state", "run_updated"]) {
      source.addEventListener(name, (e) => {
        const data = parse(e);
        const b = current();
        if (data.run_id) b.changed.add(data.run_id);
        if (name === "run_created") b.created = true;
      });
    }
    source.onerror = () => setConnected(false);
    return () => {
      source.close();
      if (timer !== null) clearTimeout(timer);
    };
  }, [path, interval]);
  return connected;
}
