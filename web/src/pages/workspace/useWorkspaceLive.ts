/**
 * The workspace kept live through the project's event stream: changed runs reload the table, new
 * keys reload the key lists, and new points of a selected run redraw the charts (`liveVersion`).
 */
import { useCallback, useState } from "react";
import { projectEvents } from "../../api/endpoints";
import type { ProjectKeys } from "../../api/types";
import { bringsNewKeys, useLive, type LiveBatch } from "../../lib/live";
import type { RunRows } from "../../lib/runs";
import type { ApiState } from "../../lib/useApi";

export function useWorkspaceLive(
  entity: string,
  project: string,
  rows: RunRows,
  keys: ApiState<ProjectKeys>,
  selected: Set<string>,
): { connected: boolean; liveVersion: number } {
  const [liveVersion, setLiveVersion] = useState(0);
  const onLive = useCallback(
    (batch: LiveBatch) => {
      if (batch.reconnected || batch.changed.size > 0) rows.reload();
      if (batch.created || batch.reconnected) keys.reload();
      const shownHasPoints = batch.reconnected || [...batch.points.keys()].some((id) => selected.has(id));
      if (shownHasPoints) setLiveVersion((v) => v + 1);
      if (bringsNewKeys(batch, keys.data?.summary ?? [])) keys.reload();
    },
    [rows, keys, selected],
  );
  const connected = useLive(projectEvents(entity, project), onLive);
  return { connected, liveVersion };
}
