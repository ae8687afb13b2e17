/**
 * Charts as SVG files, drawn by ECharts' SVG renderer without a DOM ("server-side rendering" mode).
 * Loaded only when someone exports a picture, so the renderer is not in any page's first load.
 */
import { LineChart } from "echarts/charts";
import { GridComponent, LegendComponent, TitleComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { SVGRenderer } from "echarts/renderers";
import { echartsTheme } from "./echartsTheme";
import type { ChartData } from "./series";
import { chartColors, type Theme } from "./theme";

echarts.use([LineChart, GridComponent, LegendComponent, TitleComponent, SVGRenderer]);

type Option = Parameters<ReturnType<typeof echarts.init>["setOption"]>[0];

/** Any ECharts option (the charts in lib/echarts.ts are registered with it) as an SVG document. */
export function optionSvg(option: Option, theme: Theme, width: number, height: number): string {
  const chart = echarts.init(null, echartsTheme(theme), { renderer: "svg", ssr: true, width, height });
  try {
    chart.setOption({ ...option, animation: false, backgroundColor: chartColors().bg });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

export interface LineSvgOptions {
  title: string;
  xLabel: string;
  logY: boolean;
  theme: Theme;
  width: number;
  height: number;
}

/** A line chart's data (lib/series.ts) drawn as ECharts lines: the same points and colours as on the page. */
export function lineChartSvg(chart: ChartData, o: LineSvgOptions): string {
  const xs = chart.data[0] as ArrayLike<number>;
  const series = chart.lines.map((line) => {
    const ys = chart.data[line.line] as ArrayLike<number | null>;
    const data: [number, number][] = [];
    for (let i = 0; i < xs.length; i++) {
      const y = ys[i];
      if (y != null) data.push([xs[i] as number, y]);
    }
    return { type: "line" as const, name: line.label, data, showSymbol: false, color: line.color, lineStyle: { width: line.emphasis ? 3 : 1.6 } };
  });
  const option: Option = {
    title: { text: o.title, left: 8, top: 4, textStyle: { fontSize: 13, fontFamily: "monospace" } },
    legend: { type: "plain", bottom: 0, data: series.map((s) => s.name) },
    grid: { left: 60, right: 20, top: 36, bottom: 56 },
    xAxis: { type: "value", name: o.xLabel, nameLocation: "middle", nameGap: 24, scale: true },
    yAxis: { type: o.logY ? "log" : "value", scale: true },
    series,
  };
  return optionSvg(option, o.theme, o.width, o.height);
}
