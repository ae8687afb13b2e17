/**
 * A metric panel's own chart options (smoothing, outliers, y range and log, x axis): a form shown
 * under the panel's header. Each field changed is kept for this panel only and overrides the
 * workspace's setting; "Use workspace settings" drops them all.
 */
import { useId } from "react";
import { useTranslation } from "react-i18next";
import type { ChartOptions } from "../lib/chartOptions";
import { clampAmount, SMOOTHING_DEFAULT, SMOOTHING_STEP } from "../lib/smoothing";
import { NumberField, SmoothingKindSelect, XAxisOptions } from "./ChartOptionFields";

export interface PanelOptionsProps {
  metric: string;
  /** What the panel draws with now: the workspace's options with the panel's own on top. */
  options: ChartOptions;
  own: Partial<ChartOptions>;
  onChange: (own: Partial<ChartOptions>) => void;
  /** The metrics offered as the x axis. */
  metricKeys: string[];
  onClose: () => void;
}

export function PanelOptions(props: PanelOptionsProps) {
  const { t } = useTranslation();
  const xId = useId();
  const { options, own } = props;
  const set = (changes: Partial<ChartOptions>) => props.onChange({ ...own, ...changes });
  return (
    <div
      className="panel-options"
      role="group"
      aria-label={t("chart.optionsFor", { key: props.metric })}
      data-testid="panel-options"
      onKeyDown={(e) => {
        if (e.key === "Escape") props.onClose();
      }}
    >
      <SmoothingKindSelect value={options.smoothKind} onChange={(k) => set({ smoothKind: k, smoothing: SMOOTHING_DEFAULT[k] })} testId="panel-smoothing-kind" />
      <NumberField
        label={t("chart.smoothing")}
        value={options.smoothing}
        min={0}
        step={SMOOTHING_STEP[options.smoothKind]}
        onCommit={(v) => set({ smoothing: clampAmount(options.smoothKind, v ?? 0) })}
        testId="panel-smoothing"
      />
      <label className="check">
        <input type="checkbox" checked={options.outliers} onChange={(e) => set({ outliers: e.target.checked })} data-testid="panel-outliers" />
        {t("chart.outliers")}
      </label>
      <label className="check">
        <input type="checkbox" checked={options.logY} onChange={(e) => set({ logY: e.target.checked })} />
        {t("chart.logScale")}
      </label>
      <NumberField label={t("chart.yMin")} value={options.yMin} onCommit={(v) => set({ yMin: v })} testId="panel-ymin" />
      <NumberField label={t("chart.yMax")} value={options.yMax} onCommit={(v) => set({ yMax: v })} testId="panel-ymax" />
      <label htmlFor={xId}>{t("chart.xAxis")}</label>
      <select
        id={xId}
        value={own.xAxis ?? ""}
        onChange={(e) => {
          const next: Partial<ChartOptions> = { ...own, xAxis: e.target.value };
          if (!e.target.value) delete next.xAxis; // back to the workspace's x axis
          props.onChange(next);
        }}
        data-testid="panel-x-axis"
      >
        <option value="">{t("chart.workspaceSetting")}</option>
        <XAxisOptions metricKeys={props.metricKeys} />
      </select>
      <button type="button" onClick={() => props.onChange({})} disabled={Object.keys(own).length === 0}>
        {t("chart.useWorkspace")}
      </button>
    </div>
  );
}
