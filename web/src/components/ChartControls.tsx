/** The x axis, smoothing and log-scale controls shared by every panel of a page. */
import { useId } from "react";
import { useTranslation } from "react-i18next";
import type { Aggregate, Band } from "../lib/grouping";
import { SMOOTHING_DEFAULT, SMOOTHING_MAX, SMOOTHING_STEP, type SmoothingKind } from "../lib/smoothing";
import { useDraft } from "../lib/useDraft";
import { SmoothingKindSelect, XAxisOptions } from "./ChartOptionFields";

export interface ChartControlsProps {
  xAxis: string;
  onXAxis: (x: string) => void;
  metricKeys: string[];
  smoothing: number;
  onSmoothing: (s: number) => void;
  /** The smoothing kind, with its picker; EMA (and no picker) without `onSmoothKind`. */
  smoothKind?: SmoothingKind;
  /** A new kind, at its default amount. */
  onSmoothKind?: (kind: SmoothingKind, amount: number) => void;
  logY: boolean;
  onLogY: (v: boolean) => void;
  /** Offer "" for the x axis: each metric against its define_metric step_metric, else the step. */
  automatic?: boolean;
  /** Legends under the charts, with their switch; no switch without `onLegend`. */
  legend?: boolean;
  onLegend?: (v: boolean) => void;
  /** The group line's aggregate and band, offered only while the runs are grouped. */
  grouping?: { aggregate: Aggregate; band: Band; onAggregate: (a: Aggregate) => void; onBand: (b: Band) => void } | null;
}

export function ChartControls(props: ChartControlsProps) {
  const { t } = useTranslation();
  const xId = useId();
  const sId = useId();
  const aId = useId();
  const bId = useId();
  const grouping = props.grouping;
  const kind = props.smoothKind ?? "ema";
  const onSmoothKind = props.onSmoothKind;
  const [smoothing, setSmoothing] = useDraft(props.smoothing, props.onSmoothing);
  return (
    <div className="chart-controls" role="group" aria-label={t("workspace.charts")}>
      <label htmlFor={xId}>{t("chart.xAxis")}</label>
      <select id={xId} value={props.xAxis} onChange={(e) => props.onXAxis(e.target.value)} data-testid="x-axis">
        {props.automatic && <option value="">{t("chart.automatic")}</option>}
        <XAxisOptions metricKeys={props.metricKeys} />
      </select>
      {onSmoothKind && <SmoothingKindSelect value={kind} onChange={(k) => onSmoothKind(k, SMOOTHING_DEFAULT[k])} testId="smoothing-kind" />}
      <span className="opt-field">
        <label htmlFor={sId}>{t("chart.smoothing")}</label>
        <input
          id={sId}
          type="range"
          min={0}
          max={SMOOTHING_MAX[kind]}
          step={SMOOTHING_STEP[kind]}
          value={smoothing}
          onChange={(e) => setSmoothing(Number(e.target.value))}
          data-testid="smoothing"
        />
        <output htmlFor={sId}>{kind === "ema" ? smoothing.toFixed(2) : String(smoothing)}</output>
      </span>
      <label className="check">
        <input type="checkbox" checked={props.logY} onChange={(e) => props.onLogY(e.target.checked)} />
        {t("chart.logScale")}
      </label>
      {props.onLegend && (
        <label className="check">
          <input type="checkbox" checked={props.legend ?? true} onChange={(e) => props.onLegend?.(e.target.checked)} data-testid="legend-toggle" />
          {t("chart.legend")}
        </label>
      )}
      {grouping && (
        <>
          <label htmlFor={aId}>{t("chart.aggregate")}</label>
          <select id={aId} value={grouping.aggregate} onChange={(e) => grouping.onAggregate(e.target.value as Aggregate)} data-testid="group-aggregate">
            <option value="mean">{t("chart.mean")}</option>
            <option value="median">{t("chart.median")}</option>
          </select>
          <label htmlFor={bId}>{t("chart.band")}</label>
          <select id={bId} value={grouping.band} onChange={(e) => grouping.onBand(e.target.value as Band)} data-testid="group-band">
            <option value="minmax">{t("chart.bandMinMax")}</option>
            <option value="std">{t("chart.bandStd")}</option>
            <option value="none">{t("chart.bandNone")}</option>
          </select>
        </>
      )}
      <span className="muted hint">{t("chart.zoomHint")}</span>
    </div>
  );
}
