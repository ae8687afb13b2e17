/**
 * One sweep: its state and controls, facts and best run, the metric over time for every trial,
 * parallel coordinates of the parameters coloured by the metric, parameter importance and
 * correlation, the trial table and the configuration as submitted. Kept live (./sweep/useSweepLive).
 */
import { lazy, Suspense, useCallback, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { seg } from "../api/client";
import { sweepDetail, sweepImportance } from "../api/endpoints";
import type { ParamImportance, Sweep } from "../api/types";
import { FactList, type Fact } from "../components/FactList";
import { MetricPanel, type ShownRun } from "../components/MetricPanel";
import type { PlotRun } from "../components/ParallelPlot";
import { errorMessage } from "../i18n/errors";
import { canWrite } from "../lib/access";
import { runColors } from "../lib/colors";
import { flatten } from "../lib/diff";
import { formatTime, formatValue } from "../lib/format";
import { HistoryStore } from "../lib/historyStore";
import { useApi } from "../lib/useApi";
import { useSession } from "../session";
import { Importance } from "../components/Importance";
import { AgentCommand, MetricGoal, SweepStateBadge, TrialCounts } from "./sweep/parts";
import { SweepControls } from "./sweep/SweepControls";
import { TrialTable } from "./sweep/TrialTable";
import { useSweepLive } from "./sweep/useSweepLive";

const ParallelPlot = lazy(() => import("../components/ParallelPlot"));
/** Most trials drawn in the metric chart (the history route's limit is 1000 runs per request). */
const CHART_TRIALS = 500;

export function SweepPage() {
  const { t } = useTranslation();
  const { me } = useSession();
  const { entity = "", project = "", sweepId = "" } = useParams();
  const sweep = useApi(sweepDetail(entity, project, sweepId));
  const importance = useApi(sweepImportance(entity, project, sweepId));
  // A control's answer shows at once, until the reload it triggers brings a newer view.
  const [controlled, setControlled] = useState<{ next: Sweep; before: Sweep | null } | null>(null);
  const { connected, liveVersion } = useSweepLive(entity, project, sweep, importance);
  const data = controlled && controlled.before === sweep.data ? controlled.next : sweep.data;
  const { reload } = sweep;
  const current = sweep.data;
  const onControlled = useCallback(
    (next: Sweep) => {
      setControlled({ next, before: current });
      reload();
    },
    [reload, current],
  );

  if (sweep.error) return <p role="alert" className="error page">{t("app.error", { message: errorMessage(sweep.error) })}</p>;
  if (!data) return <p role="status" className="page">{t("app.loading")}</p>;
  const base = `/${seg(entity)}/${seg(project)}`;
  const bestRun = data.best?.run_id ?? null;
  const facts: Fact[] = [
    [t("sweeps.id"), <code key="id">{data.id}</code>],
    [t("sweeps.method"), t(`sweeps.methods.${data.method}`, { defaultValue: data.method })],
    [t("sweeps.metric"), <MetricGoal key="m" metric={data.metric} />],
    [t("sweeps.trials"), <TrialCounts key="c" counts={data.counts} />],
    [t("sweeps.runCap"), data.run_cap === null ? "–" : String(data.run_cap)],
    [t("sweeps.created"), formatTime(data.created_at)],
    [t("sweeps.createdBy"), data.created_by ?? "–"],
  ];
  return (
    <section className="page sweep-page" data-testid="sweep-page">
      <div className="page-head">
        <h1>{data.name || data.id}</h1>
        <SweepStateBadge state={data.state} />
        <span className={`live-dot${connected ? " on" : ""}`} role="status" data-testid="live-status">
          {connected ? t("workspace.live") : t("workspace.offline")}
        </span>
        {canWrite(me, entity) && <SweepControls sweep={data} onChanged={onControlled} />}
      </div>
      {data.description && <p className="sweep-description">{data.description}</p>}
      <FactList facts={facts} className="facts" />
      <BestRun base={base} sweep={data} />
      {(data.state === "running" || data.state === "paused") && (
        <div className="agent-row">
          <span className="muted">{t("sweeps.startAgent")}</span>
          <AgentCommand entity={entity} project={project} id={data.id} />
        </div>
      )}
      <SweepCharts entity={entity} project={project} sweep={data} liveVersion={liveVersion} importance={importance.data} />
      <section aria-labelledby="trials-h">
        <h2 id="trials-h">{t("sweeps.trialsTitle")}</h2>
        <TrialTable base={base} trials={data.trials} paramKeys={paramKeysOf(data)} metric={data.metric} bestRun={bestRun} />
      </section>
      <details className="section" data-section="config">
        <summary>
          <h2>{t("sweeps.configuration")}</h2>
        </summary>
        <pre className="sweep-yaml" data-testid="sweep-yaml" tabIndex={0}>
          {data.yaml ?? JSON.stringify(data.config, null, 2)}
        </pre>
      </details>
    </section>
  );
}

function paramKeysOf(sweep: Sweep): string[] {
  const keys = new Set<string>();
  for (const trial of sweep.trials) for (const [k] of flatten(trial.params)) keys.add(k);
  return [...keys].sort();
}

function BestRun({ base, sweep }: { base: string; sweep: Sweep }) {
  const { t } = useTranslation();
  const best = sweep.best;
  if (!best) return null;
  const params = flatten(best.params ?? sweep.trials.find((tr) => tr.run_id === best.run_id)?.params ?? {});
  return (
    <section className="best-run" data-testid="best-run" aria-label={t("sweeps.bestTitle")}>
      <strong>★ {t("sweeps.bestTitle")}</strong> <Link to={`${base}/runs/${seg(best.run_id)}`}>{best.run_id}</Link>{" "}
      <span>
        {sweep.metric?.name ?? t("sweeps.metric")} = <strong>{formatValue(best.value)}</strong>
      </span>
      {params.length > 0 && (
        <span className="muted best-params">
          {params.map(([k, v]) => (
            <span key={k}>
              <code>{k}</code>={formatValue(v)}
            </span>
          ))}
        </span>
      )}
    </section>
  );
}

interface ChartsProps {
  entity: string;
  project: string;
  sweep: Sweep;
  liveVersion: number;
  importance: ParamImportance[] | null;
}

/** The metric over time for every started trial, importance beside it, parallel coordinates below;
 * nothing before a trial's run has started. */
function SweepCharts({ entity, project, sweep, liveVersion, importance }: ChartsProps) {
  const { t } = useTranslation();
  const store = useMemo(() => new HistoryStore(entity, project), [entity, project]);
  const [range, setRange] = useState<[number, number] | null>(null);
  const metric = sweep.metric?.name ?? null;
  const best = sweep.best?.run_id ?? null;
  const started = useMemo(() => sweep.trials.filter((tr) => tr.state !== "pending").slice(0, CHART_TRIALS), [sweep.trials]);
  const startedKey = started.map((tr) => tr.run_id).join(",");
  const runs = useMemo<ShownRun[]>(() => {
    const colors = runColors(startedKey ? startedKey.split(",") : []);
    // The best trial last, so its line is drawn on top.
    const ids = (startedKey ? startedKey.split(",") : []).sort((a, b) => Number(a === best) - Number(b === best));
    return ids.map((id) => ({ id, label: id === best ? `★ ${id}` : id, color: colors.get(id) ?? "#888", emphasis: id === best }));
  }, [startedKey, best]);
  const plotRuns = useMemo<PlotRun[]>(
    () => sweep.trials.map((tr) => ({ id: tr.run_id, name: tr.run_id, config: tr.params, summary: metric && tr.metric !== null ? { [metric]: tr.metric } : {} })),
    [sweep.trials, metric],
  );
  const configKeys = useMemo(() => paramKeysOf(sweep), [sweep]);
  const highlighted = useMemo(() => new Set(best ? [best] : []), [best]);
  if (!metric || started.length === 0) return null;
  return (
    <>
      <div className="sweep-charts">
        <section aria-labelledby="metric-h" className="sweep-metric">
          <h2 id="metric-h">{t("sweeps.metricOverTime", { metric })}</h2>
          <MetricPanel
            store={store}
            metric={metric}
            stream="history"
            runs={runs}
            xAxis="_step"
            smoothing={0}
            logY={false}
            range={range}
            onZoom={setRange}
            liveVersion={liveVersion}
            size="l"
          />
        </section>
        <section aria-labelledby="importance-h" className="sweep-importance">
          <h2 id="importance-h">{t("sweeps.importanceTitle", { metric })}</h2>
          <Importance rows={importance} metric={metric} empty={t("sweeps.noImportance")} />
        </section>
      </div>
      <section aria-labelledby="parallel-h">
        <h2 id="parallel-h">{t("sweeps.parallelTitle", { metric })}</h2>
        {plotRuns.length > 1 ? (
          <Suspense fallback={<p role="status">{t("app.loading")}</p>}>
            <ParallelPlot runs={plotRuns} selected={highlighted} configKeys={configKeys} metricKeys={[metric]} colorBy={metric} />
          </Suspense>
        ) : (
          <p className="muted">{t("sweeps.parallelNeedsTrials")}</p>
        )}
      </section>
    </>
  );
}
