/** One run: overview (config, summary, metadata), charts, system metrics, console, files, media, comments. */
import { useCallback, useMemo, useState, lazy, Suspense, useId } from "react";
import { useTranslation } from "react-i18next";
import { useParams } from "react-router";
import { runDetail, runEvents, runFiles, runKeys } from "../api/endpoints";
import type { RunDetail, RunRef } from "../api/types";
import { StateBadge, Tags } from "../components/cells";
import { ChartControls } from "../components/ChartControls";
import { ConsoleView } from "../components/ConsoleView";
import { EnvironmentFacts } from "../components/EnvironmentFacts";
import { ReproduceRun } from "../components/ReproduceRun";
import { RunEditor } from "../components/RunEditor";
import { RunPinButton } from "../components/PinButton";
import { FactList, type Fact } from "../components/FactList";
import { ForkedFrom, forkPoint } from "../components/ForkedFrom";
import { KeyValueTable } from "../components/KeyValueTable";
import { Markdown } from "../components/Markdown";
import { summaryMedia } from "../components/media/SummaryMedia";
import { MetricPanel, type ShownRun } from "../components/MetricPanel";
import { TabList } from "../components/TabList";
import { runColor } from "../lib/colors";
import { formatBytes, formatDuration, formatTime } from "../lib/format";
import { errorMessage } from "../i18n/errors";
import { HistoryStore } from "../lib/historyStore";
import { useLive, type LiveBatch } from "../lib/live";
import { sections } from "../lib/panels";
import { shownSummary } from "../lib/runs";
import { stepMetricOf, stepMetricsOf } from "../lib/stepMetrics";
import { systemSections } from "../lib/systemPanels";
import { useApi } from "../lib/useApi";
import { useUrlState } from "../lib/urlState";
import { RunArtifacts } from "./artifact/RunArtifacts";

const MediaView = lazy(() => import("../components/MediaView"));
// markdown rendering and sanitizing load with the first comments shown
const Comments = lazy(() => import("../components/comments/Comments"));
const TABS = ["overview", "charts", "system", "logs", "files", "media", "comments"] as const;
type Tab = (typeof TABS)[number];

export function RunPage() {
  const { t } = useTranslation();
  const { entity = "", project = "", runId = "" } = useParams();
  const [params, setParams] = useUrlState();
  const tab = (TABS as readonly string[]).includes(params.get("tab") ?? "") ? (params.get("tab") as Tab) : "overview";
  const runRef = useMemo<RunRef>(() => ({ entity, project, run_id: runId }), [entity, project, runId]);
  const detail = useApi(runDetail(runRef));
  const keys = useApi(runKeys(runRef));
  const store = useMemo(() => new HistoryStore(entity, project), [entity, project]);
  const [liveVersion, setLiveVersion] = useState(0);
  const [consoleVersion, setConsoleVersion] = useState(0);
  const onLive = useCallback(
    (batch: LiveBatch) => {
      if (batch.points.size > 0 || batch.reconnected) setLiveVersion((v) => v + 1);
      if (batch.changed.size > 0 || batch.reconnected) {
        detail.reload();
        setConsoleVersion((v) => v + 1);
        const known = new Set((keys.data?.history ?? []).map((k) => k.key));
        if ([...(batch.points.values())].some((ks) => [...ks].some((k) => !known.has(k)))) keys.reload();
        else if (batch.reconnected) keys.reload();
      }
    },
    [detail, keys],
  );
  const live = detail.data?.state === "running" || detail.data === null;
  useLive(live ? runEvents(runRef) : null, onLive);

  const run = detail.data;
  const tabIds = useId();
  if (detail.error) return <p role="alert" className="error page">{t("app.error", { message: errorMessage(detail.error) })}</p>;
  if (!run) return <p role="status" className="page">{t("app.loading")}</p>;

  const shown: ShownRun[] = [{ id: run.id, label: run.name ?? run.id, color: runColor(run.id) }];
  return (
    <section className="page run-page" data-testid="run-page">
      <div className="page-head">
        <h1>
          <span className="swatch big" style={{ background: runColor(run.id) }} aria-hidden="true" /> {run.name ?? run.id}
        </h1>
        <StateBadge state={run.state} />
        <RunPinButton runRef={runRef} />
        <RunEditor run={run} runRef={runRef} onSaved={detail.reload} />
      </div>
      <TabList
        tabs={TABS.map((name) => ({ id: name, label: t(`run.${name}`) }))}
        selected={tab}
        onSelect={(name) => setParams({ tab: name === "overview" ? null : name }, true)}
        label={run.name ?? run.id}
        idPrefix={tabIds}
        panelId={`${tabIds}-panel`}
      />
      {/* Focusable itself (as WAI-ARIA advises): Tab from the tab list lands in the panel even while its content loads. */}
      <div role="tabpanel" tabIndex={0} id={`${tabIds}-panel`} aria-labelledby={`${tabIds}-${tab}`} className="tab-body">
        {tab === "overview" && <Overview run={run} runRef={runRef} />}
        {tab === "charts" && (
          <RunCharts store={store} run={shown} keys={(keys.data?.history ?? []).map((k) => k.key).filter((k) => !k.startsWith("_"))} liveVersion={liveVersion} stream="history" stepMetrics={stepMetricsOf(run.metric_defs)} />
        )}
        {tab === "system" && <RunCharts store={store} run={shown} keys={(keys.data?.system ?? []).map((k) => k.key)} liveVersion={liveVersion} stream="system" />}
        {tab === "logs" && <ConsoleView runRef={runRef} version={consoleVersion} />}
        {tab === "files" && <Files runRef={runRef} />}
        {tab === "media" && (
          <Suspense fallback={<p role="status">{t("app.loading")}</p>}>
            <MediaView runRef={runRef} objects={keys.data?.objects ?? []} version={liveVersion} />
          </Suspense>
        )}
        {tab === "comments" && (
          <Suspense fallback={<p role="status">{t("app.loading")}</p>}>
            <Comments runRef={runRef} />
          </Suspense>
        )}
      </div>
    </section>
  );
}

/** What an uncaught exception left at the run's end, as the SDK recorded it; long lines scroll. */
function RunError({ run, traceback }: { run: RunDetail; traceback: string }) {
  const { t } = useTranslation();
  const state = t(`state.${run.state}`, { defaultValue: run.state });
  return (
    <section className="run-error" aria-labelledby="run-error-h">
      <h2 id="run-error-h">{t("run.error")}</h2>
      <p>{t("run.endedWith", { state, code: run.exit_code ?? "–" })}</p>
      <pre className="traceback" data-testid="traceback" tabIndex={0} aria-label={t("run.traceback")}>
        {traceback}
      </pre>
    </section>
  );
}

function Overview({ run, runRef }: { run: RunDetail; runRef: RunRef }) {
  const { t } = useTranslation();
  const rows: Fact[] = [
    [t("run.id"), <code key="id">{run.id}</code>],
    [t("run.state"), <StateBadge key="s" state={run.state} />],
    [t("run.created"), formatTime(run.created_at)],
    [t("run.finished"), formatTime(run.finished_at)],
    [t("run.duration"), formatDuration(run.runtime)],
    [t("run.heartbeat"), formatTime(run.heartbeat_at)],
    [t("run.host"), run.host ?? "–"],
    [t("run.group"), run.group ?? "–"],
    [t("run.jobType"), run.job_type ?? "–"],
    [t("run.tags"), <Tags key="t" tags={run.tags} />],
    [t("run.lastStep"), String(run.last_step)],
    [t("run.exitCode"), run.exit_code === null ? "–" : String(run.exit_code)],
  ];
  const fork = forkPoint(run.metadata);
  if (fork) rows.splice(1, 0, [t("run.forkedFrom"), <ForkedFrom key="fork" fork={fork} runRef={runRef} />]);
  return (
    <div className="overview">
      {run.traceback && <RunError run={run} traceback={run.traceback} />}
      <FactList facts={rows} className="facts" />
      {run.notes && (
        <section aria-labelledby="notes-h" className="run-notes">
          <h2 id="notes-h">{t("run.notes")}</h2>
          <Markdown text={run.notes} topLevel={3} />
        </section>
      )}
      <div className="kv-columns">
        <section aria-labelledby="config-h">
          <h2 id="config-h">{t("run.config")}</h2>
          <KeyValueTable value={run.config} testId="config-table" hideUnderscore />
        </section>
        <section aria-labelledby="summary-h">
          <h2 id="summary-h">{t("run.summary")}</h2>
          <KeyValueTable value={shownSummary(run.summary)} testId="summary-table" hideUnderscore render={(v, k) => summaryMedia(v, k, runRef)} />
        </section>
      </div>
      <EnvironmentFacts metadata={run.metadata} runRef={runRef} />
      <ReproduceRun metadata={run.metadata} runRef={runRef} />
      <RunArtifacts runRef={runRef} />
      <section aria-labelledby="meta-h">
        <h2 id="meta-h">{t("run.metadata")}</h2>
        <KeyValueTable value={run.metadata} testId="metadata-table" />
      </section>
    </div>
  );
}

function RunCharts(props: { store: HistoryStore; run: ShownRun[]; keys: string[]; liveVersion: number; stream: "history" | "system"; stepMetrics?: Record<string, string> }) {
  const { store, run, keys, liveVersion, stream, stepMetrics = {} } = props;
  const { t } = useTranslation();
  const [params, setParams] = useUrlState();
  // No x axis chosen: each metric against its define_metric step_metric, else the step.
  const xAxis = params.get("x") ?? (stream === "system" ? "_runtime" : "");
  const smoothing = Math.min(0.99, Math.max(0, Number(params.get("smooth") ?? "0") || 0));
  const logY = params.get("log") === "1";
  const xr = params.get("xr");
  const range = useMemo<[number, number] | null>(() => {
    const [a, b] = (xr ?? "").split(",").map(Number);
    return xr && a !== undefined && b !== undefined && a < b ? [a, b] : null;
  }, [xr]);
  const onZoom = useCallback((r: [number, number] | null) => setParams({ xr: r ? `${r[0]},${r[1]}` : null }), [setParams]);
  if (keys.length === 0) return <p className="muted">{t("workspace.noMetrics")}</p>;
  return (
    <div>
      <ChartControls
        xAxis={xAxis}
        onXAxis={(x) => setParams({ x: x || null, xr: null })}
        automatic={stream === "history"}
        metricKeys={stream === "history" ? keys : []}
        smoothing={smoothing}
        onSmoothing={(s) => setParams({ smooth: s > 0 ? String(s) : null })}
        logY={logY}
        onLogY={(v) => setParams({ log: v ? "1" : null })}
      />
      {(stream === "system" ? systemSections(keys).map(([group, list]): [string, string[]] => [t(group), list]) : sections(keys)).map(([name, list]) => (
        <details className="section" open key={name || "_"}>
          <summary>
            <h2>{name || t("workspace.section.other")}</h2>
          </summary>
          <div className="panel-grid">
            {list.map((k) => (
              <MetricPanel
                key={k}
                store={store}
                runs={run}
                metric={k}
                stream={stream}
                xAxis={xAxis || stepMetricOf(stepMetrics, k) || "_step"}
                smoothing={smoothing}
                logY={logY}
                range={range}
                onZoom={onZoom}
                liveVersion={liveVersion}
                size="m"
              />
            ))}
          </div>
        </details>
      ))}
    </div>
  );
}

function Files({ runRef }: { runRef: RunRef }) {
  const { t } = useTranslation();
  const files = useApi(runFiles(runRef, { limit: 1000 }));
  const [needle, setNeedle] = useState("");
  const id = useId();
  if (files.error) return <p role="alert" className="error">{errorMessage(files.error)}</p>;
  if (!files.data) return <p role="status">{t("app.loading")}</p>;
  if (files.data.files.length === 0) return <p className="muted">{t("run.noFiles")}</p>;
  const shown = files.data.files.filter((f) => f.name.toLowerCase().includes(needle.toLowerCase()));
  return (
    <div>
      <label htmlFor={id} className="sr-only">
        {t("run.filterKeys")}
      </label>
      <input id={id} type="search" placeholder={t("run.filterKeys")} value={needle} onChange={(e) => setNeedle(e.target.value)} />
      <table className="grid-table" data-testid="files">
        <thead>
          <tr>
            <th scope="col">{t("run.fileName")}</th>
            <th scope="col" className="num">{t("run.size")}</th>
            <th scope="col">{t("run.updated")}</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((f) => (
            <tr key={f.name}>
              <td>
                {f.uploaded ? (
                  <a href={f.url} target="_blank" rel="noopener noreferrer">
                    {f.name}
                  </a>
                ) : (
                  f.name
                )}
              </td>
              <td className="num">{formatBytes(f.size)}</td>
              <td>{formatTime(f.updated_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
