import { describe, expect, it } from "vitest";
import { firstRuns, optionsFromParams, outlierRange, panelOptions, parsePanelOptions } from "../src/lib/chartOptions";
import { parseLayout } from "../src/lib/panels";
import { buildChartData, type LineInput } from "../src/lib/series";

function line(id: string, values: number[]): LineInput {
  const x = Float64Array.from(values, (_, i) => i);
  const v = Float64Array.from(values);
  return { id, label: id, color: "#000", series: { run: id, key: "m", downsampled: false, count: v.length, x, values: v, min: v, max: v } };
}

describe("outlierRange", () => {
  it("is the 5th–95th percentile of the drawn points, across runs", () => {
    // 0..99 in one run, 100..199 in another: 200 points, percentiles at ranks 10 and 189.
    const a = Array.from({ length: 100 }, (_, i) => i);
    const b = Array.from({ length: 100 }, (_, i) => 100 + i);
    const chart = buildChartData([line("a", a), line("b", b)], { smoothing: 0, logY: false });
    expect(outlierRange(chart)).toEqual([10, 189]);
  });

  it("leaves a spike out of the range and ignores missing points", () => {
    const values = [...new Array<number>(99).fill(1), 1e6];
    values[3] = NaN;
    const chart = buildChartData([line("a", values)], { smoothing: 0, logY: false });
    expect(outlierRange(chart)).toEqual([1, 1]);
  });

  it("uses the smoothed line, not the faded raw one", () => {
    const chart = buildChartData([line("a", [0, 10, 0, 10, 0, 10, 0, 10])], { smoothing: 4, smoothKind: "average", logY: false });
    const [lo, hi] = outlierRange(chart, [0, 1]) ?? [NaN, NaN];
    expect(lo).toBe(0);
    expect(hi).toBeLessThan(10);
  });

  it("is null without points", () => {
    expect(outlierRange(buildChartData([], { smoothing: 0, logY: false }))).toBeNull();
  });
});

describe("options", () => {
  it("reads the workspace's URL with defaults and clamps", () => {
    expect(optionsFromParams({})).toEqual({ smoothKind: "ema", smoothing: 0, outliers: false, yMin: null, yMax: null, logY: false, xAxis: "" });
    const o = optionsFromParams({ smoothk: "gaussian", smooth: "500", outliers: "1", ymin: "-1", ymax: "abc", log: "1", x: "epoch" });
    expect(o).toEqual({ smoothKind: "gaussian", smoothing: 30, outliers: true, yMin: -1, yMax: null, logY: true, xAxis: "epoch" });
    expect(optionsFromParams({ smoothk: "bogus", smooth: "0.5" }).smoothKind).toBe("ema");
  });

  it("lets a panel override field by field, re-clamping the amount for its kind", () => {
    const ws = optionsFromParams({ smooth: "0.9", ymin: "0" });
    const merged = panelOptions(ws, { smoothKind: "average", outliers: true });
    expect(merged).toMatchObject({ smoothKind: "average", smoothing: 1, outliers: true, yMin: 0 });
    expect(panelOptions(ws, undefined)).toBe(ws);
  });

  it("parses a panel's saved options defensively", () => {
    expect(parsePanelOptions({ smoothKind: "gaussian", smoothing: 99, outliers: "yes", yMin: null, yMax: 3, logY: true, xAxis: 5, extra: 1 })).toEqual({
      smoothKind: "gaussian",
      smoothing: 30,
      yMin: null,
      yMax: 3,
      logY: true,
    });
    for (const bad of [null, 3, "x", [1, 2]]) expect(parsePanelOptions(bad)).toEqual({});
  });

  it("keeps the layout's options through parseLayout, dropping bad panels", () => {
    const layout = parseLayout({ removed: [], added: [], sizes: {}, options: { loss: { outliers: true }, acc: "bad", lr: { nope: 1 } } });
    expect(layout?.options).toEqual({ loss: { outliers: true } });
    expect(parseLayout({ removed: [], options: [1] })?.options).toBeUndefined();
    expect(parseLayout({})?.options).toBeUndefined();
  });
});

describe("firstRuns", () => {
  const table = [{ id: "a" }, { id: "b" }, { id: "c" }, { id: "d" }];
  it("keeps the first N shown runs in the table's order", () => {
    const shown = [{ id: "d" }, { id: "b" }, { id: "x" }, { id: "a" }];
    expect(firstRuns(shown, table, 2).map((r) => r.id)).toEqual(["a", "b"]);
    expect(firstRuns(shown, table, 4).map((r) => r.id)).toEqual(["d", "b", "x", "a"]);
    expect(firstRuns(shown, table, null)).toBe(shown);
    expect(firstRuns(shown, table, 3).map((r) => r.id)).toEqual(["a", "b", "d"]);
  });
});
