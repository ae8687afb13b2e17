/**
 * The pure part of drawing a report: which runs a panel block shows and in which colour, the
 * series, numbers and rows each panel kind reads out of a Bundle, and small edits of a spec.
 */
import type { Aggregate, Band } from "../lib/grouping";
import { runColors } from "../lib/colors";
import { toNumber } from "../lib/format";
import { configValue } from "../lib/runs";
import { toNumbers, type SeriesData } from "../lib/series";
import { smoothingOn, type SmoothingKind } from "../lib/smoothing";
import type { Block, Bundle, BundleRun, Panel, PanelKind, PanelsBlock, ReportSpec, RunSet } from "./types";

/** What a panel reads of a Bundle besides its runs: line series, media, importance ratings and
 * histogram steps (the workspace draws the kinds that need none of them without one, and fetches
 * its importance ratings and histogram steps itself). */
export type PanelData = Pick<Bundle, "series" | "media" | "importance" | "histograms">;

export interface ShownRun {
  id: string;
  label: string;
  color: string;
  run: BundleRun;
  /** Its run set's `group_by` (line panels draw one line per group), or null. */
  groupBy: string | null;
}

/** The runs of a panel block: each run set's resolved runs minus its hidden ones, once each, in
 * set order, coloured by the set's override, else the bundle's colour, else a distinct palette one. */
export function blockRuns(bundle: Bundle, block: PanelsBlock): ShownRun[] {
  const seen = new Set<string>();
  const picked: { id: string; set: RunSet }[] = [];
  for (const set of block.runsets) {
    const hidden = new Set(set.hidden);
    for (const id of bundle.runsets[set.id] ?? []) {
      if (hidden.has(id) || seen.has(id) || !bundle.runs[id]) continue;
      seen.add(id);
      picked.push({ id, set });
    }
  }
  const fallback = runColors(picked.map((p) => p.id));
  return picked.map(({ id, set }) => {
    const run = bundle.runs[id] as BundleRun;
    return { id, label: run.name ?? id, color: set.colors[id] ?? run.color ?? fallback.get(id) ?? "#1f77b4", run, groupBy: set.group_by };
  });
}

/** Whether a metric name matches a pattern with `*` (any run of characters) and `?` (one), or a
 * regular expression written `/…/` (one that does not compile matches nothing). */
export function matchesGlob(pattern: string, name: string): boolean {
  if (pattern.length > 2 && pattern.startsWith("/") && pattern.endsWith("/")) {
    try {
      return new RegExp(pattern.slice(1, -1)).test(name);
    } catch {
      return false;
    }
  }
  if (!/[*?]/.test(pattern)) return pattern === name;
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${source}$`).test(name);
}

/** The metrics a line panel draws: those of its series matching its `metrics` patterns, in pattern order. */
export function lineMetrics(bundle: PanelData, panel: Panel): string[] {
  const patterns = stringList(panel.config.metrics);
  const present = new Set<string>();
  for (const byMetric of Object.values(bundle.series[panel.id] ?? {})) Object.keys(byMetric).forEach((m) => present.add(m));
  const out: string[] = [];
  for (const pattern of patterns) {
    for (const name of [...present].sort()) if (matchesGlob(pattern, name) && !out.includes(name)) out.push(name);
  }
  return out;
}

/** A bundle series as the chart's columnar input (the bundle's points are already downsampled;
 * values are JSON numbers, or "NaN"/"Infinity"/"-Infinity" strings as the history route writes them). */
export function seriesOf(bundle: PanelData, panelId: string, runId: string, metric: string): SeriesData | null {
  const xy = bundle.series[panelId]?.[runId]?.[metric];
  if (!xy || xy.x.length === 0) return null;
  const y = toNumbers(xy.y);
  return { run: runId, key: metric, downsampled: false, count: xy.x.length, x: toNumbers(xy.x), values: y, min: y, max: y };
}

export type SummaryKind = "last" | "min" | "max" | "mean";

/** A run's summary value of a metric as a number: `define_metric` summaries (`{min, max, …}`) give
 * the asked kind, falling back to `last`. */
export function summaryNumber(run: BundleRun, metric: string, kind: SummaryKind = "last"): number | null {
  const value = run.summary[metric];
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const parts = value as Record<string, unknown>;
    return toNumber(parts[kind] ?? parts.last);
  }
  return typeof value === "number" ? (Number.isFinite(value) ? value : null) : toNumber(value);
}

/** A field of a run for scatter and table panels: `config.<key>`, a top-level field (name, state,
 * group, job_type, tags), or a summary metric. */
export function fieldValue(run: BundleRun, field: string): unknown {
  if (field.startsWith("config.")) return configValue(run.config, field.slice("config.".length));
  if (field === "name") return run.name ?? run.id;
  if (field === "state" || field === "group" || field === "job_type") return run[field];
  if (field === "tags") return run.tags.join(", ");
  const summary = summaryNumber(run, field);
  return summary ?? run.summary[field];
}

export function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string" && v !== "") : [];
}

export function configString(panel: Panel, key: string, fallback = ""): string {
  const v = panel.config[key];
  return typeof v === "string" ? v : fallback;
}

/** A fresh id for a block, run set or panel: `[A-Za-z0-9_-]{1,32}` as the contract asks. */
export function newId(prefix: string): string {
  const random = Math.random().toString(36).slice(2, 10);
  return `${prefix}-${random}`.slice(0, 32);
}

/** The config a new panel of a kind starts with. */
export function defaultConfig(kind: PanelKind): Record<string, unknown> {
  switch (kind) {
    case "line":
      return { metrics: [], x: "step" };
    case "bar":
    case "scalar":
      return { metric: "", summary: "last" };
    case "importance":
      return { metric: "" };
    case "scatter":
      return { x: "", y: "" };
    case "parcoords":
      return { axes: [] };
    case "media":
      return { key: "", step: null };
    case "table":
      return { columns: ["name", "state"] };
    case "markdown":
      return { text: "" };
    case "comparer":
      return { fields: [] };
    case "histogram":
      return { key: "" };
  }
}

/** Runs a histogram panel draws when neither it nor the workspace sets a "max runs" (each is a heatmap of its own). */
export const HISTOGRAM_RUNS = 6;

/** A line or histogram panel's own "max runs" (`config.max_runs`, 1–100), or null: the workspace's applies. */
export function panelMaxRuns(panel: Panel): number | null {
  const v = panel.config.max_runs;
  return typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 100 ? v : null;
}

/** The keys the runs logged a `wandb.Histogram` under: their summary holds the last one (`{_type: "histogram"}`), sorted. */
export function histogramKeys(runs: readonly { summary: Record<string, unknown> }[]): string[] {
  const keys = new Set<string>();
  for (const run of runs) {
    for (const [key, value] of Object.entries(run.summary)) {
      if (value !== null && typeof value === "object" && (value as { _type?: unknown })._type === "histogram") keys.add(key);
    }
  }
  return [...keys].sort();
}

/** An empty run set; its name is the caller's, in the reader's language (`reports.newRunSetName`). */
export function newRunSet(name: string, filter = ""): RunSet {
  return { id: newId("rs"), name, filter, runs: null, group_by: null, colors: {}, hidden: [] };
}

/** A line panel's `y_range: [low or null, high or null]` as the chart's y scale; null when it has none. */
export function yRangeOf(panel: Panel): { min: number | null; max: number | null; outliers: false } | null {
  const r = panel.config.y_range;
  const end = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  if (!Array.isArray(r) || (end(r[0]) === null && end(r[1]) === null)) return null;
  return { min: end(r[0]), max: end(r[1]), outliers: false };
}

/** A line panel's config drawing `metric` against the workspace's x axis `xAxis` (`_step` is "step" there). */
export function linePanelConfig(metric: string, xAxis: string): Record<string, unknown> {
  return { metrics: [metric], x: xAxis === "_step" ? "step" : xAxis };
}

/** A report's first draft from the workspace's view: the filter as one run set, each shown chart as a line panel. */
export function draftFromView(
  runSet: RunSet,
  metrics: string[],
  xAxisOf: (metric: string) => string = () => "_step",
  smoothing: number | { kind: SmoothingKind; amount: number } = 0,
  grouping: ViewGrouping | null = null,
): ReportSpec {
  // A bare number is an EMA weight; the panel config keeps the kind and its amount as `{kind, weight}`.
  const smooth = typeof smoothing === "number" ? { kind: "ema" as const, amount: smoothing } : smoothing;
  const smoothLine = smoothingOn(smooth.kind, smooth.amount) ? { smoothing: { kind: smooth.kind, weight: smooth.amount } } : {};
  // The workspace's grouping goes with it: the run set's group_by (`config:lr` is `config.lr` there), each panel's aggregate and band.
  const groupLine = grouping ? { ...(grouping.aggregate !== "mean" ? { aggregate: grouping.aggregate } : {}), ...(grouping.band !== "minmax" ? { band: grouping.band } : {}) } : {};
  const panels: Panel[] = metrics.slice(0, 50).map((m) => {
    return { id: newId("p"), kind: "line", title: m, config: { ...linePanelConfig(m, xAxisOf(m)), ...smoothLine, ...groupLine } };
  });
  if (grouping) runSet.group_by = grouping.by.replace(/^config:/, "config.");
  return { blocks: [{ id: newId("b"), type: "panels", runsets: [runSet], panels }] };
}

/** The workspace's grouping (`?group=`, `?agg=`, `?band=`) as a report draft takes it. */
export interface ViewGrouping {
  by: string;
  aggregate: Aggregate;
  band: Band;
}

/** The blocks with the one at `index` moved by `delta` places (clamped; the same list when it cannot move). */
export function moveItem<T>(list: readonly T[], index: number, delta: number): T[] {
  const to = index + delta;
  if (index < 0 || index >= list.length || to < 0 || to >= list.length) return [...list];
  const out = [...list];
  const [item] = out.splice(index, 1);
  out.splice(to, 0, item as T);
  return out;
}

/** The ids of the runs a spec's panel blocks show that a live batch touched: the dashboard re-fetches only then. */
export function shownRunIds(bundle: Bundle): Set<string> {
  const out = new Set<string>();
  for (const block of bundle.report.spec.blocks) if (block.type === "panels") blockRuns(bundle, block).forEach((r) => out.add(r.id));
  return out;
}

export function isPanels(block: Block): block is PanelsBlock {
  return block.type === "panels";
}

/** Whether a live batch changes what a report shows: a shown run changed or got points, or (for a
 * run set picked by filter) a run was created, or the stream reconnected and anything may have. */
export function needsRefetch(bundle: Bundle, batch: { changed: Set<string>; created: boolean; reconnected: boolean }): boolean {
  if (batch.reconnected) return true;
  const byFilter = bundle.report.spec.blocks.some((b) => b.type === "panels" && b.runsets.some((s) => s.runs === null));
  if (batch.created && byFilter) return true;
  const shown = shownRunIds(bundle);
  for (const id of batch.changed) if (shown.has(id)) return true;
  return false;
}
