/**
 * The workspace's view state, all of it in the URL: read here once with its defaults, each list
 * and set rebuilt only when its own parameter changes (so hooks downstream can depend on them).
 */
import { useMemo } from "react";
import { optionsFromParams, type ChartOptions } from "../../lib/chartOptions";
import { NO_GROUPING, type Aggregate, type Band } from "../../lib/grouping";
import { HIDDEN_PARAM, readHiddenValue } from "../../lib/hiddenRuns";
import { parseList, useUrlState } from "../../lib/urlState";

export interface WorkspaceUrl {
  filter: string;
  order: string;
  view: string;
  /** The x axis chosen for every panel; "" (none chosen) draws each metric against its step_metric, else the step. */
  xAxis: string;
  /** Chart legends shown (the default) or not. */
  legend: boolean;
  smoothing: number;
  logY: boolean;
  /** Every panel's chart options (a panel's own override them); xAxis, smoothing and logY are these. */
  chart: ChartOptions;
  /** Only the first N shown runs are drawn (`?maxruns=`); null: all. */
  maxRuns: number | null;
  /** What the table and charts group by ("" none): the URL's `group`, else lib/grouping's default (the Workspace page fills it in). */
  groupBy: string;
  /** `?group=` as written: null when the URL names no grouping, "-" when it turned grouping off. */
  groupParam: string | null;
  /** A group's line when grouped: the mean (default) or median of its runs, with a min–max (default), ±std or no band. */
  aggregate: Aggregate;
  band: Band;
  /** config:… and summary:… columns added to the table. */
  extraColumns: string[];
  /** Base columns taken out of the table. */
  hiddenColumns: Set<string>;
  /** The runs chosen for the charts; null: none chosen (the first rows are shown). */
  explicitSelection: string[] | null;
  /** Selected runs left out of the charts. */
  hidden: Set<string>;
  /** The zoomed x range of the charts. */
  range: [number, number] | null;
  /** The x axis `range` is on: panels drawn against another axis are not zoomed. */
  rangeAxis: string | null;
  setParams: (changes: Record<string, string | null>) => void;
}

function parseRange(xr: string | null): [number, number] | null {
  if (!xr) return null;
  const [a, b] = xr.split(",").map(Number);
  return a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && a < b ? [a, b] : null;
}

function bandOf(band: string | null): Band {
  return band === "std" || band === "none" ? band : "minmax";
}

export function useWorkspaceUrl(): WorkspaceUrl {
  const [params, setParams] = useUrlState();
  const cols = params.get("cols");
  const hide = params.get("hide");
  const sel = params.get("sel");
  const hiddenRaw = params.get(HIDDEN_PARAM);
  const xr = params.get("xr");
  const extraColumns = useMemo(() => parseList(cols) ?? [], [cols]);
  const hiddenColumns = useMemo(() => new Set(parseList(hide) ?? []), [hide]);
  const explicitSelection = useMemo(() => parseList(sel), [sel]);
  const hidden = useMemo(() => readHiddenValue(hiddenRaw), [hiddenRaw]);
  const range = useMemo(() => parseRange(xr), [xr]);
  const [smooth, smoothk, outliers, ymin, ymax, log, x] = ["smooth", "smoothk", "outliers", "ymin", "ymax", "log", "x"].map((k) => params.get(k));
  const chart = useMemo(() => optionsFromParams({ smooth, smoothk, outliers, ymin, ymax, log, x }), [smooth, smoothk, outliers, ymin, ymax, log, x]);
  const maxRuns = Math.floor(Number(params.get("maxruns")));
  return {
    filter: params.get("filter") ?? "",
    order: params.get("order") ?? "",
    view: params.get("view") ?? "split",
    xAxis: chart.xAxis,
    legend: params.get("legend") !== "0",
    smoothing: chart.smoothing,
    logY: chart.logY,
    chart,
    maxRuns: maxRuns >= 1 ? maxRuns : null,
    groupBy: params.get("group") === NO_GROUPING ? "" : (params.get("group") ?? ""),
    groupParam: params.get("group"),
    aggregate: params.get("agg") === "median" ? "median" : "mean",
    band: bandOf(params.get("band")),
    extraColumns,
    hiddenColumns,
    explicitSelection,
    hidden,
    range,
    rangeAxis: params.get("xa"),
    setParams,
  };
}
