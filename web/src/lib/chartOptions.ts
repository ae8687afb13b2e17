/**
 * Chart options: how a metric's chart is drawn (smoothing kind and amount, outliers ignored in the
 * y scale, a fixed y range, log y, the x axis). The workspace sets them for every panel (in the
 * URL); a panel's own options (in the panel layout) override them one field at a time.
 */
import type { ChartData } from "./series";
import { clampAmount, smoothingKindOf, type SmoothingKind } from "./smoothing";

export interface ChartOptions {
  smoothKind: SmoothingKind;
  /** EMA weight (0–0.99), running-average window or gaussian σ (points); 0 is off. */
  smoothing: number;
  /** The y scale spans the 5th–95th percentile of the points drawn instead of min–max. */
  outliers: boolean;
  /** A fixed end of the y scale; null: automatic. */
  yMin: number | null;
  yMax: number | null;
  logY: boolean;
  /** "" is automatic (the metric's step_metric, else the step). */
  xAxis: string;
}

/** The percentiles "ignore outliers" keeps, as W&B does. */
export const OUTLIER_PERCENTILES: [number, number] = [0.05, 0.95];

function finiteOrNull(value: unknown): number | null {
  if (value === null || value === undefined || value === "") return null;
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

/** A panel's saved options, every field checked; unknown or bad fields are dropped (the workspace's apply). */
export function parsePanelOptions(value: unknown): Partial<ChartOptions> {
  if (!value || typeof value !== "object" || Array.isArray(value)) return {};
  const raw = value as Record<string, unknown>;
  const out: Partial<ChartOptions> = {};
  if (raw.smoothKind === "ema" || raw.smoothKind === "average" || raw.smoothKind === "gaussian") out.smoothKind = raw.smoothKind;
  if (typeof raw.smoothing === "number") out.smoothing = clampAmount(out.smoothKind ?? "ema", raw.smoothing);
  if (typeof raw.outliers === "boolean") out.outliers = raw.outliers;
  if (typeof raw.logY === "boolean") out.logY = raw.logY;
  if (typeof raw.xAxis === "string" && raw.xAxis.length <= 256) out.xAxis = raw.xAxis;
  for (const key of ["yMin", "yMax"] as const) {
    if (key in raw && (raw[key] === null || typeof raw[key] === "number")) out[key] = finiteOrNull(raw[key]);
  }
  return out;
}

/** The options a panel draws with: the workspace's, with the panel's own on top. */
export function panelOptions(workspace: ChartOptions, own: Partial<ChartOptions> | undefined): ChartOptions {
  if (!own) return workspace;
  const merged = { ...workspace, ...own };
  // An amount saved for one kind is re-clamped for the kind it is drawn with.
  merged.smoothing = clampAmount(merged.smoothKind, merged.smoothing);
  return merged;
}

/** The URL parameters of the workspace's options (absent ones are undefined or null). */
export type OptionParams = Partial<Record<"smooth" | "smoothk" | "outliers" | "ymin" | "ymax" | "log" | "x", string | null | undefined>>;

/** The workspace's options from its URL parameters. */
export function optionsFromParams(params: OptionParams): ChartOptions {
  const smoothKind = smoothingKindOf(params.smoothk);
  return {
    smoothKind,
    smoothing: clampAmount(smoothKind, params.smooth),
    outliers: params.outliers === "1",
    yMin: finiteOrNull(params.ymin),
    yMax: finiteOrNull(params.ymax),
    logY: params.log === "1",
    xAxis: params.x ?? "",
  };
}

/** The k-th smallest of `a` (0-based), reordering `a` in place: quickselect, linear on average. */
function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const pivot = a[(lo + hi) >> 1] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i++] = a[j] as number;
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k] as number;
}

/**
 * The y range "ignore outliers" draws: the 5th and 95th percentile of every finite point of the
 * chart's lines (not the faded raw lines or the downsampling envelope), or null without points.
 * Computed once per data change; linear in the points.
 */
export function outlierRange(chart: ChartData, percentiles: [number, number] = OUTLIER_PERCENTILES): [number, number] | null {
  let total = 0;
  for (const line of chart.lines) total += chart.data[line.line]?.length ?? 0;
  const values = new Float64Array(total);
  let n = 0;
  for (const line of chart.lines) {
    const column = chart.data[line.line];
    if (!column) continue;
    for (let i = 0; i < column.length; i++) {
      const v = column[i];
      if (v != null && Number.isFinite(v)) values[n++] = v;
    }
  }
  if (n === 0) return null;
  const finite = values.subarray(0, n);
  const at = (p: number) => select(finite, Math.min(n - 1, Math.max(0, Math.round(p * (n - 1)))));
  const low = at(percentiles[0]);
  const high = at(percentiles[1]);
  return [low, high];
}

/**
 * "Max runs shown": the first `max` of the shown runs in the table's order (runs not in the loaded
 * rows after them, in their own order); all of them when `max` is null.
 */
export function firstRuns<R extends { id: string }>(shown: R[], tableOrder: readonly { id: string }[], max: number | null): R[] {
  if (max === null || shown.length <= max) return shown;
  const rank = new Map(tableOrder.map((r, i) => [r.id, i]));
  const at = (r: R) => rank.get(r.id) ?? Number.MAX_SAFE_INTEGER;
  return shown
    .map((r, i) => ({ r, i }))
    .sort((a, b) => at(a.r) - at(b.r) || a.i - b.i)
    .slice(0, max)
    .map(({ r }) => r);
}
