/**
 * A line chart's data and pictures for download. The CSV holds the points as drawn (what the server
 * sent for the chart: every point, or its downsampled bins): one row per run and x, the raw value,
 * and the smoothed value beside it when smoothing is on.
 */
import type { ChartData } from "./series";
import type { CsvCell } from "./csv";

export interface ChartCsvLabels {
  run: string;
  id: string;
  x: string;
  value: string;
  smoothed: string;
}

export function chartCsvRows(chart: ChartData, labels: ChartCsvLabels): { header: string[]; rows: CsvCell[][] } {
  const smoothed = chart.lines.some((l) => l.raw !== null);
  const header = [labels.run, labels.id, labels.x, labels.value, ...(smoothed ? [labels.smoothed] : [])];
  const xs = chart.data[0] as ArrayLike<number>;
  const rows: CsvCell[][] = [];
  for (const line of chart.lines) {
    const raw = chart.data[line.raw ?? line.line] as ArrayLike<number | null>;
    const drawn = chart.data[line.line] as ArrayLike<number | null>;
    for (let i = 0; i < xs.length; i++) {
      const v = raw[i];
      if (v == null) continue;
      rows.push(smoothed ? [line.label, line.id, xs[i], v, drawn[i]] : [line.label, line.id, xs[i], v]);
    }
  }
  return { header, rows };
}

/** The chart's canvas under its title, on the page's background (uPlot's own canvas is transparent), as a PNG blob. */
export function canvasPng(source: HTMLCanvasElement, title: string, colors: { bg: string; text: string }): Promise<Blob> {
  const scale = source.width / Math.max(1, source.clientWidth || source.width);
  const head = Math.round(24 * scale);
  const out = document.createElement("canvas");
  out.width = source.width;
  out.height = source.height + head;
  const ctx = out.getContext("2d");
  if (!ctx) return Promise.reject(new Error("no 2d canvas"));
  ctx.fillStyle = colors.bg;
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = colors.text;
  ctx.font = `600 ${Math.round(13 * scale)}px ui-monospace, monospace`;
  ctx.textBaseline = "middle";
  ctx.fillText(title, Math.round(8 * scale), head / 2);
  ctx.drawImage(source, 0, head);
  return new Promise((resolve, reject) => out.toBlob((b) => (b ? resolve(b) : reject(new Error("toBlob failed"))), "image/png"));
}
