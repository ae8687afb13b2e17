/** A histogram panel of the workspace: its key's logged steps read for the panel's runs, drawn by the panel kind's HistogramRuns. */
import type { ShownRun } from "../../components/MetricPanel";
import type { WorkspacePanel } from "../../lib/panelSections";
import { configString } from "../../panels/data";
import { HistogramRuns } from "../../panels/HistogramPanel";
import { useRunMedia } from "./useRunMedia";

interface Props {
  entity: string;
  project: string;
  panel: WorkspacePanel;
  runs: ShownRun[];
  version: number;
}

export function WorkspaceHistogram({ entity, project, panel, runs, version }: Props) {
  const key = configString(panel, "key");
  const byRun = useRunMedia(
    entity,
    project,
    runs.map((r) => r.id),
    key,
    version,
  );
  return <HistogramRuns histKey={key} runs={runs} byRun={byRun} />;
}
