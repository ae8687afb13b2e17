/**
 * One uPlot line chart: runs overlaid, optional smoothing (raw line faded behind), min/max
 * envelope where the server downsampled, a tooltip with every run's value at the cursor, and
 * drag-to-zoom (the parent fetches finer data for the zoomed range). uPlot is created once per
 * layout (which runs, colours, columns) and then only fed new data with setData(), so live
 * updates redraw once per batch instead of rebuilding the chart.
 */
import { useEffect, useMemo, useRef, type KeyboardEvent, type WheelEvent } from "react";
import uPlot from "uplot";
import { withAlpha } from "../lib/colors";
import { formatDuration, formatNumber, formatTime, formatWallTicks, uiLocale } from "../lib/format";
import { outlierRange } from "../lib/chartOptions";
import { buildChartData, nearestPoint, type ChartData, type LineInput } from "../lib/series";
import type { SmoothingKind } from "../lib/smoothing";
import { chartColors, useTheme, type Theme } from "../lib/theme";

export type XKind = "step" | "relative" | "wall" | "metric";

export interface LineChartProps {
  lines: LineInput[];
  smoothing: number;
  /** EMA when not given. */
  smoothKind?: SmoothingKind;
  logY: boolean;
  /** Fixed ends of the y scale (null: automatic), and whether it ignores outliers (5th–95th percentile). */
  yScale?: YScale;
  xKind: XKind;
  xLabel: string;
  /** The zoomed x range, or null for everything. */
  range: [number, number] | null;
  onZoom: (range: [number, number] | null) => void;
  height: number;
  label: string;
}

export interface YScale {
  min: number | null;
  max: number | null;
  outliers: boolean;
}

/** What the y scale's range is computed from: read by uPlot on every autoscale, so no rebuild when it changes. */
interface YLimits {
  min: number | null;
  max: number | null;
  /** The outlier-free range of the data now drawn, when outliers are ignored. */
  kept: [number, number] | null;
  logY: boolean;
}

function yRange(limits: YLimits, dataMin: number | null, dataMax: number | null): uPlot.Range.MinMax {
  let auto: uPlot.Range.MinMax = [dataMin, dataMax];
  if (limits.kept) {
    // Outliers ignored: the percentiles with a small margin, not rounded out to "nice" ticks (that would bring the outliers back in view).
    const [lo, hi] = limits.kept;
    const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.05 || 1;
    auto = limits.logY ? [lo / 1.2, hi * 1.2] : [lo - pad, hi + pad];
  } else if (dataMin != null && dataMax != null) {
    auto = limits.logY ? uPlot.rangeLog(dataMin, dataMax, 10, true) : uPlot.rangeNum(dataMin, dataMax, 0.1, true);
  }
  const min = limits.min ?? auto[0];
  const max = limits.max ?? auto[1];
  // A fixed end past the other (min 10 with every point below 5) falls back to the automatic range.
  return min != null && max != null && min >= max ? auto : [min, max];
}

function formatX(kind: XKind, x: number): string {
  if (kind === "relative") return formatDuration(x);
  if (kind === "wall") return formatTime(x);
  return formatNumber(x);
}

/** What a uPlot instance is built from, besides the data. */
type ChartView = Pick<LineChartProps, "logY" | "xKind" | "smoothing" | "height" | "xLabel" | "range"> & { theme: Theme };

function layoutKey(props: ChartView, chart: ChartData): string {
  // The UI language and theme too: axis names and wall-clock ticks are written in the one, drawn in the other.
  return JSON.stringify([chart.lines, props.logY, props.xKind, props.smoothing > 0, props.height, props.xLabel, uiLocale(), props.theme]);
}

function makeOptions(
  props: ChartView,
  chart: ChartData,
  width: number,
  tooltip: HTMLDivElement,
  zoom: { current: LineChartProps["onZoom"] },
  limits: { current: YLimits },
): uPlot.Options {
  const series: uPlot.Series[] = [{ label: props.xLabel }];
  const bands: uPlot.Band[] = [];
  // Columns in data order; each gets its style from the line that owns it.
  const styles = new Array<uPlot.Series>(chart.data.length - 1);
  for (const line of chart.lines) {
    if (line.max !== null && line.min !== null) {
      const edge = { label: `${line.label} max`, stroke: "transparent", width: 0, points: { show: false }, spanGaps: true };
      styles[line.max - 1] = { ...edge };
      styles[line.min - 1] = { ...edge, label: `${line.label} min` };
      bands.push({ series: [line.max, line.min], fill: withAlpha(line.color, 0.16) });
    }
    if (line.raw !== null) {
      styles[line.raw - 1] = { label: `${line.label} raw`, stroke: withAlpha(line.color, 0.3), width: 1, points: { show: false }, spanGaps: true };
    }
    styles[line.line - 1] = { label: line.label, stroke: line.faded ? withAlpha(line.color, 0.2) : line.color, width: line.emphasis ? 3 : 1.6, spanGaps: true };
  }
  series.push(...styles);
  const xTime = props.xKind === "wall";
  // Axis text and grid in the page's theme (a theme change rebuilds the chart: it is in the layout key).
  const colors = chartColors();
  return {
    width,
    height: props.height,
    series,
    bands,
    legend: { show: false },
    scales: {
      x: { time: xTime, auto: props.range === null, ...(props.range ? { min: props.range[0], max: props.range[1] } : {}) },
      y: { distr: props.logY ? 3 : 1, range: (_u, dataMin, dataMax) => yRange(limits.current, dataMin, dataMax) },
    },
    axes: [
      {
        stroke: colors.muted,
        grid: { stroke: colors.grid },
        ticks: { stroke: colors.grid },
        ...(xTime ? { values: (_u: uPlot, ticks: number[]) => formatWallTicks(ticks) } : {}),
        ...(props.xKind === "relative" ? { values: (_u: uPlot, ticks: number[]) => ticks.map((v) => (v == null ? "" : formatDuration(v))) } : {}),
        ...(props.xKind === "step" || props.xKind === "metric" ? { values: (_u: uPlot, ticks: number[]) => ticks.map((v) => (v == null ? "" : formatNumber(v, 4))) } : {}),
      },
      { stroke: colors.muted, grid: { stroke: colors.grid }, ticks: { stroke: colors.grid }, size: 56, values: (_u: uPlot, ticks: number[]) => ticks.map((v) => (v == null ? "" : formatNumber(v, 4))) },
    ],
    cursor: {
      drag: { x: true, y: false, setScale: false },
      points: { size: 6 },
      dataIdx: (u, seriesIdx, closestIdx) => nearestPoint(u.data[seriesIdx] as (number | null)[], closestIdx, 4096) ?? closestIdx,
    },
    hooks: {
      setSelect: [
        (u) => {
          if (u.select.width > 2) {
            const lo = u.posToVal(u.select.left, "x");
            const hi = u.posToVal(u.select.left + u.select.width, "x");
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            zoom.current([lo, hi]);
          }
        },
      ],
      setCursor: [(u) => renderTooltip(u, tooltip, chart.lines, props)],
    },
  };
}

function renderTooltip(u: uPlot, tooltip: HTMLDivElement, lines: ChartData["lines"], props: ChartView): void {
  const { left, top, idx } = u.cursor;
  if (idx == null || left == null || left < 0 || top == null) {
    tooltip.hidden = true;
    return;
  }
  const xs = u.data[0];
  const rows: { color: string; label: string; value: number; raw: number | null; x: number; group: ChartData["lines"][number]["group"]; lo: number | null; hi: number | null }[] = [];
  for (const line of lines) {
    const i = u.cursor.idxs?.[line.line];
    if (i == null) continue;
    const v = u.data[line.line]?.[i];
    if (v == null) continue;
    const raw = line.raw !== null ? (u.data[line.raw]?.[i] ?? null) : null;
    const edge = (col: number | null) => (line.group?.band && col !== null ? (u.data[col]?.[i] ?? null) : null);
    rows.push({ color: line.color, label: line.label, value: v, raw, x: xs[i] as number, group: line.group, lo: edge(line.min), hi: edge(line.max) });
  }
  if (rows.length === 0) {
    tooltip.hidden = true;
    return;
  }
  tooltip.replaceChildren();
  const head = document.createElement("div");
  head.className = "tt-head";
  head.textContent = `${props.xLabel} ${formatX(props.xKind, xs[idx] as number)}`;
  tooltip.append(head);
  for (const row of rows) {
    const item = document.createElement("div");
    item.className = "tt-row";
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = row.color;
    const name = document.createElement("span");
    name.className = "tt-name";
    name.textContent = row.label;
    const value = document.createElement("span");
    value.className = "tt-value";
    value.dataset.x = String(row.x);
    value.textContent = formatNumber(row.value) + (row.raw !== null ? ` (${formatNumber(row.raw)})` : "");
    item.append(swatch, name, value);
    tooltip.append(item);
    if (row.group) {
      // A group's line: how it was aggregated, its band at this x, and which runs it is made of.
      const band = row.lo !== null && row.hi !== null ? ` [${formatNumber(row.lo)} – ${formatNumber(row.hi)}]` : "";
      const detail = document.createElement("div");
      detail.className = "tt-group";
      detail.dataset.testid = "tooltip-group";
      detail.textContent = `${row.group.aggregate}${band} · ${row.group.text}`;
      tooltip.append(detail);
    }
  }
  tooltip.hidden = false;
  const box = u.over.getBoundingClientRect();
  const width = tooltip.offsetWidth;
  const x = left + 12 + width > box.width ? left - width - 12 : left + 12;
  tooltip.style.transform = `translate(${Math.max(0, x)}px, ${Math.max(0, top + 12)}px)`;
}

export function LineChart(props: LineChartProps) {
  const holder = useRef<HTMLDivElement>(null);
  const tooltipRef = useRef<HTMLDivElement | null>(null);
  if (tooltipRef.current === null && typeof document !== "undefined") {
    // Lives inside uPlot's overlay, outside React's tree.
    const tip = document.createElement("div");
    tip.className = "chart-tooltip";
    tip.hidden = true;
    tip.dataset.testid = "chart-tooltip";
    tip.setAttribute("role", "tooltip");
    tooltipRef.current = tip;
  }
  const plot = useRef<uPlot | null>(null);
  const layout = useRef<string>("");
  const zoom = useRef(props.onZoom);
  zoom.current = props.onZoom;
  // When the current data started to be prepared: a new chart's first draw after it is measured
  // (`performance` entries named "wakelog:chart", read by bench/web.py). Live updates are not: the
  // browser keeps every entry until the page closes.
  const drawFrom = useRef<number | null>(null);
  const chart = useMemo(() => {
    drawFrom.current = performance.now();
    return buildChartData(props.lines, { smoothing: props.smoothing, smoothKind: props.smoothKind, logY: props.logY });
  }, [props.lines, props.smoothing, props.smoothKind, props.logY]);
  const outliers = props.yScale?.outliers ?? false;
  // Once per data change, like the smoothing: the percentiles are not recomputed on redraws.
  const kept = useMemo(() => (outliers ? outlierRange(chart) : null), [chart, outliers]);
  const yMin = props.yScale?.min ?? null;
  const yMax = props.yScale?.max ?? null;
  const limits = useRef<YLimits>({ min: yMin, max: yMax, kept, logY: props.logY });
  limits.current = { min: yMin, max: yMax, kept, logY: props.logY };

  const { logY, xKind, smoothing, height, xLabel, range } = props;
  const theme = useTheme();
  useEffect(() => {
    const el = holder.current;
    const tooltip = tooltipRef.current;
    if (!el || !tooltip) return;
    const view: ChartView = { logY, xKind, smoothing, height, xLabel, range, theme };
    const key = layoutKey(view, chart);
    const data = chart.data as uPlot.AlignedData;
    if (plot.current && layout.current === key) {
      // New data, or new y limits (uPlot autoscales y again, through yRange): no rebuild.
      drawFrom.current = null;
      plot.current.batch(() => {
        plot.current?.setData(data, range === null);
        if (range) plot.current?.setScale("x", { min: range[0], max: range[1] });
      });
      el.dataset.points = String(data[0].length);
      return;
    }
    plot.current?.destroy();
    layout.current = key;
    const options = makeOptions(view, chart, Math.max(100, el.clientWidth), tooltip, zoom, limits);
    options.hooks = {
      ...options.hooks,
      draw: [
        (u: uPlot) => {
          // The y scale drawn, for the browser tests (the y axis is painted on the canvas).
          el.dataset.yMin = String(u.scales.y?.min);
          el.dataset.yMax = String(u.scales.y?.max);
        },
        (drawn: uPlot) => {
          const start = drawFrom.current;
          if (start === null) return;
          drawFrom.current = null;
          performance.measure("wakelog:chart", { start, detail: { columns: drawn.series.length - 1, points: drawn.data[0].length } });
        },
      ],
    };
    const u = new uPlot(options, data, el);
    u.over.appendChild(tooltip);
    u.over.addEventListener("dblclick", () => zoom.current(null));
    u.over.addEventListener("mouseleave", () => {
      tooltip.hidden = true;
    });
    plot.current = u;
    el.dataset.points = String(data[0].length);
  }, [chart, range, xKind, height, logY, smoothing, xLabel, theme, yMin, yMax, kept]);

  useEffect(() => {
    const el = holder.current;
    if (!el) return;
    const observer = new ResizeObserver(() => {
      const u = plot.current;
      if (u && el.clientWidth > 0 && Math.abs(u.width - el.clientWidth) > 1) u.setSize({ width: el.clientWidth, height: props.height });
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [props.height]);

  useEffect(
    () => () => {
      plot.current?.destroy();
      plot.current = null;
    },
    [],
  );

  /** The zoom after panning or zooming the x range now shown: keys and shift+wheel. */
  function moved(kind: "left" | "right" | "in" | "out", amount = 0.25): [number, number] | null {
    const u = plot.current;
    const min = u?.scales.x?.min;
    const max = u?.scales.x?.max;
    if (min == null || max == null || !(max > min)) return null;
    const span = max - min;
    if (kind === "left") return [min - span * amount, max - span * amount];
    if (kind === "right") return [min + span * amount, max + span * amount];
    const mid = (min + max) / 2;
    const half = kind === "in" ? span / 4 : span;
    return [mid - half, mid + half];
  }

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const kinds: Record<string, "left" | "right" | "in" | "out"> = { ArrowLeft: "left", ArrowRight: "right", "+": "in", "=": "in", "-": "out" };
    const kind = kinds[event.key];
    if (event.key === "Escape" || event.key === "0") {
      zoom.current(null);
      event.preventDefault();
    } else if (kind) {
      const next = moved(kind);
      if (next) zoom.current(next);
      event.preventDefault();
    }
  }

  function onWheel(event: WheelEvent<HTMLDivElement>) {
    // Shift + wheel pans a zoomed chart; a plain wheel still scrolls the page.
    if (!event.shiftKey || props.range === null) return;
    const delta = event.deltaY || event.deltaX;
    const next = moved(delta > 0 ? "right" : "left", Math.min(0.5, Math.abs(delta) / 1000));
    if (next) zoom.current(next);
  }

  return (
    <div
      className="line-chart"
      ref={holder}
      role="img"
      tabIndex={0}
      aria-label={props.label}
      aria-keyshortcuts="ArrowLeft ArrowRight + - Escape"
      onKeyDown={onKeyDown}
      onWheel={onWheel}
      data-testid="line-chart"
    />
  );
}
