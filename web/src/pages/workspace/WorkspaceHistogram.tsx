/** A histogram panel of the workspace: its key's logged steps read for the panel's runs, drawn by the panel kind's HistogramRuns. */
import { configString } from "../../panels/data";
import { HistogramRuns } from "../../panels/HistogramPanel";
import { useRunMedia, type RunMediaPanelProps } from "./useRunMedia";

export function WorkspaceHistogram({ entity, project, panel, runs, version }: RunMediaPanelProps) {
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
