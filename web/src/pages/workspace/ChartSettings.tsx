/**
 * The workspace's chart settings beyond the x axis and smoothing (ChartControls): outliers left out
 * of the y scale, a fixed y range, and how many of the shown runs are drawn. All in the URL.
 */
import { useTranslation } from "react-i18next";
import { NumberField } from "../../components/ChartOptionFields";
import type { ChartOptions } from "../../lib/chartOptions";

export interface ChartSettingsProps {
  options: ChartOptions;
  maxRuns: number | null;
  /** The runs the charts would show without a maximum. */
  total: number;
  setParams: (changes: Record<string, string | null>) => void;
}

export function ChartSettings({ options, maxRuns, total, setParams }: ChartSettingsProps) {
  const { t } = useTranslation();
  const hidden = maxRuns !== null ? Math.max(0, total - maxRuns) : 0;
  const num = (v: number | null) => (v === null ? null : String(v));
  return (
    <div className="chart-controls chart-settings" role="group" aria-label={t("chart.settings")} data-testid="chart-settings">
      <label className="check">
        <input type="checkbox" checked={options.outliers} onChange={(e) => setParams({ outliers: e.target.checked ? "1" : null })} data-testid="outliers" />
        {t("chart.outliers")}
      </label>
      <NumberField label={t("chart.yMin")} value={options.yMin} onCommit={(v) => setParams({ ymin: num(v) })} testId="y-min" />
      <NumberField label={t("chart.yMax")} value={options.yMax} onCommit={(v) => setParams({ ymax: num(v) })} testId="y-max" />
      <NumberField
        label={t("chart.maxRuns")}
        value={maxRuns}
        min={1}
        step={1}
        onCommit={(v) => setParams({ maxruns: v !== null && v >= 1 ? String(Math.floor(v)) : null })}
        testId="max-runs"
      />
      {hidden > 0 && (
        <span className="muted" role="status" data-testid="runs-hidden">
          {t("chart.runsHidden", { shown: maxRuns, total, count: hidden })}
        </span>
      )}
    </div>
  );
}
