/**
 * The workspace's charts: the user's own panels in their sections (WorkspacePanels), one panel per
 * metric in sections by prefix (panels can be added, removed and resized), the first selected run's
 * system metrics, and the parallel-coordinates plot of all rows.
 */
import { lazy, Suspense, useCallback, useId, useMemo } from "react";
import { useTranslation } from "react-i18next";
import { runKeys as runKeysOf } from "../../api/endpoints";
import type { Run } from "../../api/types";
import { ChartControls } from "../../components/ChartControls";
import { MetricPanel, type Grouping, type PanelSize, type ShownRun } from "../../components/MetricPanel";
import { firstRuns, panelOptions, type ChartOptions } from "../../lib/chartOptions";
import { groupKeys, runGroups } from "../../lib/grouping";
import type { HistoryStore } from "../../lib/historyStore";
import type { WorkspacePanel } from "../../lib/panelSections";
import { moveMetricToSection, sections, shownPanelKeys, type PanelLayout } from "../../lib/panels";
import { configString, HISTOGRAM_RUNS, newId, histogramKeys as histogramKeysOf, matchesGlob, panelMaxRuns, stringList, yRangeOf } from "../../panels/data";
import { FetchedImportance } from "../../panels/ImportancePanel";
import { stepMetricOf } from "../../lib/stepMetrics";
import { useApi } from "../../lib/useApi";
import { ChartSettings } from "./ChartSettings";
import { parseOrder } from "./columns";
import type { RunSelection } from "./useRunSelection";
import type { WorkspaceUrl } from "./useWorkspaceUrl";
import { WorkspacePanels } from "./WorkspacePanels";

const ParallelPlot = lazy(() => import("../../components/ParallelPlot"));
// A histogram panel's heatmaps (ECharts) load only when the workspace has one.
const WorkspaceHistogram = lazy(() => import("./WorkspaceHistogram").then((m) => ({ default: m.WorkspaceHistogram })));
// So do a media panel's renderers (the run page's).
const WorkspaceMedia = lazy(() => import("./WorkspaceMedia").then((m) => ({ default: m.WorkspaceMedia })));

interface Props {
  entity: string;
  project: string;
  url: WorkspaceUrl;
  selection: RunSelection;
  store: HistoryStore;
  liveVersion: number;
  layout: PanelLayout;
  updateLayout: (next: PanelLayout) => void;
  /** Saves a layout only once the server takes it (a panel's settings are checked there). */
  saveChecked: (next: PanelLayout) => Promise<void>;
  /** The project's metric and config keys; `keysLoaded` once they have arrived. */
  metricKeys: string[];
  keysLoaded: boolean;
  configKeys: string[];
  /** The summary fields of the loaded runs (`define_metric` views as `eval/acc.max`). */
  summaryKeys: string[];
  /** define_metric name or glob -> its step_metric: each metric's default x axis. */
  stepMetrics: Record<string, string>;
  loadedRuns: Run[];
}

export function ChartsPane(props: Props) {
  const { entity, project, url, selection, store, liveVersion, layout, updateLayout, saveChecked, metricKeys, keysLoaded, configKeys, summaryKeys, stepMetrics, loadedRuns } = props;
  const { t } = useTranslation();
  const addPanelId = useId();
  const keysList = useId();
  const summaryList = useId();
  const { xAxis, legend, smoothing, logY, range, rangeAxis, hidden, setParams, groupBy, aggregate, band, chart, maxRuns } = url;
  const { selectedIds, selected } = selection;
  // "Max runs shown": the charts draw the first N of the shown runs, in the table's order.
  const shownRuns = useMemo(() => firstRuns(selection.shownRuns, loadedRuns, maxRuns), [selection.shownRuns, loadedRuns, maxRuns]);

  const firstShown = selectedIds[0];
  const runKeys = useApi(firstShown ? runKeysOf({ entity, project, run_id: firstShown }) : null);
  const systemKeys = useMemo(() => (runKeys.data?.system ?? []).map((k) => k.key), [runKeys.data]);
  const panelKeys = useMemo(() => shownPanelKeys(metricKeys, layout), [metricKeys, layout]);
  const onZoom = useCallback((r: [number, number] | null) => setParams({ xr: r ? `${r[0]},${r[1]}` : null, xa: null }), [setParams]);
  const panelSize = (key: string): PanelSize => layout.sizes[key] ?? "m";
  const hiddenPanels = layout.removed.filter((k) => metricKeys.includes(k));
  // The table's sorted summary column is the metric the parallel plot ends with.
  const sorted = parseOrder(url.order);
  const sortedMetric = sorted?.id.startsWith("summary:") ? sorted.id.slice(8) : undefined;
  const drawnRuns = hidden.size > 0 ? loadedRuns.filter((r) => !hidden.has(r.id)) : loadedRuns;
  // The table grouped: each metric panel draws one line per group of the runs it shows.
  const groupingOf = useCallback(
    (runs: ShownRun[]): Grouping | null => {
      if (!groupBy) return null;
      const byId = new Map(loadedRuns.map((r) => [r.id, r]));
      const groups = runGroups(runs, (shown) => {
        const run = byId.get(shown.id);
        return run ? groupKeys(groupBy, run) : [];
      });
      return { groups, aggregate, band };
    },
    [groupBy, loadedRuns, aggregate, band],
  );
  const grouping = useMemo(() => groupingOf(shownRuns), [groupingOf, shownRuns]);
  const histogramKeys = useMemo(() => histogramKeysOf(loadedRuns), [loadedRuns]);
  // A panel's own "max runs" overrides the workspace's; a histogram or media panel draws each run apart, so a few by default.
  const runsOf = (panel: WorkspacePanel): ShownRun[] => {
    const own = panelMaxRuns(panel);
    if (own === null && panel.kind !== "histogram" && panel.kind !== "media") return shownRuns;
    return firstRuns(selection.shownRuns, loadedRuns, own ?? maxRuns ?? HISTOGRAM_RUNS);
  };
  const panelProps = { store, runs: shownRuns, xAxis, smoothing, smoothKind: chart.smoothKind, logY, range, onZoom, liveVersion, legend };
  const ownOptions = layout.options ?? {};
  const optionsOf = (metric: string): ChartOptions => panelOptions(chart, ownOptions[metric]);
  // No x axis chosen (by the panel or the workspace): a metric declared with define_metric(step_metric=…) is drawn against it, as in wandb.
  const xAxisOf = (metric: string): string => optionsOf(metric).xAxis || stepMetricOf(stepMetrics, metric) || "_step";
  // A zoom is on one x axis: made on an `epoch` panel, it leaves the panels drawn against the step.
  const zoomOn = (x: string) => ({
    range: rangeAxis === null || rangeAxis === x ? range : null,
    onZoom: (r: [number, number] | null) => setParams({ xr: r ? `${r[0]},${r[1]}` : null, xa: r && (!xAxis || x !== xAxis) ? x : null }),
  });
  const setOwnOptions = (metric: string, own: Partial<ChartOptions>) => {
    const options = { ...ownOptions, [metric]: own };
    if (Object.keys(own).length === 0) delete options[metric];
    updateLayout({ ...layout, options });
  };

  // A line panel of the panel system: a workspace chart for each metric its patterns match, for its runs.
  const renderLine = (panel: WorkspacePanel, runs: ShownRun[]) => {
    const patterns = stringList(panel.config.metrics);
    const matched = metricKeys.filter((k) => patterns.some((p) => matchesGlob(p, k)));
    if (matched.length === 0) return <p className="muted chart-empty">{t("chart.noData")}</p>;
    const x = typeof panel.config.x === "string" && panel.config.x !== "step" ? panel.config.x : "_step";
    const weight = (panel.config.smoothing as { weight?: unknown } | undefined)?.weight;
    return matched.map((k) => (
      <MetricPanel
        key={k}
        {...panelProps}
        runs={runs}
        metric={k}
        xAxis={x}
        {...zoomOn(x)}
        smoothing={typeof weight === "number" ? Math.min(Math.max(weight, 0), 0.999) : smoothing}
        logY={panel.config.log_y === true || logY}
        yScale={yRangeOf(panel) ?? { min: chart.yMin, max: chart.yMax, outliers: chart.outliers }}
        grouping={runs === shownRuns ? grouping : groupingOf(runs)}
        stream="history"
        size="l"
      />
    ));
  };
  const renderBody = (panel: WorkspacePanel, runs: ShownRun[]) => {
    if (panel.kind === "line") return renderLine(panel, runs);
    if (panel.kind === "histogram") return <WorkspaceHistogram entity={entity} project={project} panel={panel} runs={runs} version={liveVersion} />;
    if (panel.kind === "media") return <WorkspaceMedia entity={entity} project={project} panel={panel} runs={runs} version={liveVersion} />;
    // Rated over the runs of the workspace's filter, whichever are ticked.
    if (panel.kind === "importance") return <FetchedImportance entity={entity} project={project} filter={url.filter} metric={configString(panel, "metric")} liveVersion={liveVersion} />;
    return undefined;
  };

  return (
    <div className="ws-charts">
      <ChartControls
        xAxis={xAxis}
        onXAxis={(x) => setParams({ x: x || null, xr: null, xa: null })}
        automatic
        legend={legend}
        onLegend={(v) => setParams({ legend: v ? null : "0" })}
        metricKeys={metricKeys}
        smoothing={smoothing}
        onSmoothing={(s) => setParams({ smooth: s > 0 ? String(s) : null })}
        smoothKind={chart.smoothKind}
        onSmoothKind={(k, amount) => setParams({ smoothk: k === "ema" ? null : k, smooth: String(amount) })}
        logY={logY}
        onLogY={(v) => setParams({ log: v ? "1" : null })}
        grouping={
          grouping && {
            aggregate,
            band,
            onAggregate: (a) => setParams({ agg: a === "mean" ? null : a }),
            onBand: (b) => setParams({ band: b === "minmax" ? null : b }),
          }
        }
      />
      <ChartSettings options={chart} maxRuns={maxRuns} total={selection.shownRuns.length} setParams={setParams} />
      <div className="panel-tools-row">
        <label htmlFor={addPanelId}>{t("workspace.addPanel")}</label>
        <select
          id={addPanelId}
          value=""
          onChange={(e) => {
            const k = e.target.value;
            if (!k) return;
            updateLayout({ ...layout, removed: layout.removed.filter((r) => r !== k), added: metricKeys.includes(k) ? layout.added : [...layout.added, k] });
          }}
        >
          <option value="">{t("workspace.addPanelFor")}…</option>
          {hiddenPanels.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
        {(layout.removed.length > 0 || layout.added.length > 0 || Object.keys(layout.sizes).length > 0 || Object.keys(ownOptions).length > 0) && (
          <button type="button" onClick={() => updateLayout({ ...layout, removed: [], added: [], sizes: {}, options: {} })}>
            {t("workspace.resetPanels")}
          </button>
        )}
      </div>
      <datalist id={keysList}>
        {[...metricKeys, ...configKeys.map((k) => `config.${k}`)].map((k) => (
          <option key={k} value={k} />
        ))}
      </datalist>
      <datalist id={summaryList}>
        {summaryKeys.map((k) => (
          <option key={k} value={k} />
        ))}
      </datalist>
      <WorkspacePanels
        layout={layout}
        updateLayout={updateLayout}
        saveChecked={saveChecked}
        loadedRuns={loadedRuns}
        runsOf={runsOf}
        keysList={keysList}
        summaryList={summaryList}
        histogramKeys={histogramKeys}
        renderBody={renderBody}
      />
      {metricKeys.length === 0 && keysLoaded && <p className="muted">{t("workspace.noMetrics")}</p>}
      {sections(panelKeys).map(([name, list]) => (
        <details className="section" open key={name || "_"} data-section={name || "other"}>
          <summary>
            <h2>{name || t("workspace.section.other")}</h2> <span className="muted">({list.length})</span>
          </summary>
          <div className="panel-grid">
            {list.map((k) => {
              const options = optionsOf(k);
              return (
                <MetricPanel
                  key={k}
                  {...panelProps}
                  metric={k}
                  smoothing={options.smoothing}
                  smoothKind={options.smoothKind}
                  logY={options.logY}
                  yScale={{ min: options.yMin, max: options.yMax, outliers: options.outliers }}
                  options={{ options, own: ownOptions[k] ?? {}, onChange: (own) => setOwnOptions(k, own), metricKeys }}
                  xAxis={xAxisOf(k)}
                  {...zoomOn(xAxisOf(k))}
                  grouping={grouping}
                  stream="history"
                  size={panelSize(k)}
                  onResize={(size) => updateLayout({ ...layout, sizes: { ...layout.sizes, [k]: size } })}
                  onRemove={() => updateLayout({ ...layout, removed: [...layout.removed, k] })}
                  moveTo={{ sections: layout.sections, onMove: (section) => updateLayout(moveMetricToSection(layout, k, section, newId("p"), xAxisOf(k))) }}
                />
              );
            })}
          </div>
        </details>
      ))}
      {systemKeys.length > 0 && (
        <details className="section" data-section="system">
          <summary>
            <h2>{t("workspace.section.system")}</h2> <span className="muted">({systemKeys.length})</span>
          </summary>
          <div className="panel-grid">
            {systemKeys.map((k) => (
              <MetricPanel key={k} {...panelProps} xAxis="_runtime" range={null} metric={k} stream="system" size="s" />
            ))}
          </div>
        </details>
      )}
      {loadedRuns.length > 1 && (
        <details className="section" data-section="parallel">
          <summary>
            <h2>{t("workspace.parallel")}</h2>
          </summary>
          <Suspense fallback={<p role="status">{t("app.loading")}</p>}>
            <ParallelPlot runs={drawnRuns.slice(0, 2000)} selected={selected} configKeys={configKeys} metricKeys={summaryKeys} mainMetric={sortedMetric} />
          </Suspense>
        </details>
      )}
    </div>
  );
}
