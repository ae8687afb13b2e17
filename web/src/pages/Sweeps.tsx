/** A project's sweeps: name, method, state, metric and goal, trial counts, best value, created. Live. */
import { useCallback } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { seg } from "../api/client";
import { projectEvents, sweeps } from "../api/endpoints";
import { errorMessage } from "../i18n/errors";
import { canWrite } from "../lib/access";
import { formatRelative, formatTime, formatValue } from "../lib/format";
import { useLive } from "../lib/live";
import { useApi } from "../lib/useApi";
import { useSession } from "../session";
import { MetricGoal, SweepStateBadge, TrialCounts } from "./sweep/parts";

export function SweepsPage() {
  const { t, i18n } = useTranslation();
  const { me } = useSession();
  const { entity = "", project = "" } = useParams();
  const list = useApi(sweeps(entity, project));
  const { reload } = list;
  // A trial's run changing changes its sweep's counts and best value.
  useLive(projectEvents(entity, project), useCallback(() => reload(), [reload]));
  const base = `/${seg(entity)}/${seg(project)}`;
  const now = Date.now() / 1000;
  return (
    <section className="page" data-testid="sweeps-page">
      <div className="page-head">
        <h1>
          {t("sweeps.title")} <span className="muted small">{entity}/{project}</span>
        </h1>
        <Link to={base}>{t("sweeps.backToRuns")}</Link>
        {canWrite(me, entity) && (
          <Link to={`${base}/sweeps/new`} className="button primary">
            {t("sweeps.new")}
          </Link>
        )}
      </div>
      {list.error && <p role="alert" className="error">{t("app.error", { message: errorMessage(list.error) })}</p>}
      {!list.data && !list.error && <p role="status">{t("app.loading")}</p>}
      {list.data?.length === 0 && <p className="muted">{t("sweeps.empty")}</p>}
      {list.data && list.data.length > 0 && (
        <table className="grid-table" data-testid="sweeps">
          <thead>
            <tr>
              <th scope="col">{t("sweeps.name")}</th>
              <th scope="col">{t("sweeps.method")}</th>
              <th scope="col">{t("sweeps.state")}</th>
              <th scope="col">{t("sweeps.metric")}</th>
              <th scope="col">{t("sweeps.trials")}</th>
              <th scope="col" className="num">{t("sweeps.best")}</th>
              <th scope="col">{t("sweeps.created")}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((s) => (
              <tr key={s.id}>
                <td>
                  <Link to={`${base}/sweeps/${seg(s.id)}`}>{s.name || s.id}</Link> <code className="muted small">{s.id}</code>
                </td>
                <td>{t(`sweeps.methods.${s.method}`, { defaultValue: s.method })}</td>
                <td>
                  <SweepStateBadge state={s.state} />
                </td>
                <td>
                  <MetricGoal metric={s.metric} />
                </td>
                <td>
                  <TrialCounts counts={s.counts} />
                </td>
                <td className="num">
                  {s.best ? (
                    <Link to={`${base}/runs/${seg(s.best.run_id)}`} title={t("sweeps.bestRun", { run: s.best.run_id })}>
                      {formatValue(s.best.value)}
                    </Link>
                  ) : (
                    "–"
                  )}
                </td>
                <td title={formatTime(s.created_at)}>{formatRelative(s.created_at, now, i18n.language)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
