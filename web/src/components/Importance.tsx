/**
 * How much each parameter matters for a metric (importance, 0–1) and which way it pulls (Pearson
 * correlation, −1–1, numeric parameters only), as bars in a table that screen readers read: a
 * sweep's parameters (the sweep page) and a project's config keys (the `importance` panel).
 */
import { useTranslation } from "react-i18next";
import type { ParamImportance } from "../api/types";
import { formatNumber } from "../lib/format";

/** `empty`: what to say when nothing could be rated (the sweep's or the panel's reason). */
export function Importance({ rows, metric, empty }: { rows: ParamImportance[] | null; metric: string; empty: string }) {
  const { t } = useTranslation();
  if (rows === null) return <p role="status">{t("app.loading")}</p>;
  if (rows.length === 0) return <p className="muted">{empty}</p>;
  const most = Math.max(...rows.map((r) => r.importance), 1e-12);
  const sorted = [...rows].sort((a, b) => b.importance - a.importance);
  return (
    <table className="grid-table importance" data-testid="importance" aria-label={t("sweeps.importanceFor", { metric })}>
      <thead>
        <tr>
          <th scope="col">{t("sweeps.param")}</th>
          <th scope="col">{t("sweeps.importance")}</th>
          <th scope="col">{t("sweeps.correlation")}</th>
        </tr>
      </thead>
      <tbody>
        {sorted.map((r) => (
          <tr key={r.param}>
            <th scope="row">
              <code>{r.param}</code>
            </th>
            <td>
              <span className="bar-cell">
                <span className="bar-track" aria-hidden="true">
                  <span className="bar importance-bar" style={{ width: `${(100 * r.importance) / most}%` }} />
                </span>
                <span className="bar-value">{formatNumber(r.importance, 3)}</span>
              </span>
            </td>
            <td>
              <Correlation value={r.correlation} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A bar left (negative) or right (positive) of the middle; a dash for a categorical parameter. */
function Correlation({ value }: { value: number | null }) {
  const { t } = useTranslation();
  if (value === null) return <span className="muted" title={t("sweeps.noCorrelation")}>–</span>;
  return (
    <span className="bar-cell diverging">
      <span className="bar-track" aria-hidden="true">
        <span className={`bar ${value < 0 ? "negative" : "positive"}`} style={{ width: `${50 * Math.min(1, Math.abs(value))}%`, [value < 0 ? "right" : "left"]: "50%" }} />
      </span>
      <span className="bar-value">{formatNumber(value, 3)}</span>
    </span>
  );
}
