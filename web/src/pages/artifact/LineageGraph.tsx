/**
 * The lineage of an artifact version: runs → artifacts → runs, laid out in columns by lib/lineage.ts
 * (ECharts' graph series draws the positions given; no force simulation), zoomable and draggable,
 * a click opens a node's page. The same nodes follow as a list of links, for the keyboard and
 * screen readers.
 */
import { useEffect, useId, useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { seg } from "../../api/client";
import { artifactLineage } from "../../api/endpoints";
import type { ArtifactVersion, LineageNode } from "../../api/types";
import { errorMessage } from "../../i18n/errors";
import { echarts } from "../../lib/echartsGraph";
import { echartsTheme } from "../../lib/echartsTheme";
import { layoutLineage, nodeTarget, type PlacedNode } from "../../lib/lineage";
import { useTheme } from "../../lib/theme";
import { useApi } from "../../lib/useApi";
import { artifactHref } from "./parts";

const COLUMN_WIDTH = 240;
const ROW_HEIGHT = 34;
const COLORS = { run: "#2f6fd6", artifact: "#1a8f5a", more: "#8a8f98", focus: "#d6452f" };

function shorten(text: string, max = 28): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export default function LineageGraph({ version }: { version: ArtifactVersion }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { entity, project, name } = version;
  const [depth, setDepth] = useState(2);
  const depthId = useId();
  const lineage = useApi(artifactLineage(entity, project, name, version.version, depth));
  const focus = useMemo(() => {
    const nodes = lineage.data?.nodes ?? [];
    const isMe = (n: LineageNode) => {
      const target = n.kind === "artifact" ? nodeTarget(n) : null;
      return target !== null && "name" in target && target.name === name && target.version === version.version;
    };
    return (nodes.find(isMe) ?? nodes.find((n) => n.kind === "artifact"))?.id ?? "";
  }, [lineage.data, name, version.version]);
  const layout = useMemo(() => (lineage.data ? layoutLineage(lineage.data, focus) : null), [lineage.data, focus]);
  const shown = useMemo<ShownNode[]>(
    () => (layout?.nodes ?? []).map((n) => ({ ...n, text: n.kind === "more" ? t("artifacts.more", { count: n.hidden }) : n.label })),
    [layout, t],
  );

  const hrefOf = (node: LineageNode | null): string | null => {
    const target = node ? nodeTarget(node) : null;
    if (!target || !node) return null;
    const e = target.entity ?? entity;
    const p = target.project ?? project;
    return "run" in target ? `/${seg(e)}/${seg(p)}/runs/${seg(target.run)}` : artifactHref(e, p, target.name, target.version);
  };

  if (lineage.error) return <p role="alert" className="error">{t("app.error", { message: errorMessage(lineage.error) })}</p>;
  if (!layout) return <p role="status">{t("app.loading")}</p>;
  return (
    <div data-testid="lineage">
      <div className="chart-controls">
        <label htmlFor={depthId}>{t("artifacts.depth")}</label>
        <select id={depthId} value={depth} onChange={(e) => setDepth(Number(e.target.value))}>
          {[1, 2, 3, 4].map((d) => (
            <option key={d} value={d}>
              {d}
            </option>
          ))}
        </select>
        <span className="muted" role="status" data-testid="lineage-counts">
          {t("artifacts.lineageCounts", { nodes: lineage.data?.nodes.length ?? 0, edges: lineage.data?.edges.length ?? 0 })}
          {layout.folded > 0 && ` · ${t("artifacts.folded", { count: layout.folded })}`}
          {lineage.data?.truncated && ` · ${t("artifacts.truncated")}`}
        </span>
        <span className="legend">
          <span className="swatch" style={{ background: COLORS.run }} aria-hidden="true" /> {t("artifacts.runNode")}{" "}
          <span className="swatch" style={{ background: COLORS.artifact }} aria-hidden="true" /> {t("artifacts.artifactNode")}
        </span>
      </div>
      {layout.nodes.length <= 1 && <p className="muted">{t("artifacts.noLineage")}</p>}
      <GraphCanvas
        nodes={shown}
        edges={layout.edges}
        tallest={layout.tallest}
        focus={focus}
        label={t("artifacts.lineage")}
        onOpen={(node) => {
          const href = hrefOf(node.node);
          if (href) void navigate(href);
        }}
      />
      <details className="lineage-list">
        <summary>{t("artifacts.lineageList")}</summary>
        <ul>
          {shown
            .slice()
            .sort((a, b) => a.column - b.column || a.row - b.row)
            .map((n) => {
              const href = hrefOf(n.node);
              return (
                <li key={n.id} data-kind={n.kind}>
                  <span className="muted small">{n.kind === "more" ? "" : t(n.kind === "run" ? "artifacts.runNode" : "artifacts.artifactNode")} </span>
                  {href ? <Link to={href}>{n.text}</Link> : n.text}
                </li>
              );
            })}
        </ul>
      </details>
    </div>
  );
}

type ShownNode = PlacedNode & { text: string };

interface CanvasProps {
  nodes: ShownNode[];
  edges: { from: string; to: string }[];
  tallest: number;
  focus: string;
  label: string;
  onOpen: (node: PlacedNode) => void;
}

function GraphCanvas({ nodes, edges, tallest, focus, label, onOpen }: CanvasProps) {
  const ref = useRef<HTMLDivElement>(null);
  const open = useRef(onOpen);
  open.current = onOpen;
  const height = Math.min(900, Math.max(260, tallest * ROW_HEIGHT + 80));
  const theme = useTheme();
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const chart = echarts.init(el, echartsTheme(theme), { renderer: "canvas" });
    const colorOf = (n: PlacedNode) => (n.id === focus ? COLORS.focus : COLORS[n.kind]);
    chart.setOption({
      animation: false,
      tooltip: { formatter: (p: { dataType?: string; data?: { full?: string } }) => (p.dataType === "node" ? (p.data?.full ?? "") : "") },
      series: [
        {
          type: "graph",
          layout: "none",
          roam: true,
          draggable: true,
          edgeSymbol: ["none", "arrow"],
          edgeSymbolSize: 7,
          lineStyle: { color: "#9aa3ad", width: 1, opacity: 0.7, curveness: 0.15 },
          emphasis: { focus: "adjacency", lineStyle: { width: 2 } },
          label: { show: true, position: "right", fontSize: 11 },
          data: nodes.map((n) => ({
            id: n.id,
            name: n.id,
            full: n.text,
            x: n.column * COLUMN_WIDTH,
            y: n.row * ROW_HEIGHT,
            symbol: n.kind === "run" ? "roundRect" : n.kind === "more" ? "rect" : "circle",
            symbolSize: n.id === focus ? 18 : n.kind === "run" ? [16, 12] : 12,
            itemStyle: { color: colorOf(n) },
            label: { formatter: () => shorten(n.text), fontWeight: n.id === focus ? "bold" : "normal" },
          })),
          links: edges.map((e) => ({ source: e.from, target: e.to })),
        },
      ],
    });
    chart.on("click", (p) => {
      const params = p as { dataType?: string; dataIndex: number };
      const node = nodes[params.dataIndex];
      if (params.dataType === "node" && node) open.current(node);
    });
    const observer = new ResizeObserver(() => chart.resize());
    observer.observe(el);
    return () => {
      observer.disconnect();
      chart.dispose();
    };
  }, [nodes, edges, focus, theme]);
  return <div ref={ref} style={{ height, width: "100%" }} role="img" aria-label={label} className="echart lineage-canvas" data-testid="lineage-canvas" />;
}
