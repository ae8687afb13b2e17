/**
 * A project's workspace: the run table (filter, sort, columns, group by, selection, hidden runs)
 * beside the chart panels of the selected runs that are not hidden, kept live through the
 * project's event stream. Everything a person sets here is in the URL. The pieces live in
 * ./workspace/, one concept per file.
 */
import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useParams } from "react-router";
import { seg } from "../api/client";
import { projectKeys } from "../api/endpoints";
import { FilterBar } from "../components/FilterBar";
import { RunTable } from "../components/RunTable";
import { errorMessage } from "../i18n/errors";
import { canWrite } from "../lib/access";
import { formatField } from "../lib/filterBuilder";
import { workspaceGroupBy } from "../lib/grouping";
import { stepMetricOf } from "../lib/stepMetrics";
import { shownPanelKeys } from "../lib/panels";
import { createReport } from "../panels/api";
import { draftFromView, newRunSet } from "../panels/data";
import { panelOptions } from "../lib/chartOptions";
import { useSession } from "../session";
import { HistoryStore } from "../lib/historyStore";
import { summaryFields, useRuns } from "../lib/runs";
import { useApi } from "../lib/useApi";
import { ChartsPane } from "./workspace/ChartsPane";
import { parseOrder, sortKeyOf, useRunColumns } from "./workspace/columns";
import { TableTools } from "./workspace/TableTools";
import { useGroupedRows } from "./workspace/useGroupedRows";
import { usePanelLayout } from "./workspace/usePanelLayout";
import { useRunSelection } from "./workspace/useRunSelection";
import { useSavedViews } from "./workspace/useSavedViews";
import { useWorkspaceLive } from "./workspace/useWorkspaceLive";
import { useWorkspaceUrl } from "./workspace/useWorkspaceUrl";
import { WorkspaceHeader } from "./workspace/WorkspaceHeader";

const NO_STEP_METRICS: Record<string, string> = {};
const FILTER_FIELDS = ["name", "state", "tags", "group", "job_type", "host", "created_at", "runtime"];

export function WorkspacePage() {
  const { t } = useTranslation();
  const { entity = "", project = "" } = useParams();
  const urlState = useWorkspaceUrl();
  const { setParams } = urlState;
  const { me } = useSession();
  const navigate = useNavigate();

  const rows = useRuns(entity, project, urlState.filter, urlState.order);
  // Runs logged with `group=` are grouped by it unless the URL (or a saved view) says otherwise.
  const url = { ...urlState, groupBy: workspaceGroupBy(urlState.groupParam, rows.loaded) };
  const keys = useApi(projectKeys(entity, project));
  const store = useMemo(() => new HistoryStore(entity, project), [entity, project]);
  const [layout, updateLayout, saveChecked] = usePanelLayout(entity, project);
  const savedViews = useSavedViews(entity, project, layout, updateLayout);
  const writer = canWrite(me, entity);
  const selection = useRunSelection(rows.loaded, url.explicitSelection, url.hidden, setParams);
  const { connected, liveVersion } = useWorkspaceLive(entity, project, rows, keys, selection.selected);
  const columns = useRunColumns(entity, project, url.extraColumns, url.hiddenColumns);
  const table = useGroupedRows(rows, url.groupBy);

  const total = rows.total ?? 0;
  // `_wandb.*` (chart panels, class labels the SDK keeps as wandb does) is bookkeeping, not a column.
  const configKeys = useMemo(() => (keys.data?.config ?? []).filter((k) => !k.startsWith("_")), [keys.data]);
  const metricKeys = useMemo(() => (keys.data?.summary ?? []).filter((k) => !k.startsWith("_")), [keys.data]);
  // define_metric summaries become one field per view kept ("eval/acc.max"), as the loaded runs show.
  const summaryKeys = useMemo(() => summaryFields(metricKeys, rows.loaded), [metricKeys, rows.loaded]);
  const filterFields = [...FILTER_FIELDS, ...configKeys.map((k) => `config.${k}`), ...summaryKeys.map((k) => formatField(["summary", k]))];
  const [reportError, setReportError] = useState<string | null>(null);
  // "Create report": the filter as one run set, each chart the workspace shows as a line panel.
  const createFromView = async () => {
    setReportError(null);
    try {
      // Each panel on the x axis the workspace draws it against (its step metric when none is chosen).
      const stepMetrics = keys.data?.step_metrics ?? NO_STEP_METRICS;
      const xAxisOf = (metric: string) => panelOptions(url.chart, layout.options?.[metric]).xAxis || stepMetricOf(stepMetrics, metric) || "_step";
      const grouping = url.groupBy ? { by: url.groupBy, aggregate: url.aggregate, band: url.band } : null;
      const spec = draftFromView(newRunSet(t("reports.newRunSetName"), url.filter), shownPanelKeys(metricKeys, layout), xAxisOf, { kind: url.chart.smoothKind, amount: url.smoothing }, grouping);
      const report = await createReport(entity, project, { title: t("reports.fromViewTitle", { project }), spec });
      void navigate(`/${seg(entity)}/${seg(project)}/reports/${seg(report.id)}/edit`);
    } catch (e) {
      setReportError(errorMessage(e));
    }
  };

  return (
    <section className="workspace" data-testid="workspace">
      <WorkspaceHeader
        entity={entity}
        project={project}
        connected={connected}
        view={url.view}
        onView={(view) => setParams({ view })}
        selectedIds={selection.selectedIds}
        onCreateReport={writer ? () => void createFromView() : undefined}
        savedViews={savedViews}
        canWrite={writer}
      />
      {reportError && <p role="alert" className="error">{reportError}</p>}
      <FilterBar value={url.filter} onChange={(f) => setParams({ filter: f || null, sel: null })} error={rows.error} fields={filterFields} />
      <div className={`ws-body view-${url.view}`}>
        {url.view !== "charts" && (
          <div className="ws-table">
            <TableTools
              entity={entity}
              project={project}
              onChanged={rows.reload}
              url={url}
              selection={selection}
              columns={columns}
              shownCount={table.grouped ? rows.loaded.length : total}
              total={total}
              configKeys={configKeys}
              summaryKeys={summaryKeys}
            />
            {rows.total === 0 && !rows.error ? (
              <p className="muted">{t("workspace.noRuns")}</p>
            ) : (
              <RunTable
                columns={columns}
                count={table.count}
                item={table.item}
                onRange={table.onRange}
                sort={parseOrder(url.order)}
                onSort={(s) => {
                  const key = s ? sortKeyOf(s.id) : undefined;
                  setParams({ order: s && key ? `${s.desc ? "-" : ""}${key}` : null });
                }}
                selected={selection.selected}
                onToggle={selection.toggle}
                hidden={url.hidden}
                onToggleHidden={selection.toggleHidden}
                onToggleGroup={table.toggleGroup}
                colorOf={selection.colorOfRun}
                label={t("workspace.runs")}
                busy={rows.loading}
              />
            )}
          </div>
        )}
        {url.view !== "table" && (
          <ChartsPane
            entity={entity}
            project={project}
            url={url}
            selection={selection}
            store={store}
            liveVersion={liveVersion}
            layout={layout}
            updateLayout={updateLayout}
            saveChecked={saveChecked}
            metricKeys={metricKeys}
            keysLoaded={keys.data !== null}
            configKeys={configKeys}
            summaryKeys={summaryKeys}
            stepMetrics={keys.data?.step_metrics ?? NO_STEP_METRICS}
            loadedRuns={rows.loaded}
          />
        )}
      </div>
    </section>
  );
}
