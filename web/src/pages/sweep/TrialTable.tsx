/**
 * A sweep's trials: the run (a link once it exists), its state, the parameters it was given, the
 * latest value of the sweep's metric and why it was stopped. The best trial is marked; the table
 * sorts by the metric (best first) or by creation (newest first).
 */
import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { seg } from "../../api/client";
import type { SweepMetric, Trial } from "../../api/types";
import { StateBadge } from "../../components/cells";
import { flatten } from "../../lib/diff";
import { formatTime, formatValue } from "../../lib/format";
import { runColor } from "../../lib/colors";

interface Props {
  base: string;
  trials: Trial[];
  paramKeys: string[];
  metric: SweepMetric | null;
  bestRun: string | null;
}

export function TrialTable({ base, trials, paramKeys, metric, bestRun }: Props) {
  const { t } = useTranslation();
  const [byMetric, setByMetric] = useState(false);
  const rows = useMemo(() => {
    const sign = metric?.goal === "maximize" ? -1 : 1;
    const shown = trials.map((trial) => ({ trial, params: new Map(flatten(trial.params)) }));
    if (!byMetric) return shown.sort((a, b) => b.trial.created_at - a.trial.created_at);
    const rank = (v: number | null) => (v === null || Number.isNaN(v) ? Infinity : sign * v);
    return shown.sort((a, b) => rank(a.trial.metric) - rank(b.trial.metric));
  }, [trials, byMetric, metric]);
  if (trials.length === 0) return <p className="muted">{t("sweeps.noTrials")}</p>;
  return (
    <div className="trial-scroll">
      <table className="grid-table trials" data-testid="trials">
        <thead>
          <tr>
            <th scope="col">{t("sweeps.run")}</th>
            <th scope="col">{t("sweeps.state")}</th>
            {paramKeys.map((k) => (
              <th scope="col" key={k}>
                <code>{k}</code>
              </th>
            ))}
            <th scope="col" className="num" aria-sort={byMetric ? (metric?.goal === "maximize" ? "descending" : "ascending") : "none"}>
              <button type="button" className="sort-button" aria-pressed={byMetric} onClick={() => setByMetric(!byMetric)} title={t("sweeps.sortByMetric")}>
                {metric?.name ?? t("sweeps.metric")}
                {byMetric && <span className="sort-mark">{metric?.goal === "maximize" ? "▼" : "▲"}</span>}
              </button>
            </th>
            <th scope="col">{t("sweeps.stoppedReason")}</th>
            <th scope="col">{t("sweeps.created")}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ trial, params }) => {
            const best = trial.run_id === bestRun;
            return (
              <tr key={trial.run_id} className={best ? "best" : undefined} data-run={trial.run_id}>
                <td>
                  <span className="swatch" style={{ background: runColor(trial.run_id) }} aria-hidden="true" />{" "}
                  {trial.state === "pending" ? <code>{trial.run_id}</code> : <Link to={`${base}/runs/${seg(trial.run_id)}`}>{trial.run_id}</Link>}
                  {best && <span className="badge best-badge">★ {t("sweeps.bestBadge")}</span>}
                </td>
                <td>
                  <StateBadge state={trial.state} />
                </td>
                {paramKeys.map((k) => (
                  <td key={k} className="mono">
                    {formatValue(params.get(k))}
                  </td>
                ))}
                <td className="num">{formatValue(trial.metric)}</td>
                <td className="reason">{trial.stopped_reason ?? ""}</td>
                <td>{formatTime(trial.created_at)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
