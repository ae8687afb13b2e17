/**
 * Parallel coordinates over numeric config keys and summary metrics, and a scatter plot of any two.
 * Lines take their run's colour, or with `colorBy` (a metric key) a colour scale over that metric.
 *
 * Real configs have dozens of keys, most the same in every run: the axes shown at first are the
 * config keys whose values differ between the runs plus the main metric, and a person picks others
 * from the full list. Long axis names are cut short and slanted; hovering one shows it whole.
 */
import { useCallback, useId, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import type { Run } from "../api/types";
import { runColor, runColors } from "../lib/colors";
import { toNumber } from "../lib/format";
import { configValue, summaryLabel, summaryValue } from "../lib/runs";
import { EChart } from "./EChart";

/** What the plot reads of a run (a sweep's trials are drawn as such rows too). */
export type PlotRun = Pick<Run, "id" | "name" | "config" | "summary">;

interface Props {
  runs: PlotRun[];
  selected: Set<string>;
  configKeys: string[];
  metricKeys: string[];
  colorBy?: string;
  /** The summary field the default axes end with (the sorted column, a sweep's metric); else the first with numbers. */
  mainMetric?: string;
  /** Which plots to draw: both (the workspace), or one (a report's parcoords or scatter panel). */
  part?: "both" | "parallel" | "scatter";
  /** Each run's colour when the caller has chosen them (a report's run set); else the palette's. */
  colorOf?: (id: string) => string;
  /** The scatter plot's axes to start with (`config:<key>` / `summary:<metric>`). */
  scatterAxes?: [string, string];
}

/** At most this many varying config keys make the default axes: more no longer reads as lines. */
const DEFAULT_CONFIG_AXES = 8;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

type Axis = { id: string; label: string; value: (r: PlotRun) => number | string | null };

function numeric(v: unknown): number | null {
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (typeof v === "boolean") return v ? 1 : 0;
  const n = toNumber(v);
  return n !== null && Number.isFinite(n) ? n : null;
}

/** A continuous colour scale over the `metric` axis (deep blue low, orange high), or none without values. */
function colorScale(axes: Axis[], runs: PlotRun[], metric: string) {
  const dimension = axes.findIndex((a) => a.id === `summary:${metric}`);
  const axis = axes[dimension];
  const values = axis ? runs.map((r) => axis.value(r)).filter((v): v is number => typeof v === "number") : [];
  if (!axis || values.length === 0) return undefined;
  return {
    type: "continuous" as const,
    dimension,
    min: Math.min(...values),
    max: Math.max(...values),
    calculable: false,
    orient: "vertical" as const,
    right: 0,
    top: "middle" as const,
    itemHeight: 120,
    text: [metric, ""],
    // Plasma without its palest end: every colour stays visible on white, and mid values are not grey.
    inRange: { color: ["#0d0887", "#6a00a8", "#b12a90", "#e16462", "#fca636"] },
  };
}

export default function ParallelPlot({ runs, selected, configKeys, metricKeys, colorBy, mainMetric, part = "both", colorOf: chosenColor, scatterAxes }: Props) {
  const { t } = useTranslation();
  /** Every axis the runs allow, config keys first. */
  const candidates = useMemo<Axis[]>(() => {
    const out: Axis[] = [];
    for (const k of configKeys) {
      const values = runs.map((r) => configValue(r.config, k));
      const numbers = values.filter((v) => numeric(v) !== null).length;
      const strings = new Set(values.filter((v) => typeof v === "string"));
      if (numbers > 0 && numbers >= values.filter((v) => v !== undefined).length) out.push({ id: `config:${k}`, label: k, value: (r) => numeric(configValue(r.config, k)) });
      else if (strings.size > 1 && strings.size <= 20) out.push({ id: `config:${k}`, label: k, value: (r) => { const v = configValue(r.config, k); return typeof v === "string" ? v : null; } });
    }
    for (const k of metricKeys) out.push({ id: `summary:${k}`, label: summaryLabel(k), value: (r) => numeric(summaryValue(r.summary, k)) });
    return out;
  }, [runs, configKeys, metricKeys]);

  const defaults = useMemo<string[]>(() => {
    const varying = candidates.filter((a) => a.id.startsWith("config:") && new Set(runs.map((r) => a.value(r))).size > 1);
    const metrics = candidates.filter((a) => a.id.startsWith("summary:") && runs.some((r) => a.value(r) !== null));
    const main = metrics.find((a) => a.id === `summary:${mainMetric ?? colorBy}`) ?? metrics[0];
    return [...varying.slice(0, DEFAULT_CONFIG_AXES), ...(main ? [main] : [])].map((a) => a.id);
  }, [candidates, runs, mainMetric, colorBy]);
  // The axes a person picked (in the order of the list), or null for the defaults.
  const [picked, setPicked] = useState<string[] | null>(null);
  const chosen = picked ?? defaults;
  const axes = useMemo(() => candidates.filter((a) => chosen.includes(a.id)), [candidates, chosen]);
  const toggleAxis = (id: string, on: boolean) => setPicked(on ? [...chosen, id] : chosen.filter((c) => c !== id));

  const colors = useMemo(() => runColors([...selected]), [selected]);
  const colorOf = useCallback((id: string): string => chosenColor?.(id) ?? colors.get(id) ?? runColor(id), [colors, chosenColor]);

  const option = useMemo(() => {
    const dims = axes.map((a, i) => {
      const categories = [...new Set(runs.map((r) => a.value(r)).filter((v): v is string => typeof v === "string"))];
      return categories.length > 0 ? { dim: i, name: a.label, type: "category" as const, data: categories.sort() } : { dim: i, name: a.label };
    });
    const data = runs.map((r) => ({
      value: axes.map((a) => a.value(r) ?? "-"),
      lineStyle: {
        ...(colorBy ? {} : { color: colorOf(r.id) }),
        opacity: selected.has(r.id) ? 0.9 : colorBy ? 0.6 : 0.15,
        width: selected.has(r.id) ? 3 : colorBy ? 1.5 : 1,
      },
      name: r.name ?? r.id,
    }));
    return {
      animation: false,
      tooltip: { trigger: "item" as const },
      ...(colorBy ? { visualMap: colorScale(axes, runs, colorBy) } : {}),
      parallelAxis: dims,
      // Names slanted and cut at 110 px, whole in a tooltip on hover (ECharts shows it for a cut name once the axis has a tooltip).
      parallel: {
        left: 40,
        right: 80,
        top: 70,
        bottom: 30,
        parallelAxisDefault: { nameLocation: "end" as const, nameTextStyle: { fontSize: 11 }, nameRotate: 25, nameTruncate: { maxWidth: 110 }, tooltip: { show: true } },
      },
      series: [{ type: "parallel" as const, data, smooth: false, lineStyle: { width: 1 } }],
    };
  }, [axes, runs, selected, colorOf, colorBy]);

  const xId = useId();
  const yId = useId();
  const [sx, setSx] = useState<string>(scatterAxes?.[0] ?? "");
  const [sy, setSy] = useState<string>(scatterAxes?.[1] ?? "");
  const axisX = candidates.find((a) => a.id === sx) ?? axes[0] ?? candidates[0];
  const axisY = candidates.find((a) => a.id === sy) ?? axes[axes.length - 1] ?? candidates[candidates.length - 1];
  const scatter = useMemo(() => {
    if (!axisX || !axisY) return null;
    const points = runs
      .map((r) => ({ r, x: axisX.value(r), y: axisY.value(r) }))
      .filter((p) => typeof p.x === "number" && typeof p.y === "number")
      .map((p) => ({ value: [p.x, p.y], name: p.r.name ?? p.r.id, itemStyle: { color: colorOf(p.r.id), opacity: selected.has(p.r.id) ? 1 : 0.35 } }));
    return {
      animation: false,
      grid: { left: 60, right: 20, top: 36, bottom: 40 },
      // ECharts puts a formatter's text into the page as HTML: run names and keys are escaped.
      tooltip: {
        trigger: "item" as const,
        formatter: (p: { name: string; value: number[] }) =>
          `${escapeHtml(p.name)}<br/>${escapeHtml(axisX.label)}: ${p.value[0]}<br/>${escapeHtml(axisY.label)}: ${p.value[1]}`,
      },
      xAxis: { type: "value" as const, name: axisX.label, nameLocation: "middle" as const, nameGap: 26, scale: true },
      yAxis: { type: "value" as const, name: axisY.label, scale: true },
      series: [{ type: "scatter" as const, data: points, symbolSize: 8 }],
    };
  }, [axisX, axisY, runs, selected, colorOf]);

  if (candidates.length < 2) return <p className="muted">{t("chart.noData")}</p>;
  return (
    <div className="parallel" data-testid="parallel">
      {part !== "scatter" && (
        <>
          <details className="axis-picker" data-testid="axis-picker">
            <summary>{t("workspace.axes", { shown: axes.length, total: candidates.length })}</summary>
            <fieldset>
              <legend className="sr-only">{t("workspace.axesLegend")}</legend>
              {candidates.map((a) => (
                <label key={a.id} className="check" title={a.label}>
                  <input type="checkbox" checked={chosen.includes(a.id)} onChange={(e) => toggleAxis(a.id, e.target.checked)} />
                  <span>{a.label}</span>
                </label>
              ))}
            </fieldset>
            {picked !== null && (
              <button type="button" onClick={() => setPicked(null)}>
                {t("workspace.axesDefault")}
              </button>
            )}
          </details>
          {axes.length < 2 ? <p className="muted">{t("workspace.axesFew")}</p> : <EChart option={option} height={340} label={t("workspace.parallel")} />}
        </>
      )}
      {part === "both" && <h3>{t("workspace.scatter")}</h3>}
      {part !== "parallel" && (
        <div className="chart-controls">
          <label htmlFor={xId}>{t("workspace.scatterX")}</label>
          <select id={xId} value={axisX?.id ?? ""} onChange={(e) => setSx(e.target.value)}>
            {candidates.map((a) => (
              <option key={a.id} value={a.id}>
                {a.label}
              </option>
            ))}
          </select>
          <label htmlFor={yId}>{t("workspace.scatterY")}</label>
          <select id={yId} value={axisY?.id ?? ""} onChange={(e) => setSy(e.target.value)}>
            {candidates.map((a) => (
              <option key={a.id} value={a.id}>
                {a.label}
              </option>
            ))}
          </select>
        </div>
      )}
      {scatter && part !== "parallel" && <EChart option={scatter} height={300} label={t("workspace.scatter")} />}
    </div>
  );
}
