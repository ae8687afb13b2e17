/**
 * An ECharts theme made from the page's colours (lib/theme.ts reads them from the stylesheet), so
 * axes, grid lines, legends and tooltips follow the light or dark theme. ECharts takes a theme only
 * when a chart is created: the charts re-create themselves when the theme changes.
 */
import { registerTheme } from "echarts/core";
import { chartColors, type Theme } from "./theme";

/** Registers the theme for the page's colours now and returns its name for `echarts.init`. */
export function echartsTheme(theme: Theme): string {
  const c = chartColors();
  const axis = {
    axisLine: { lineStyle: { color: c.axis } },
    axisTick: { lineStyle: { color: c.axis } },
    axisLabel: { color: c.muted },
    splitLine: { lineStyle: { color: [c.grid] } },
    nameTextStyle: { color: c.muted },
  };
  const name = `wakelog-${theme}`;
  registerTheme(name, {
    backgroundColor: "transparent",
    textStyle: { color: c.text },
    title: { textStyle: { color: c.text }, subtextStyle: { color: c.muted } },
    legend: { textStyle: { color: c.text }, inactiveColor: c.axis, pageTextStyle: { color: c.muted } },
    tooltip: { backgroundColor: c.bg, borderColor: c.axis, textStyle: { color: c.text } },
    visualMap: { textStyle: { color: c.text } },
    categoryAxis: axis,
    valueAxis: axis,
    logAxis: axis,
    timeAxis: axis,
    graph: { label: { color: c.text } },
  });
  return name;
}
