/** One chart panel: fetches its metric for the shown runs when it scrolls into view. */
import { useEffect, useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { errorMessage } from "../i18n/errors";
import type { HistoryStore } from "../lib/historyStore";
import { canvasPng, chartCsvRows } from "../lib/chartExport";
import { fileStem, toCsv } from "../lib/csv";
import { download } from "../lib/download";
import { groupedLines, type Aggregate, type Band, type RunGroup } from "../lib/grouping";
import { buildChartData, type LineInput, type SeriesData } from "../lib/series";
import type { SmoothingKind } from "../lib/smoothing";
import { chartColors, useTheme } from "../lib/theme";
import { ExportMenu, type ExportItem } from "./ExportMenu";
import { LineChart, type XKind, type YScale } from "./LineChart";
import { PanelOptions, type PanelOptionsProps } from "./PanelOptions";

export interface ShownRun {
  id: string;
  label: string;
  color: string;
  /** Drawn thicker (a sweep's best trial). */
  emphasis?: boolean;
}

export type PanelSize = "s" | "m" | "l";

export interface MetricPanelProps {
  store: HistoryStore;
  metric: string;
  stream: "history" | "system";
  runs: ShownRun[];
  xAxis: string;
  smoothing: number;
  /** EMA when not given. */
  smoothKind?: SmoothingKind;
  logY: boolean;
  /** A fixed y range and/or outliers left out of the y scale. */
  yScale?: YScale;
  /** The panel's own options, with their menu; none without. */
  options?: Omit<PanelOptionsProps, "onClose" | "metric">;
  range: [number, number] | null;
  onZoom: (range: [number, number] | null) => void;
  /** Bumped when live points arrive for these runs. */
  liveVersion: number;
  size: PanelSize;
  onResize?: (size: PanelSize) => void;
  onRemove?: () => void;
  /** The user's sections this chart can be moved into (as a line panel there); none: no control. */
  moveTo?: { sections: { id: string; name: string }[]; onMove: (section: string) => void };
  /** A legend under the chart: a run clicked there is highlighted, the others drawn faint. */
  legend?: boolean;
  /** Draw one line per group (the runs of `runs`, grouped) instead of one per run. */
  grouping?: Grouping | null;
}

export interface Grouping {
  groups: RunGroup[];
  aggregate: Aggregate;
  band: Band;
}

export function xKindOf(xAxis: string): XKind {
  if (xAxis === "_step") return "step";
  if (xAxis === "_runtime") return "relative";
  if (xAxis === "_timestamp") return "wall";
  return "metric";
}

export function MetricPanel(props: MetricPanelProps) {
  const { t } = useTranslation();
  const ref = useRef<HTMLElement>(null);
  const [visible, setVisible] = useState(false);
  const [series, setSeries] = useState<SeriesData[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [picked, setPicked] = useState<string | null>(null);
  const [optionsOpen, setOptionsOpen] = useState(false);
  const optionsButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (typeof IntersectionObserver === "undefined") {
      setVisible(true);
      return;
    }
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) {
        setVisible(true);
        observer.disconnect();
      }
    }, { rootMargin: "200px" });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const runIds = props.runs.map((r) => r.id).join("\u0000");
  useEffect(() => {
    if (!visible) return;
    if (!runIds) {
      setSeries([]);
      return;
    }
    let live = true;
    const width = ref.current?.clientWidth ?? 500;
    const points = Math.min(2000, Math.max(200, Math.round(width / 100) * 100));
    props.store
      .load({ runs: runIds.split("\u0000"), key: props.metric, stream: props.stream, xAxis: props.xAxis, points, range: props.range })
      .then((s) => {
        if (!live) return;
        setSeries(s);
        setError(null);
      })
      .catch((e: unknown) => live && setError(errorMessage(e)));
    return () => {
      live = false;
    };
  }, [visible, runIds, props.metric, props.stream, props.xAxis, props.range, props.liveVersion, props.store]);

  const grouping = props.grouping;
  // Aggregated once per data or grouping change, not on every render (a legend click re-renders).
  const groupLines = useMemo(() => {
    if (!series || !grouping) return null;
    const byRun = new Map(series.map((s) => [s.run, s]));
    const describe = (runs: string[]) => t("chart.groupRuns", { count: runs.length, runs: runs.join(", ") });
    const label = t(grouping.aggregate === "median" ? "chart.median" : "chart.mean");
    return groupedLines(grouping.groups, (id) => byRun.get(id), { aggregate: grouping.aggregate, band: grouping.band, label, describe });
  }, [series, grouping, t]);
  const lines: LineInput[] = [];
  if (groupLines) {
    for (const line of groupLines) {
      const highlighted = picked !== null && props.legend === true;
      lines.push({ ...line, emphasis: highlighted && picked === line.id, faded: highlighted && picked !== line.id });
    }
  } else if (series) {
    const byRun = new Map(series.map((s) => [s.run, s]));
    for (const run of props.runs) {
      const s = byRun.get(run.id);
      if (!s || s.x.length === 0) continue;
      const highlighted = picked !== null && props.legend === true;
      lines.push({ id: run.id, label: run.label, color: run.color, emphasis: run.emphasis || (highlighted && picked === run.id), faded: highlighted && picked !== run.id, series: s });
    }
  }
  const downsampled = lines.some((l) => l.series.downsampled);
  const height = props.size === "l" ? 320 : props.size === "s" ? 180 : 240;
  const xLabel =
    props.xAxis === "_step" ? t("chart.step") : props.xAxis === "_runtime" ? t("chart.relative") : props.xAxis === "_timestamp" ? t("chart.wall") : props.xAxis;
  const theme = useTheme();
  // Built on demand, from the same lines and options as the chart: the points as drawn.
  const drawn = () => buildChartData(lines, { smoothing: props.smoothing, smoothKind: props.smoothKind, logY: props.logY });
  const stem = fileStem(props.metric);
  const exports: ExportItem[] = [
    {
      id: "csv",
      label: t("exporting.csv"),
      run: () => {
        const labels = { run: t("exporting.run"), id: "id", x: xLabel, value: t("exporting.value"), smoothed: t("exporting.smoothed") };
        const { header, rows } = chartCsvRows(drawn(), labels);
        download(`${stem}.csv`, toCsv(header, rows));
      },
    },
    {
      id: "png",
      label: t("exporting.png"),
      run: async () => {
        const canvas = ref.current?.querySelector<HTMLCanvasElement>(".line-chart canvas");
        if (canvas) download(`${stem}.png`, await canvasPng(canvas, props.metric, chartColors()));
      },
    },
    {
      id: "svg",
      label: t("exporting.svg"),
      run: async () => {
        const { lineChartSvg } = await import("../lib/chartSvg");
        const width = Math.max(400, ref.current?.clientWidth ?? 640);
        const svg = lineChartSvg(drawn(), { title: props.metric, xLabel, logY: props.logY, theme, width, height: height + 80 });
        download(`${stem}.svg`, svg, "image/svg+xml");
      },
    },
  ];
  return (
    <section className={`panel panel-${props.size}`} ref={ref} data-testid="panel" data-metric={props.metric} aria-label={t("chart.panelFor", { key: props.metric })}>
      <header className="panel-head">
        <h3 title={props.metric}>{props.metric}</h3>
        {downsampled && (
          <span className="badge" title={t("chart.downsampled")}>
            ≈
          </span>
        )}
        <span className="panel-tools">
          {lines.length > 0 && <ExportMenu name={props.metric} items={exports} />}
          {props.options && (
            <button
              type="button"
              ref={optionsButton}
              aria-expanded={optionsOpen}
              className={props.options && Object.keys(props.options.own).length > 0 ? "options-set" : undefined}
              onClick={() => setOptionsOpen((o) => !o)}
            >
              {t("chart.options")}
            </button>
          )}
          {props.range && (
            <button type="button" onClick={() => props.onZoom(null)}>
              {t("chart.resetZoom")}
            </button>
          )}
          {props.onResize && (
            <select aria-label={t("chart.resize")} value={props.size} onChange={(e) => props.onResize?.(e.target.value as PanelSize)}>
              <option value="s">S</option>
              <option value="m">M</option>
              <option value="l">L</option>
            </select>
          )}
          {props.moveTo && props.moveTo.sections.length > 0 && (
            <select aria-label={t("chart.moveTo", { metric: props.metric })} value="" onChange={(e) => e.target.value && props.moveTo?.onMove(e.target.value)}>
              <option value="">{t("chart.moveToPick")}</option>
              {props.moveTo.sections.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          )}
          {props.onRemove && (
            <button type="button" aria-label={`${t("chart.remove")}: ${props.metric}`} title={t("chart.remove")} onClick={props.onRemove}>
              ×
            </button>
          )}
        </span>
      </header>
      {props.options && optionsOpen && (
        <PanelOptions
          {...props.options}
          metric={props.metric}
          onClose={() => {
            setOptionsOpen(false);
            optionsButton.current?.focus();
          }}
        />
      )}
      {error && <p role="alert" className="error">{error}</p>}
      {series && lines.length === 0 && !error && <p className="muted chart-empty">{t("chart.noData")}</p>}
      {lines.length > 0 && (
        <LineChart
          lines={lines}
          smoothing={props.smoothing}
          smoothKind={props.smoothKind}
          logY={props.logY}
          yScale={props.yScale}
          xKind={xKindOf(props.xAxis)}
          xLabel={xLabel}
          range={props.range}
          onZoom={props.onZoom}
          height={height}
          label={t("chart.panelFor", { key: props.metric })}
        />
      )}
      {props.legend && lines.length > 0 && (
        <ul className="chart-legend" aria-label={t("chart.legend")} data-testid="chart-legend">
          {lines.map((line) => (
            <li key={line.id}>
              <button
                type="button"
                aria-pressed={picked === line.id}
                title={t("chart.highlight", { run: line.label })}
                onClick={() => setPicked((p) => (p === line.id ? null : line.id))}
              >
                <span className="swatch" style={{ background: line.color }} aria-hidden="true" />
                {line.label}
              </button>
            </li>
          ))}
        </ul>
      )}
      {!series && !error && <div className="chart-placeholder" style={{ height }} aria-hidden="true" />}
    </section>
  );
}
