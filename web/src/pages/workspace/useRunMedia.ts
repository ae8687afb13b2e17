/**
 * The logged steps of one media or histogram key for each of a few runs (the media route, filtered
 * by key): what a workspace media or histogram panel draws. Re-read when the runs, the key or the
 * live version change.
 */
import { useEffect, useState } from "react";
import { load, mediaPage } from "../../api/endpoints";
import type { MediaItem } from "../../api/types";
import type { ShownRun } from "../../components/MetricPanel";
import type { WorkspacePanel } from "../../lib/panelSections";

/** Steps read per run: one page of the media route (a heatmap column or a slider stop each). */
const STEPS = 1000;

/** What a workspace panel drawn from `useRunMedia` gets: the panel (its `key`) and the runs it
 * shows; `version` changes when they log more (the live stream). */
export interface RunMediaPanelProps {
  entity: string;
  project: string;
  panel: WorkspacePanel;
  runs: ShownRun[];
  version: number;
}

export function useRunMedia(entity: string, project: string, runIds: string[], key: string, version: number): Map<string, MediaItem[]> | null {
  const [byRun, setByRun] = useState<Map<string, MediaItem[]> | null>(null);
  const ids = runIds.join(",");
  useEffect(() => {
    if (!key || !ids) {
      setByRun(new Map());
      return;
    }
    let live = true;
    const reads = ids.split(",").map(async (run_id): Promise<[string, MediaItem[]]> => {
      const page = await load(mediaPage({ entity, project, run_id }, { key: [key], limit: STEPS }));
      return [run_id, page.items];
    });
    Promise.all(reads).then(
      (pairs) => live && setByRun(new Map(pairs)),
      () => live && setByRun(new Map()),
    );
    return () => {
      live = false;
    };
  }, [entity, project, ids, key, version]);
  return byRun;
}
