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

/** The chart's canvas on the page's background (uPlot's own canvas is transparent), as a PNG blob. */
export function canvasPng(source: HTMLCanvasElement, background: string): Promise<Blob> {
  const out = document.createElement("canvas");
  out.width = source.width;
  out.height = source.height;
  const ctx = out.getContext("2d");
  if (!ctx) return Promise.reject(new Error("no 2d canvas"));
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(source, 0, 0);
  return new Promise((resolve, reject) => out.toBlob((b) => (b ? resolve(b) : reject(new Error("toBlob failed"))), "image/png"));
}
