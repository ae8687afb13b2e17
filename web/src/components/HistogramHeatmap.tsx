/**
 * A logged `wandb.Histogram` key over steps as a heatmap: steps across, values up, counts as the
 * colour. The run page's media tab and the histogram panel kind (one small multiple per run) draw it.
 */
import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import { EChart } from "./EChart";

/** One step's logged value (a histogram stub `{_type, values, bins}`; anything else is skipped). */
export interface HistogramStep {
  step: number;
  value: unknown;
}

export function HistogramHeatmap({ items, label, height = 300 }: { items: HistogramStep[]; label?: string; height?: number }) {
  const { t } = useTranslation();
  const option = useMemo(() => {
    // Every step's bins are re-binned onto one shared value grid, so steps line up as columns.
    const hists = items
      .map((i) => ({ step: i.step, h: i.value as { values?: number[]; bins?: number[] } }))
      .filter((x) => Array.isArray(x.h.values) && Array.isArray(x.h.bins) && (x.h.bins?.length ?? 0) >= 2);
    let lo = Infinity;
    let hi = -Infinity;
    for (const { h } of hists) {
      const bins = h.bins as number[];
      lo = Math.min(lo, bins[0] as number);
      hi = Math.max(hi, bins[bins.length - 1] as number);
    }
    const rows = 48;
    const width = hi > lo ? (hi - lo) / rows : 1;
    const data: [number, number, number][] = [];
    let max = 0;
    hists.forEach(({ h }, col) => {
      const grid = new Array<number>(rows).fill(0);
      const bins = h.bins as number[];
      (h.values as number[]).forEach((count, i) => {
        const centre = ((bins[i] as number) + (bins[i + 1] as number)) / 2;
        const row = Math.min(rows - 1, Math.max(0, Math.floor((centre - lo) / width)));
        grid[row] = (grid[row] as number) + count;
      });
      grid.forEach((v, row) => {
        if (v > 0) data.push([col, row, v]);
        max = Math.max(max, v);
      });
    });
    return {
      animation: false,
      tooltip: {},
      grid: { left: 70, right: 20, top: 20, bottom: 50 },
      xAxis: { type: "category" as const, data: hists.map((x) => String(x.step)), name: t("run.step"), nameLocation: "middle" as const, nameGap: 30 },
      yAxis: { type: "category" as const, data: Array.from({ length: rows }, (_, r) => (lo + (r + 0.5) * width).toPrecision(3)) },
      visualMap: { min: 0, max: Math.max(1, max), show: false, inRange: { color: ["#f7fbff", "#6baed6", "#08306b"] } },
      series: [{ type: "heatmap" as const, data }],
    };
  }, [items, t]);
  return <EChart option={option} height={height} label={label ? `${t("run.histogram")}: ${label}` : t("run.histogram")} />;
}
