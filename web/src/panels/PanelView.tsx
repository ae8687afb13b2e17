/**
 * One report panel of any kind, drawn from a Bundle only (no request of its own: the in-app viewer,
 * the share page and the offline export draw the same thing). Charts reuse the workspace's
 * components: LineChart (with lib/smoothing), ParallelPlot, EChart, DiffTable, Markdown, Importance.
 */
import { useMemo, useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { DiffTable } from "../components/DiffTable";
import { EChart } from "../components/EChart";
import { LineChart } from "../components/LineChart";
import { Markdown } from "../components/Markdown";
import { HistogramRuns } from "./HistogramPanel";
import { xKindOf } from "../components/MetricPanel";
import ParallelPlot from "../components/ParallelPlot";
import { diffRows } from "../lib/diff";
import { formatNumber, formatValue } from "../lib/format";
import { topLevelFor } from "../lib/markdown";
import { groupedLines, groupKeys, runGroups, type Aggregate, type Band } from "../lib/grouping";
import type { LineInput } from "../lib/series";
import { clampAmount, smoothingKindOf, type SmoothingKind } from "../lib/smoothing";
import { ImportanceBody } from "./ImportancePanel";
import { configString, fieldValue, lineMetrics, panelMaxRuns, seriesOf, stringList, summaryNumber, yRangeOf, type PanelData, type ShownRun, type SummaryKind } from "./data";
import type { Bundle, Panel } from "./types";

interface Props {
  bundle: PanelData;
  panel: Panel;
  runs: ShownRun[];
  /** Controls the page adds to the panel's header (comments, edit). */
  tools?: ReactNode;
  /** The title's heading level: that of the report's own sections. */
  level?: 2 | 3 | 4;
  /** Classes added to the panel's own (the workspace's). */
  className?: string;
  /** Drawn instead of the kind's body: the workspace draws line panels from its own history store. */
  body?: ReactNode;
}

export function PanelView({ bundle, panel, runs, tools, level = 3, className = "", body }: Props) {
  const { t } = useTranslation();
  const title = panel.title || t(`reports.kinds.${panel.kind}`);
  const Heading = `h${level}` as const;
  return (
    <section className={`panel report-panel panel-${panel.kind} ${className}`.trim()} data-testid="report-panel" data-kind={panel.kind} data-panel={panel.id} aria-label={title}>
      <header className="panel-head">
        <Heading title={title}>{title}</Heading>
        {tools && <span className="panel-tools">{tools}</span>}
      </header>
      {body ?? <PanelBody bundle={bundle} panel={panel} runs={runs} level={level} />}
    </section>
  );
}

function PanelBody({ bundle, panel, runs, level = 3 }: Omit<Props, "tools" | "className" | "body">) {
  const { t } = useTranslation();
  if (runs.length === 0 && panel.kind !== "markdown") return <p className="muted chart-empty">{t("reports.noRuns")}</p>;
  switch (panel.kind) {
    case "line":
      return <LinePanel bundle={bundle} panel={panel} runs={runs.slice(0, panelMaxRuns(panel) ?? runs.length)} />;
    case "bar":
      return <BarPanel panel={panel} runs={runs} />;
    case "scalar":
      return <ScalarPanel panel={panel} runs={runs} />;
    case "scatter":
    case "parcoords":
      return <PlotPanel panel={panel} runs={runs} />;
    case "media":
      return <MediaPanel bundle={bundle} panel={panel} runs={runs} />;
    case "table":
      return <TablePanel panel={panel} runs={runs} />;
    case "markdown":
      return <Markdown text={configString(panel, "text")} topLevel={topLevelFor(configString(panel, "text"), Math.min(6, level + 1))} />;
    case "comparer":
      return <ComparerPanel panel={panel} runs={runs} />;
    case "importance":
      return <ImportanceBody rating={bundle.importance[panel.id] ?? null} metric={configString(panel, "metric")} />;
    case "histogram":
      return <HistogramRuns histKey={configString(panel, "key")} runs={runs} byRun={new Map(Object.entries(bundle.histograms[panel.id] ?? {}))} />;
    default:
      return <p className="muted">{t("reports.unknownKind", { kind: String((panel as { kind: unknown }).kind) })}</p>;
  }
}

/** A line panel's `smoothing: {kind, weight}` (the weight is the kind's amount: EMA weight, window or σ). */
function smoothingOf(panel: Panel): { kind: SmoothingKind; amount: number } {
  const s = panel.config.smoothing as { kind?: unknown; weight?: unknown } | undefined;
  const kind = smoothingKindOf(s?.kind);
  return { kind, amount: clampAmount(kind, s?.weight) };
}

function LinePanel({ bundle, panel, runs }: { bundle: PanelData; panel: Panel; runs: ShownRun[] }) {
  const { t } = useTranslation();
  const [range, setRange] = useState<[number, number] | null>(null);
  const metrics = lineMetrics(bundle, panel);
  const x = configString(panel, "x", "step");
  const xAxis = x === "step" ? "_step" : x;
  const xLabel = x === "step" ? t("chart.step") : x === "_runtime" ? t("chart.relative") : x === "_timestamp" ? t("chart.wall") : x;
  // Runs of a run set with `group_by` are drawn one line per group (panel config may pick median / another band).
  const groups = useMemo(() => runGroups(runs.filter((r) => r.groupBy), (r) => groupKeys(r.groupBy ?? "", r.run)), [runs]);
  const aggregate: Aggregate = panel.config.aggregate === "median" ? "median" : "mean";
  const band: Band = panel.config.band === "std" || panel.config.band === "none" ? panel.config.band : "minmax";
  const aggregation = { aggregate, band, label: t(aggregate === "median" ? "chart.median" : "chart.mean") };
  const smoothing = smoothingOf(panel);
  if (metrics.length === 0) return <p className="muted chart-empty">{t("chart.noData")}</p>;
  return (
    <>
      {metrics.map((metric) => {
        const describe = (names: string[]) => t("chart.groupRuns", { count: names.length, runs: names.join(", ") });
        const grouped = groupedLines(groups, (id) => seriesOf(bundle, panel.id, id, metric), { ...aggregation, describe });
        const lines: LineInput[] = grouped.map((l) => (metrics.length > 1 ? { ...l, label: `${l.label} · ${metric}` } : l));
        for (const run of runs) {
          if (run.groupBy) continue;
          const series = seriesOf(bundle, panel.id, run.id, metric);
          if (series) lines.push({ id: run.id, label: metrics.length > 1 ? `${run.label} · ${metric}` : run.label, color: run.color, series });
        }
        if (lines.length === 0) return null;
        return (
          <div key={metric} data-metric={metric}>
            {metrics.length > 1 && <p className="muted small">{metric}</p>}
            <LineChart
              lines={lines}
              smoothing={smoothing.amount}
              smoothKind={smoothing.kind}
              yScale={yRangeOf(panel) ?? { min: null, max: null, outliers: false }}
              logY={panel.config.log_y === true}
              xKind={xKindOf(xAxis)}
              xLabel={xLabel}
              range={range}
              onZoom={setRange}
              height={220}
              label={t("chart.panelFor", { key: metric })}
            />
          </div>
        );
      })}
    </>
  );
}

function summaryKind(panel: Panel): SummaryKind {
  const s = panel.config.summary;
  return s === "min" || s === "max" || s === "mean" ? s : "last";
}

function BarPanel({ panel, runs }: { panel: Panel; runs: ShownRun[] }) {
  const { t } = useTranslation();
  const metric = configString(panel, "metric");
  const kind = summaryKind(panel);
  const bars = runs.map((r) => ({ r, v: summaryNumber(r.run, metric, kind) })).filter((b) => b.v !== null);
  const option = useMemo(
    () => ({
      animation: false,
      grid: { left: 110, right: 24, top: 10, bottom: 30 },
      tooltip: { trigger: "item" as const },
      xAxis: { type: "value" as const, scale: false },
      yAxis: { type: "category" as const, data: bars.map((b) => b.r.label), axisLabel: { width: 100, overflow: "truncate" as const } },
      series: [{ type: "bar" as const, data: bars.map((b) => ({ value: b.v, itemStyle: { color: b.r.color } })) }],
    }),
    [bars],
  );
  if (bars.length === 0) return <p className="muted chart-empty">{t("chart.noData")}</p>;
  return <EChart option={option} height={Math.max(120, 36 * bars.length + 40)} label={t("chart.panelFor", { key: metric })} />;
}

function ScalarPanel({ panel, runs }: { panel: Panel; runs: ShownRun[] }) {
  const metric = configString(panel, "metric");
  const kind = summaryKind(panel);
  return (
    <ul className="scalar-list">
      {runs.map((r) => {
        const v = summaryNumber(r.run, metric, kind);
        return (
          <li key={r.id}>
            <span className="scalar-value" data-testid="scalar-value">
              {v === null ? "–" : formatNumber(v)}
            </span>
            <span className="muted small">
              <span className="swatch" style={{ background: r.color }} aria-hidden="true" /> {r.label} · {metric}
              {kind !== "last" ? ` (${kind})` : ""}
            </span>
          </li>
        );
      })}
    </ul>
  );
}

/** `config.<key>` → `config:<key>`, anything else a summary metric: ParallelPlot's axis ids. */
function axisId(field: string): string {
  return field.startsWith("config.") ? `config:${field.slice(7)}` : `summary:${field}`;
}

function PlotPanel({ panel, runs }: { panel: Panel; runs: ShownRun[] }) {
  const fields = panel.kind === "scatter" ? [configString(panel, "x"), configString(panel, "y")].filter(Boolean) : stringList(panel.config.axes);
  const configKeys = fields.filter((f) => f.startsWith("config.")).map((f) => f.slice(7));
  const metricKeys = fields.filter((f) => !f.startsWith("config."));
  const colors = new Map(runs.map((r) => [r.id, r.color]));
  const plotRuns = runs.map((r) => ({ id: r.id, name: r.label, config: r.run.config, summary: r.run.summary }));
  return (
    <ParallelPlot
      runs={plotRuns}
      selected={new Set(colors.keys())}
      configKeys={configKeys}
      metricKeys={metricKeys}
      part={panel.kind === "scatter" ? "scatter" : "parallel"}
      colorOf={(id) => colors.get(id) ?? "#1f77b4"}
      scatterAxes={fields.length === 2 ? [axisId(fields[0] as string), axisId(fields[1] as string)] : undefined}
    />
  );
}

function MediaPanel({ bundle, panel, runs }: { bundle: PanelData; panel: Panel; runs: ShownRun[] }) {
  const { t } = useTranslation();
  const byRun = bundle.media[panel.id] ?? {};
  const shown = runs.filter((r) => byRun[r.id]);
  if (shown.length === 0) return <p className="muted chart-empty">{t("chart.noData")}</p>;
  return (
    <div className="report-media">
      {shown.map((r) => {
        const entry = byRun[r.id] as { step: number; items: Bundle["media"][string][string]["items"] };
        return (
          <figure key={r.id}>
            <figcaption>
              <span className="swatch" style={{ background: r.color }} aria-hidden="true" /> {r.label} · {t("chart.step")} {entry.step}
            </figcaption>
            <div className="media-grid">
              {entry.items.map((item, i) => {
                const caption = item.caption ?? configString(panel, "key");
                if (!item.url_or_data) return null;
                if (item.type === "image") return <img key={i} src={item.url_or_data} alt={caption} title={caption} />;
                if (item.type === "video") return <video key={i} src={item.url_or_data} controls aria-label={caption} />;
                if (item.type === "audio") return <audio key={i} src={item.url_or_data} controls aria-label={caption} />;
                return (
                  <a key={i} href={item.url_or_data} download>
                    {caption}
                  </a>
                );
              })}
            </div>
          </figure>
        );
      })}
    </div>
  );
}

function TablePanel({ panel, runs }: { panel: Panel; runs: ShownRun[] }) {
  const { t } = useTranslation();
  const columns = stringList(panel.config.columns);
  const cols = columns.length > 0 ? columns : ["name", "state"];
  return (
    <div className="table-scroll">
      <table className="grid-table" data-testid="report-table">
        <thead>
          <tr>
            {cols.map((c) => (
              <th scope="col" key={c}>
                {c === "name" ? t("columns.name") : c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.id}>
              {cols.map((c) => (
                <td key={c}>
                  {c === "name" && <span className="swatch" style={{ background: r.color }} aria-hidden="true" />} {formatValue(fieldValue(r.run, c))}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ComparerPanel({ panel, runs }: { panel: Panel; runs: ShownRun[] }) {
  const fields = stringList(panel.config.fields);
  const visible = (values: Record<string, unknown>) => Object.fromEntries(Object.entries(values).filter(([k]) => !k.startsWith("_")));
  const rows = diffRows(runs.map((r) => ({ config: visible(r.run.config), summary: visible(r.run.summary) }))).filter(
    (row) => fields.length === 0 || fields.some((f) => row.key === f || row.key.startsWith(`${f}.`)),
  );
  const columns = runs.map((r) => ({ id: r.id, color: r.color, head: r.label }));
  return (
    <div className="table-scroll">
      <DiffTable columns={columns} rows={rows} onlyDiff={false} testId="report-comparer" />
    </div>
  );
}
