import { describe, expect, it } from "vitest";
import { buildChartData, nearestPoint, toNumbers, unionX, type SeriesData } from "../src/lib/series";

function series(run: string, x: number[], values: number[], downsampled = false): SeriesData {
  return { run, key: "loss", downsampled, count: x.length, x, values, min: values.map((v) => v - 1), max: values.map((v) => v + 1) };
}

describe("unionX", () => {
  it("merges, sorts and de-duplicates", () => {
    expect(Array.from(unionX([[0, 2, 4], [1, 2, 3]]))).toEqual([0, 1, 2, 3, 4]);
  });
});

describe("buildChartData", () => {
  it("aligns runs on the union of their x with null gaps", () => {
    const { data, lines } = buildChartData(
      [
        { id: "a", label: "a", color: "#000000", series: series("a", [0, 2], [1, 3]) },
        { id: "b", label: "b", color: "#000000", series: series("b", [1, 2], [5, 6]) },
      ],
      { smoothing: 0, logY: false },
    );
    expect(Array.from(data[0] as Float64Array)).toEqual([0, 1, 2]);
    expect(data[lines[0]!.line]).toEqual([1, null, 3]);
    expect(data[lines[1]!.line]).toEqual([null, 5, 6]);
  });

  it("draws the min/max envelope only for downsampled series", () => {
    const { data, lines } = buildChartData(
      [
        { id: "a", label: "a", color: "#000000", series: series("a", [0, 1], [1, 2], true) },
        { id: "b", label: "b", color: "#000000", series: series("b", [0, 1], [1, 2], false) },
      ],
      { smoothing: 0, logY: false },
    );
    expect(lines[0]!.min).not.toBeNull();
    expect(data[lines[0]!.max as number]).toEqual([2, 3]);
    expect(data[lines[0]!.min as number]).toEqual([0, 1]);
    expect(lines[1]!.min).toBeNull();
    expect(lines[1]!.max).toBeNull();
  });

  it("keeps the raw line beside the smoothed one", () => {
    const { data, lines } = buildChartData(
      [{ id: "a", label: "a", color: "#000000", series: series("a", [0, 1, 2], [0, 10, 0]) }],
      { smoothing: 0.5, logY: false },
    );
    const line = lines[0]!;
    expect(data[line.raw as number]).toEqual([0, 10, 0]);
    const smoothed = data[line.line] as number[];
    expect(smoothed[1]).toBeGreaterThan(0);
    expect(smoothed[1]).toBeLessThan(10);
  });

  it("drops values a log scale cannot show, and non-finite values", () => {
    const { data, lines } = buildChartData(
      [{ id: "a", label: "a", color: "#000000", series: series("a", [0, 1, 2, 3], [0, -1, 5, NaN]) }],
      { smoothing: 0, logY: true },
    );
    expect(data[lines[0]!.line]).toEqual([null, null, 5, null]);
  });

  it("sorts a series whose x axis is another metric", () => {
    const { data, lines } = buildChartData(
      [{ id: "a", label: "a", color: "#000000", series: series("a", [3, 1, 2], [30, 10, 20]) }],
      { smoothing: 0, logY: false },
    );
    expect(Array.from(data[0] as Float64Array)).toEqual([1, 2, 3]);
    expect(data[lines[0]!.line]).toEqual([10, 20, 30]);
  });
});

describe("nearestPoint", () => {
  it("snaps to the closest logged point", () => {
    expect(nearestPoint([null, null, 3, null, null, null, 7], 4)).toBe(2);
    expect(nearestPoint([null, null, 3, null, null, 7], 4)).toBe(5);
    expect(nearestPoint([null, null], 1)).toBeNull();
  });
});

describe("toNumbers", () => {
  it("reads JSON lists with non-finite strings", () => {
    const out = toNumbers([1, "NaN", "Infinity", "-Infinity"]);
    expect(out[0]).toBe(1);
    expect(Number.isNaN(out[1] as number)).toBe(true);
    expect(out[2]).toBe(Infinity);
    expect(out[3]).toBe(-Infinity);
  });

  it("reads little-endian float64 bytes, aligned or not", () => {
    const floats = new Float64Array([1.5, -2]);
    const bytes = new Uint8Array(floats.buffer);
    expect(Array.from(toNumbers(bytes))).toEqual([1.5, -2]);
    const shifted = new Uint8Array(17);
    shifted.set(bytes, 1);
    expect(Array.from(toNumbers(shifted.subarray(1)))).toEqual([1.5, -2]);
  });
});

import { sections, sectionOf } from "../src/lib/panels";

describe("panel sections", () => {
  it("groups metrics by their prefix, unprefixed first", () => {
    expect(sectionOf("train/loss")).toBe("train");
    expect(sectionOf("loss")).toBe("");
    expect(sections(["loss", "train/b", "eval/acc", "train/a"])).toEqual([
      ["", ["loss"]],
      ["eval", ["eval/acc"]],
      ["train", ["train/a", "train/b"]],
    ]);
  });
});
