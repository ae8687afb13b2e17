/**
 * How much each parameter matters for the sweep's metric (importance, 0–1) and which way it pulls
 * (Pearson correlation, −1–1), as bars in a table: readable by screen readers, sortable by eye.
 */
import { useTranslation } from "react-i18next";
import type { ParamImportance } from "../../api/types";
import { formatNumber } from "../../lib/format";

export function Importance({ rows, metric }: { rows: ParamImportance[] | null; metric: string }) {
  const { t } = useTranslation();
  if (rows === null) return <p role="status">{t("app.loading")}</p>;
  if (rows.length === 0) return <p className="muted">{t("sweeps.noImportance")}</p>;
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
                <span className="bar importance-bar" style={{ width: `${(100 * r.importance) / most}%` }} aria-hidden="true" />
                <span className="bar-value">{formatNumber(r.importance, 3)}</span>
              </span>
            </td>
            <td>
              <span className="bar-cell diverging">
                <span className="bar-track" aria-hidden="true">
                  <span
                    className={`bar ${r.correlation < 0 ? "negative" : "positive"}`}
                    style={{ width: `${50 * Math.min(1, Math.abs(r.correlation))}%`, [r.correlation < 0 ? "right" : "left"]: "50%" }}
                  />
                </span>
                <span className="bar-value">{formatNumber(r.correlation, 3)}</span>
              </span>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
