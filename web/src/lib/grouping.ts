/**
 * Grouped curves, as W&B draws them: runs put into groups (by `group`, `job_type`, `tags`, state or a
 * config key), and each group's runs of one metric turned into one series — the mean or median at
 * each x, with a band of min–max or ±1 standard deviation. The workspace charts and the report line
 * panels both draw these (LineChart takes a group as one line whose band is its min/max columns).
 */
import { formatValue } from "./format";
import { configValue } from "./runs";
import { runColors } from "./colors";
import type { LineInput, NumArray, SeriesData } from "./series";

export type Aggregate = "mean" | "median";
export type Band = "minmax" | "std" | "none";

/** The run fields a group key is read from (the workspace's runs and a report bundle's both have them). */
export interface GroupableRun {
  state?: string;
  group: string | null;
  job_type: string | null;
  tags: readonly string[];
  config: Record<string, unknown>;
}

/** The name of the group of runs that have no value for the key. */
export const NO_GROUP = "–";

/**
 * The groups a run belongs to under `groupBy`: `group`, `job_type`, `state`, `tags` (one group per
 * tag: a run tagged twice is in both), or a config key as `config:lr` (the workspace) or `config.lr`
 * (a report's run set). A run without a value is in the "–" group.
 */
export function groupKeys(groupBy: string, run: GroupableRun): string[] {
  if (groupBy === "group") return [run.group || NO_GROUP];
  if (groupBy === "job_type") return [run.job_type || NO_GROUP];
  if (groupBy === "state") return [run.state || NO_GROUP];
  if (groupBy === "tags") return run.tags.length > 0 ? [...new Set(run.tags)] : [NO_GROUP];
  const config = groupBy.startsWith("config:") || groupBy.startsWith("config.") ? groupBy.slice(7) : groupBy;
  const value = configValue(run.config, config);
  return [value === undefined || value === null ? NO_GROUP : formatValue(value)];
}

/** `?group=-`: grouping turned off on purpose (the default below then does not apply). */
export const NO_GROUPING = "-";

/**
 * What the workspace groups by: the URL's (or saved view's) `group`, or, when it names none, by
 * `group` as soon as runs share one — W&B's default for `wandb.init(group=…)` runs. Runs each alone
 * in its group are not grouped by default: every "group" would be one run under another name.
 */
export function workspaceGroupBy(param: string | null, runs: readonly Pick<GroupableRun, "group">[]): string {
  if (param === NO_GROUPING) return "";
  if (param) return param;
  const seen = new Set<string>();
  for (const { group } of runs) {
    if (!group) continue;
    if (seen.has(group)) return "group";
    seen.add(group);
  }
  return "";
}

/** Items by group, groups sorted by name ("–" last); each group's items keep their order. */
export function groupBy<T>(items: readonly T[], keysOf: (item: T) => string[]): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    for (const key of keysOf(item)) {
      const list = groups.get(key);
      if (list) list.push(item);
      else groups.set(key, [item]);
    }
  }
  return [...groups.entries()].sort(([a], [b]) => (a === NO_GROUP ? 1 : b === NO_GROUP ? -1 : a.localeCompare(b)));
}

export interface GroupSeries {
  x: Float64Array;
  /** The mean or median of the runs' values at each x. */
  values: Float64Array;
  /** The band's edges (equal to `values` when there is no band). */
  lo: Float64Array;
  hi: Float64Array;
  /** How many runs had a value at each x. */
  counts: Uint32Array;
}

export interface AggregateOptions {
  aggregate: Aggregate;
  band: Band;
  /** At most this many x positions when the runs' steps differ (they are bucketed). */
  buckets?: number;
}

/**
 * One series per group from its runs' series (each sorted by x, as the server answers).
 *
 * Which x values: when the runs log at the same steps (the usual case: every run of a group runs the
 * same script), the union of their x values has about as many points as the longest run, and each x
 * is aggregated exactly. When they log at different steps (one every 10, another every 7; or a
 * metric x axis such as wall time), the union would have x values only one run has, and the mean
 * would jump from run to run: then x is cut into equal-width buckets (no more than the longest run
 * has points, nor `buckets`), each run contributes the mean of its points in a bucket, and the
 * bucket is drawn at the mean x of those points. W&B buckets the same way.
 *
 * NaN and ±Infinity values are skipped (a run with none in a column does not count there); an x
 * where no run has a value is left out. O(points + runs × columns): the values go into one
 * runs × columns matrix, and no array is allocated per point.
 */
export function aggregateSeries(series: readonly Pick<SeriesData, "x" | "values">[], options: AggregateOptions): GroupSeries {
  const maxBuckets = Math.max(1, options.buckets ?? 1000);
  let longest = 0;
  let total = 0;
  let xMin = Infinity;
  let xMax = -Infinity;
  for (const s of series) {
    longest = Math.max(longest, s.x.length);
    total += s.x.length;
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i] as number;
      if (!Number.isFinite(x)) continue;
      if (x < xMin) xMin = x;
      if (x > xMax) xMax = x;
    }
  }
  if (total === 0 || xMin > xMax) return empty();
  const union = unionOf(series, total);
  // Shared steps: the union is no longer than the longest run (10% slack for a run that went further).
  const exact = union.length <= Math.max(longest * 1.1, 1) || union.length <= 1;
  const columns = exact ? union.length : Math.max(1, Math.min(maxBuckets, longest));
  const width = (xMax - xMin) / columns;
  const runs = series.length;
  // The runs' value per column (NaN: none), and the x sum/count per column for bucket positions.
  const matrix = new Float64Array(runs * columns).fill(NaN);
  const xSum = new Float64Array(columns);
  const xCount = new Uint32Array(columns);
  for (let r = 0; r < runs; r++) {
    const s = series[r] as Pick<SeriesData, "x" | "values">;
    let col = -1;
    let sum = 0;
    let n = 0;
    let u = 0;
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i] as number;
      const v = s.values[i] as number;
      if (!Number.isFinite(x)) continue;
      let c: number;
      if (exact) {
        while (u < union.length && (union[u] as number) < x) u++;
        c = u;
      } else {
        c = width > 0 ? Math.min(columns - 1, Math.floor((x - xMin) / width)) : 0;
      }
      if (c !== col) {
        if (n > 0) matrix[r * columns + col] = sum / n;
        col = c;
        sum = 0;
        n = 0;
      }
      if (Number.isFinite(v)) {
        sum += v;
        n++;
        xSum[c] = (xSum[c] as number) + x;
        xCount[c] = (xCount[c] as number) + 1;
      }
    }
    if (n > 0) matrix[r * columns + col] = sum / n;
  }
  const x = new Float64Array(columns);
  const values = new Float64Array(columns);
  const lo = new Float64Array(columns);
  const hi = new Float64Array(columns);
  const counts = new Uint32Array(columns);
  const scratch = new Float64Array(runs);
  let out = 0;
  for (let c = 0; c < columns; c++) {
    let n = 0;
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let r = 0; r < runs; r++) {
      const v = matrix[r * columns + c] as number;
      if (Number.isNaN(v)) continue;
      scratch[n++] = v;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (n === 0) continue;
    const mean = sum / n;
    let centre = mean;
    if (options.aggregate === "median") {
      const part = scratch.subarray(0, n).sort();
      const mid = n >> 1;
      centre = n % 2 === 1 ? (part[mid] as number) : ((part[mid - 1] as number) + (part[mid] as number)) / 2;
    }
    let low = centre;
    let high = centre;
    if (options.band === "minmax") {
      low = min;
      high = max;
    } else if (options.band === "std") {
      let squares = 0;
      for (let k = 0; k < n; k++) squares += ((scratch[k] as number) - mean) ** 2;
      // Population deviation around the mean: one run has a zero-width band, as W&B draws it.
      const std = Math.sqrt(squares / n);
      low = centre - std;
      high = centre + std;
    }
    x[out] = exact ? (union[c] as number) : (xSum[c] as number) / (xCount[c] as number);
    values[out] = centre;
    lo[out] = low;
    hi[out] = high;
    counts[out] = n;
    out++;
  }
  return { x: x.slice(0, out), values: values.slice(0, out), lo: lo.slice(0, out), hi: hi.slice(0, out), counts: counts.slice(0, out) };
}

function empty(): GroupSeries {
  return { x: new Float64Array(0), values: new Float64Array(0), lo: new Float64Array(0), hi: new Float64Array(0), counts: new Uint32Array(0) };
}

/** The sorted distinct finite x values of all the series. */
function unionOf(series: readonly { x: NumArray }[], total: number): Float64Array {
  // The usual case without a sort: every run logged the longest run's steps (or the first of them).
  let longest = series[0]?.x ?? [];
  for (const s of series) if (s.x.length > longest.length) longest = s.x;
  let shared = true;
  for (const s of series) {
    for (let i = 0; i < s.x.length && shared; i++) shared = s.x[i] === longest[i];
    if (!shared) break;
  }
  let ascending = true;
  for (let i = 1; i < longest.length && ascending; i++) ascending = (longest[i] as number) > (longest[i - 1] as number);
  if (shared && ascending) {
    const out = new Float64Array(longest.length);
    let n = 0;
    for (let i = 0; i < longest.length; i++) {
      const x = longest[i] as number;
      if (Number.isFinite(x)) out[n++] = x;
    }
    return out.slice(0, n);
  }
  const all = new Float64Array(total);
  let o = 0;
  for (const s of series) {
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i] as number;
      if (Number.isFinite(x)) all[o++] = x;
    }
  }
  const sorted = all.subarray(0, o).sort();
  let n = 0;
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i] as number;
    if (n === 0 || sorted[n - 1] !== v) sorted[n++] = v;
  }
  return sorted.slice(0, n);
}

/** A group as drawn: its name, colour and runs. */
export interface RunGroup {
  key: string;
  color: string;
  runs: { id: string; label: string }[];
}

/** Groups of drawn runs, each coloured by its name (so a group keeps its colour as runs come and go). */
export function runGroups<T extends { id: string; label: string }>(runs: readonly T[], keysOf: (run: T) => string[]): RunGroup[] {
  const groups = groupBy(runs, keysOf);
  const colors = runColors(groups.map(([key]) => `group:${key}`));
  return groups.map(([key, list]) => ({ key, color: colors.get(`group:${key}`) as string, runs: list }));
}

/**
 * One chart line per group for one metric: the aggregate as the line, the band as its min/max. A
 * group none of whose runs has points is left out.
 */
export function groupedLines(groups: readonly RunGroup[], seriesOf: (runId: string) => SeriesData | null | undefined, options: AggregateOptions & { label: string; describe: (runs: string[]) => string }): LineInput[] {
  const lines: LineInput[] = [];
  for (const group of groups) {
    const members: SeriesData[] = [];
    const labels: string[] = [];
    for (const run of group.runs) {
      const s = seriesOf(run.id);
      if (!s || s.x.length === 0) continue;
      members.push(s);
      labels.push(run.label);
    }
    const g = aggregateSeries(members, options);
    if (g.x.length === 0) continue;
    const series: SeriesData = { run: `group:${group.key}`, key: members[0]?.key ?? "", downsampled: members.some((m) => m.downsampled), count: g.x.length, x: g.x, values: g.values, min: g.lo, max: g.hi };
    lines.push({ id: `group:${group.key}`, label: group.key, color: group.color, series, group: { aggregate: options.label, runs: labels, text: options.describe(labels), band: options.band !== "none" } });
  }
  return lines;
}
