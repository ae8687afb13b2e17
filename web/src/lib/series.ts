/**
 * The chart data contract. The server answers each (run, metric) as columnar arrays — x (or
 * steps), values, and the min/max of each bin when it merged points (downsampled). A chart draws
 * several runs over one x axis, so their points are merged onto the sorted union of their x
 * values: uPlot's columnar "aligned data", with null where a run has no point.
 *
 * Per run the chart gets up to four y columns: the line (smoothed when smoothing is on), the raw
 * line (faded, only when smoothing), and the bin minimum and maximum (only where the server
 * downsampled: the envelope shows what the merged points spanned).
 */
import { smooth, smoothingOn, type SmoothingKind } from "./smoothing";

export type NumArray = ArrayLike<number>;

export interface SeriesData {
  run: string;
  key: string;
  downsampled: boolean;
  count: number;
  /** The x of each point: steps, or the values of the chosen x axis. */
  x: NumArray;
  values: NumArray;
  min: NumArray;
  max: NumArray;
}

export interface LineInput {
  id: string;
  label: string;
  color: string;
  series: SeriesData;
  /** Drawn thicker (a sweep's best trial, the run picked in the legend). */
  emphasis?: boolean;
  /** Drawn faint: another run is picked in the legend. */
  faded?: boolean;
  /** A group's line (lib/grouping): its band is the series' min/max, drawn even when not downsampled. */
  group?: GroupInfo;
}

/** What the tooltip says of a group's line: how it was aggregated and from which runs. */
export interface GroupInfo {
  /** "Mean", "Median" (already translated). */
  aggregate: string;
  /** The labels of the runs with points in this chart. */
  runs: string[];
  /** The runs as the tooltip lists them ("3 runs: a, b, c", translated). */
  text: string;
  /** A band is drawn (min–max or ±std): the series' min/max are its edges. */
  band: boolean;
}

export interface LineColumns {
  id: string;
  label: string;
  color: string;
  emphasis?: boolean;
  faded?: boolean;
  group?: GroupInfo;
  /** Column indexes into `data` (0 is x). */
  line: number;
  raw: number | null;
  min: number | null;
  max: number | null;
}

export interface ChartData {
  data: (NumArray | (number | null)[])[];
  lines: LineColumns[];
}

export interface BuildOptions {
  /** The amount of `smoothKind` (lib/smoothing): EMA weight, window or σ; 0 is off. */
  smoothing: number;
  /** EMA (debiased) when not given. */
  smoothKind?: SmoothingKind;
  logY: boolean;
}

/** The sorted, de-duplicated union of several ascending arrays. */
export function unionX(arrays: NumArray[]): Float64Array {
  let total = 0;
  for (const a of arrays) total += a.length;
  const all = new Float64Array(total);
  let o = 0;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) all[o++] = a[i] as number;
  }
  all.sort();
  let n = 0;
  for (let i = 0; i < all.length; i++) {
    const v = all[i] as number;
    if (Number.isNaN(v)) continue;
    if (n === 0 || all[n - 1] !== v) all[n++] = v;
  }
  return all.slice(0, n);
}

/** Points of one series in ascending x (the x axis may be a metric that goes up and down). */
function ascending(s: SeriesData): SeriesData {
  const x = s.x;
  let sorted = true;
  for (let i = 1; i < x.length; i++) {
    if ((x[i] as number) < (x[i - 1] as number)) {
      sorted = false;
      break;
    }
  }
  if (sorted) return s;
  const order = Array.from({ length: x.length }, (_, i) => i).sort((a, b) => (x[a] as number) - (x[b] as number));
  const pick = (arr: NumArray) => Float64Array.from(order, (i) => arr[i] as number);
  return { ...s, x: pick(s.x), values: pick(s.values), min: pick(s.min), max: pick(s.max) };
}

/** One column of `values` (indexed like `x`) spread onto `xs`, null where x has no point. */
function spread(xs: Float64Array, x: NumArray, values: ArrayLike<number | null>, logY: boolean): (number | null)[] {
  const out = new Array<number | null>(xs.length).fill(null);
  let j = 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] as number;
    while (j < xs.length && (xs[j] as number) < xi) j++;
    if (j >= xs.length) break;
    if (xs[j] === xi) {
      const v = values[i];
      out[j] = v == null || !Number.isFinite(v) || (logY && v <= 0) ? null : v;
    }
  }
  return out;
}

export function buildChartData(inputs: LineInput[], options: BuildOptions): ChartData {
  const prepared = inputs.map((l) => ({ ...l, series: ascending(l.series) }));
  const xs = unionX(prepared.map((l) => l.series.x));
  const data: ChartData["data"] = [xs];
  const lines: LineColumns[] = [];
  const kind = options.smoothKind ?? "ema";
  const smoothing = smoothingOn(kind, options.smoothing);
  for (const input of prepared) {
    const s = input.series;
    const columns: LineColumns = { id: input.id, label: input.label, color: input.color, emphasis: input.emphasis, faded: input.faded, group: input.group, line: 0, raw: null, min: null, max: null };
    if (input.group ? input.group.band : s.downsampled) {
      columns.max = data.push(spread(xs, s.x, s.max, options.logY)) - 1;
      columns.min = data.push(spread(xs, s.x, s.min, options.logY)) - 1;
    }
    if (smoothing) {
      columns.raw = data.push(spread(xs, s.x, s.values, options.logY)) - 1;
      columns.line = data.push(spread(xs, s.x, smooth(s.values, kind, options.smoothing), options.logY)) - 1;
    } else {
      columns.line = data.push(spread(xs, s.x, s.values, options.logY)) - 1;
    }
    lines.push(columns);
  }
  return { data, lines };
}

/** The index of the nearest non-null value of `column` to `index` (the tooltip snaps to it). */
export function nearestPoint(column: ArrayLike<number | null | undefined>, index: number, reach = 1 << 30): number | null {
  if (index < 0 || index >= column.length) return null;
  if (column[index] != null) return index;
  for (let d = 1; d <= reach; d++) {
    const lo = index - d;
    const hi = index + d;
    if (lo < 0 && hi >= column.length) return null;
    if (lo >= 0 && column[lo] != null) return lo;
    if (hi < column.length && column[hi] != null) return hi;
  }
  return null;
}

/** The API's series (JSON: lists with "NaN"/"Infinity" strings; msgpack: float64 bytes) as numbers. */
export function toNumbers(value: unknown): NumArray {
  if (value instanceof Float64Array) return value;
  if (value instanceof Uint8Array) {
    if (value.byteOffset % 8 === 0) return new Float64Array(value.buffer, value.byteOffset, value.byteLength / 8);
    return new Float64Array(value.slice().buffer);
  }
  if (Array.isArray(value)) {
    const out = new Float64Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      out[i] = typeof v === "number" ? v : v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : NaN;
    }
    return out;
  }
  return new Float64Array(0);
}
