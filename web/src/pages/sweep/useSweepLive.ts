/**
 * A sweep page kept live through its project's event stream: a trial's run that starts, changes
 * state or logs reloads the sweep (its trials, counts and best) and the importance; points of a
 * trial's run redraw the metric chart (`liveVersion`). Pending trials and control actions from
 * elsewhere (the CLI) show up at the next reload, and at the latest after `POLL_MS` while the sweep
 * is not over.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { projectEvents } from "../../api/endpoints";
import type { Sweep } from "../../api/types";
import { useLive, type LiveBatch } from "../../lib/live";
import type { ApiState } from "../../lib/useApi";

const POLL_MS = 10_000;

export function useSweepLive(entity: string, project: string, sweep: ApiState<Sweep>, importance: ApiState<unknown>): { connected: boolean; liveVersion: number } {
  const [liveVersion, setLiveVersion] = useState(0);
  const trialIds = useRef(new Set<string>());
  trialIds.current = new Set((sweep.data?.trials ?? []).map((t) => t.run_id));
  const { reload } = sweep;
  const reloadImportance = importance.reload;
  const onLive = useCallback(
    (batch: LiveBatch) => {
      const ours = (id: string) => trialIds.current.has(id);
      const changed = [...batch.changed].some(ours);
      if (batch.reconnected || batch.created || changed) reload();
      if (batch.reconnected || changed) reloadImportance();
      if (batch.reconnected || [...batch.points.keys()].some(ours)) setLiveVersion((v) => v + 1);
    },
    [reload, reloadImportance],
  );
  const connected = useLive(projectEvents(entity, project), onLive);
  const over = sweep.data?.state === "finished" || sweep.data?.state === "canceled";
  useEffect(() => {
    if (over) return;
    const timer = setInterval(reload, POLL_MS);
    return () => clearInterval(timer);
  }, [over, reload]);
  return { connected, liveVersion };
}
