/**
 * Runs side by side: config keys that differ first, summaries, and their charts overlaid. Kept live
 * through the project's event stream: a compared run's new points, summary or state show up
 * without a reload.
 */
import { useCallback, useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { seg } from "../api/client";
import { load, projectEvents, projectKeys, runDetail } from "../api/endpoints";
import type { RunDetail } from "../api/types";
import { StateBadge } from "../components/cells";
import { MetricPanel, type ShownRun } from "../components/MetricPanel";
import { runColor, runColors } from "../lib/colors";
import { errorMessage } from "../i18n/errors";
import { diffRows, type DiffRow } from "../lib/diff";
import { DiffTable, type DiffColumn } from "../components/DiffTable";
import { HistoryStore } from "../lib/historyStore";
import { bringsNewKeys, useLive, type LiveBatch } from "../lib/live";
import { sections } from "../lib/panels";
import { shownSummary } from "../lib/runs";
import { useApi } from "../lib/useApi";
import { listParam, useUrlState } from "../lib/urlState";

/** The compared runs' details; `reload` fetches them again while the ones shown stay on the page. */
function useRunDetails(entity: string, project: string, ids: string[]) {
  const [runs, setRuns] = useState<RunDetail[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const idKey = ids.join(",");
  useEffect(() => {
    let current = true;
    Promise.all(idKey.split(",").filter(Boolean).map((id) => load(runDetail({ entity, project, run_id: id }))))
      .then((r) => {
        if (!current) return;
        setRuns(r);
        setError(null);
      })
      .catch((e: unknown) => current && setError(errorMessage(e)));
    return () => {
      current = false;
    };
  }, [entity, project, idKey, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { runs, error, reload };
}

export function ComparePage() {
  const { t } = useTranslation();
  const { entity = "", project = "" } = useParams();
  const [params, setParams] = useUrlState();
  const ids = listParam(params, "runs") ?? [];
  const onlyDiff = params.get("diff") === "1";
  const { runs, error, reload } = useRunDetails(entity, project, ids);
  const keys = useApi(projectKeys(entity, project));
  const store = useMemo(() => new HistoryStore(entity, project), [entity, project]);
  const [range, setRange] = useState<[number, number] | null>(null);
  const onZoom = useCallback((r: [number, number] | null) => setRange(r), []);

  // -- live updates: refetch the compared runs when they change, redraw when they get points -------
  const [liveVersion, setLiveVersion] = useState(0);
  const idKey = ids.join(",");
  const onLive = useCallback(
    (batch: LiveBatch) => {
      const compared = idKey.split(",");
      if (batch.reconnected || compared.some((id) => batch.changed.has(id))) reload();
      if (batch.reconnected || compared.some((id) => batch.points.has(id))) setLiveVersion((v) => v + 1);
      if (batch.reconnected || bringsNewKeys(batch, keys.data?.summary ?? [])) keys.reload();
    },
    [idKey, reload, keys],
  );
  // As on the run page: listen while a compared run is running (or before they are known).
  const anyRunning = runs === null || runs.some((r) => r.state === "running");
  useLive(ids.length >= 2 && anyRunning ? projectEvents(entity, project) : null, onLive);

  if (ids.length < 2) return <p className="page">{t("compare.none")}</p>;
  if (error) return <p role="alert" className="error page">{error}</p>;
  if (!runs) return <p role="status" className="page">{t("app.loading")}</p>;
  const colors = runColors(runs.map((r) => r.id));
  const colorOf = (id: string): string => colors.get(id) ?? runColor(id);
  const shown: ShownRun[] = runs.map((r) => ({ id: r.id, label: r.name ?? r.id, color: colorOf(r.id) }));
  const visible = (values: Record<string, unknown>) => Object.fromEntries(Object.entries(values).filter(([k]) => !k.startsWith("_")));
  // `_` keys are wandb's own (config._wandb holds image class labels), as in wandb's UI.
  const config = diffRows(runs.map((r) => visible(r.config)));
  const summary = diffRows(runs.map((r) => visible(shownSummary(r.summary))));
  const metricKeys = (keys.data?.summary ?? []).filter((k) => !k.startsWith("_"));
  const columns: DiffColumn[] = runs.map((r) => ({
    id: r.id,
    color: colorOf(r.id),
    head: (
      <>
        <Link to={`/${seg(entity)}/${seg(project)}/runs/${seg(r.id)}`}>{r.name ?? r.id}</Link> <StateBadge state={r.state} />
      </>
    ),
  }));
  const body = (rows: DiffRow[], testId: string) => <DiffTable columns={columns} rows={rows} onlyDiff={onlyDiff} testId={testId} />;
  return (
    <section className="page" data-testid="compare">
      <div className="page-head">
        <h1>{t("compare.title")}</h1>
        <label className="check">
          <input type="checkbox" checked={onlyDiff} onChange={(e) => setParams({ diff: e.target.checked ? "1" : null })} />
          {t("compare.onlyDiff")}
        </label>
      </div>
      <h2>{t("compare.config")}</h2>
      {body(config, "config-diff")}
      <h2>{t("compare.summary")}</h2>
      {body(summary, "summary-diff")}
      <h2>{t("compare.charts")}</h2>
      {sections(metricKeys).map(([name, list]) => (
        <details className="section" open key={name || "_"}>
          <summary>
            <h3>{name || t("workspace.section.other")}</h3>
          </summary>
          <div className="panel-grid">
            {list.map((k) => (
              <MetricPanel key={k} store={store} runs={shown} metric={k} stream="history" legend xAxis="_step" smoothing={0} logY={false} range={range} onZoom={onZoom} liveVersion={liveVersion} size="m" />
            ))}
          </div>
        </details>
      ))}
    </section>
  );
}
