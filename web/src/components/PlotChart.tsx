/**
 * Custom charts (`wakelog.plot.*`, `plot_table`, `wakelog.sklearn`): the chart's table file drawn by
 * its preset (`wandb/line/v0`, ...) with ECharts, the preset's fields naming the table's columns.
 * Presets this app does not know fall back to the table itself.
 */
import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import type { RunRef } from "../api/types";
import type { TableJson } from "../lib/tables";
import { EChart } from "./EChart";
import { MediaTable } from "./MediaTable";
import { useTableFiles } from "./TableStubs";

type Stub = Record<string, unknown>;
type Option = Parameters<typeof EChart>[0]["option"];
type Row = unknown[];

/** Stubs written before charts carried a preset id named their kind instead. */
const OLD_KINDS: Record<string, string> = {
  line: "wandb/line/v0",
  scatter: "wandb/scatter/v0",
  bar: "wandb/bar/v0",
  histogram: "wandb/histogram/v0",
  confusion_matrix: "wandb/confusion_matrix/v1",
};

function specOf(stub: Stub): string {
  if (typeof stub.spec === "string") return stub.spec;
  return OLD_KINDS[String(stub.chart)] ?? "";
}

function num(value: unknown): number {
  return typeof value === "number" ? value : Number(value);
}

/** Rows grouped by the text of one column (all in one group when there is none), in first-seen order. */
function groups(rows: Row[], by: number): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  for (const row of rows) {
    const name = by < 0 ? "" : String(row[by]);
    const list = out.get(name);
    if (list) list.push(row);
    else out.set(name, [row]);
  }
  return out;
}

interface Axes {
  x: string;
  y: string;
  title?: string;
}

function base(axes: Axes, legend: boolean): Record<string, unknown> {
  return {
    animation: false,
    title: axes.title ? { text: axes.title, left: "center", textStyle: { fontSize: 13 } } : undefined,
    tooltip: { trigger: "item" },
    legend: legend ? { bottom: 0, type: "scroll" } : undefined,
    grid: { left: 60, right: 24, top: axes.title ? 44 : 30, bottom: legend ? 70 : 45 }, // room for the y-axis name above the plot
    xAxis: { type: "value", name: axes.x, nameLocation: "middle", nameGap: 26, scale: true },
    yAxis: { type: "value", name: axes.y, scale: true },
  };
}

/** One line per group (`split` column), each sorted by x. */
function lines(rows: Row[], x: number, y: number, split: number, axes: Axes, area: boolean): Option {
  const series = [...groups(rows, split)].map(([name, list]) => ({
    type: "line" as const,
    name: name || axes.y,
    showSymbol: list.length < 60,
    areaStyle: area ? { opacity: 0.12 } : undefined,
    data: list.map((r) => [num(r[x]), num(r[y])]).sort((a, b) => (a[0] as number) - (b[0] as number)),
  }));
  return { ...base(axes, split >= 0), series };
}

function scatter(rows: Row[], x: number, y: number, axes: Axes): Option {
  return { ...base(axes, false), series: [{ type: "scatter" as const, name: axes.y, symbolSize: 6, data: rows.map((r) => [num(r[x]), num(r[y])]) }] };
}

function bars(rows: Row[], label: number, value: number, axes: Axes): Option {
  return {
    ...base(axes, false),
    xAxis: { type: "category", data: rows.map((r) => String(r[label])), name: axes.x, nameLocation: "middle", nameGap: 26, axisLabel: { interval: 0, rotate: rows.length > 8 ? 40 : 0 } },
    yAxis: { type: "value", name: axes.y },
    series: [{ type: "bar" as const, name: axes.y, data: rows.map((r) => num(r[value])) }],
  };
}

/** Bars of `value` per `label` category, one colour per `split` group (wandb's metrics and class proportions). */
function groupedBars(rows: Row[], label: number, value: number, split: number, axes: Axes): Option {
  const categories = [...new Set(rows.map((r) => String(r[label])))];
  const series = [...groups(rows, split)].map(([name, list]) => {
    const byCategory = new Map(list.map((r) => [String(r[label]), num(r[value])]));
    return { type: "bar" as const, name: name || axes.y, data: categories.map((c) => byCategory.get(c) ?? 0) };
  });
  return {
    ...base(axes, true),
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: categories, name: axes.x, nameLocation: "middle", nameGap: 26, axisLabel: { interval: 0, rotate: categories.length > 8 ? 40 : 0 } },
    yAxis: { type: "value", name: axes.y },
    series,
  };
}

/** Counts in equal-width bins (about √n of them, 5 to 50) over the finite values. */
function histogram(rows: Row[], value: number, axes: Axes): Option {
  const values = rows.map((r) => num(r[value])).filter(Number.isFinite);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const count = Math.max(5, Math.min(50, Math.ceil(Math.sqrt(values.length))));
  const width = hi > lo ? (hi - lo) / count : 1;
  const counts = new Array<number>(count).fill(0);
  for (const v of values) {
    const i = Math.min(count - 1, Math.floor((v - lo) / width));
    counts[i] = (counts[i] as number) + 1;
  }
  const labels = counts.map((_, i) => (lo + (i + 0.5) * width).toPrecision(3));
  return {
    ...base(axes, false),
    xAxis: { type: "category", data: labels, name: axes.x, nameLocation: "middle", nameGap: 26 },
    yAxis: { type: "value" },
    series: [{ type: "bar" as const, name: axes.x, barCategoryGap: "2%", data: values.length ? counts : [] }],
  };
}

function confusion(rows: Row[], actual: number, predicted: number, count: number, axes: Axes): Option {
  const classes = [...new Set(rows.flatMap((r) => [String(r[actual]), String(r[predicted])]))];
  const index = new Map(classes.map((c, i) => [c, i]));
  const data = rows.map((r) => [index.get(String(r[predicted])) ?? 0, index.get(String(r[actual])) ?? 0, num(r[count]) || 0]);
  const max = Math.max(1, ...data.map((d) => d[2] as number));
  return {
    animation: false,
    title: axes.title ? { text: axes.title, left: "center", textStyle: { fontSize: 13 } } : undefined,
    tooltip: {},
    grid: { left: 90, right: 20, top: axes.title ? 40 : 20, bottom: 60 },
    xAxis: { type: "category", data: classes, name: axes.x, nameLocation: "middle", nameGap: 30 },
    yAxis: { type: "category", data: classes, name: axes.y, inverse: true },
    visualMap: { min: 0, max, show: false, inRange: { color: ["#f7fbff", "#6baed6", "#08306b"] } },
    series: [{ type: "heatmap" as const, name: "nPredictions", data, label: { show: classes.length <= 12 } }],
  };
}

/** The ECharts option for a preset, or null when the preset (or a field it needs) is unknown. */
export function chartOption(spec: string, table: TableJson, fields: Record<string, string>, strings: Record<string, unknown>): Option | null {
  const col = (field: string) => (fields[field] === undefined ? -1 : table.columns.indexOf(fields[field]));
  const text = (key: string, fallback: string) => (typeof strings[key] === "string" ? (strings[key]) : fallback);
  const title = text("title", "");
  const name = (field: string) => fields[field] ?? field;
  const rows = table.data;
  const need = (...names: string[]) => names.every((f) => col(f) >= 0);
  switch (spec) {
    case "wandb/line/v0":
    case "wandb/learning_curve/v1":
      return need("x", "y") ? lines(rows, col("x"), col("y"), col("stroke"), { x: name("x"), y: name("y"), title }, false) : null;
    case "wandb/lineseries/v0":
      return need("step", "lineKey", "lineVal") ? lines(rows, col("step"), col("lineVal"), col("lineKey"), { x: text("xname", "x"), y: "", title }, false) : null;
    case "wandb/area-under-curve/v0":
      return need("x", "y") ? lines(rows, col("x"), col("y"), col("class"), { x: text("x-axis-title", name("x")), y: text("y-axis-title", name("y")), title }, true) : null;
    case "wandb/scatter/v0":
      return need("x", "y") ? scatter(rows, col("x"), col("y"), { x: name("x"), y: name("y"), title }) : null;
    case "wandb/bar/v0":
    case "wandb/feature_importances/v1":
      return need("label", "value") ? bars(rows, col("label"), col("value"), { x: name("label"), y: name("value"), title }) : null;
    case "wandb/metrics/v1":
      return need("metric_name", "metric_value") ? groupedBars(rows, col("metric_name"), col("metric_value"), col("model_name"), { x: name("metric_name"), y: name("metric_value"), title }) : null;
    case "wandb/class_proportions/v1":
      return need("class", "count") ? groupedBars(rows, col("class"), col("count"), col("dataset"), { x: name("class"), y: name("count"), title }) : null;
    case "wandb/calibration/v1":
      return need("mean_predicted_value", "fraction_of_positives")
        ? lines(rows, col("mean_predicted_value"), col("fraction_of_positives"), col("model"), { x: "Mean predicted value", y: "Fraction of positives", title }, false)
        : null;
    case "wandb/histogram/v0":
      return need("value") ? histogram(rows, col("value"), { x: name("value"), y: "", title }) : null;
    case "wandb/confusion_matrix/v1":
      return need("Actual", "Predicted", "nPredictions") ? confusion(rows, col("Actual"), col("Predicted"), col("nPredictions"), { x: "Predicted", y: "Actual", title }) : null;
    default:
      return null;
  }
}

/** What the chart was given, per series: for tests and screen readers' `title`. */
function summary(option: Option): string {
  const series = ((option as { series?: { type: string; name?: string; data: unknown[] }[] }).series ?? []).map((s) => ({ type: s.type, name: s.name ?? "", points: s.data.length }));
  return JSON.stringify(series);
}

export default function PlotChart({ stub, runRef, label }: { stub: Stub; runRef: RunRef; label: string }) {
  const { t } = useTranslation();
  const table = stub.table as Stub | undefined;
  const paths = useMemo(() => (table && typeof table.path === "string" ? [table.path] : []), [table]);
  const [loaded] = useTableFiles(runRef, paths);
  const spec = specOf(stub);
  const option = useMemo(() => (loaded ? chartOption(spec, loaded, (stub.fields ?? {}) as Record<string, string>, (stub.string_fields ?? { title: stub.title }) as Record<string, unknown>) : null), [loaded, spec, stub]);
  if (!paths.length) return <p className="muted">{t("plots.noTable")}</p>;
  if (!loaded) return <p role="status">{t("app.loading")}</p>;
  if (!option) return <MediaTable table={loaded} runRef={runRef} label={label} />;
  const title = typeof stub.title === "string" && stub.title ? stub.title : label;
  return (
    <div className="plot-chart" data-spec={spec} data-series={summary(option)}>
      <EChart option={option} height={360} label={t("plots.chart", { title })} />
      <details>
        <summary>{t("plots.data", { rows: loaded.data.length })}</summary>
        <MediaTable table={loaded} runRef={runRef} label={`${label} ${t("plots.dataLabel")}`} />
      </details>
    </div>
  );
}
