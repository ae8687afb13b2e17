import { describe, expect, it } from "vitest";
import { clampAmount, emaDebiased, gaussian, gaussianWeights, runningAverage, smooth, smoothingOn } from "../src/lib/smoothing";

describe("emaDebiased", () => {
  it("returns the values unchanged at weight 0", () => {
    expect(emaDebiased([1, 2, 3], 0)).toEqual([1, 2, 3]);
  });

  it("is not pulled towards zero at the start (debiased)", () => {
    const out = emaDebiased([10, 10, 10, 20], 0.9);
    expect(out[0]).toBe(10);
    expect(out[2]).toBe(10);
  });

  it("matches the debiased EMA formula", () => {
    const w = 0.6;
    const values = [1, 5, 2, 8];
    let last = 0;
    const expected = values.map((v, i) => {
      last = last * w + (1 - w) * v;
      return last / (1 - Math.pow(w, i + 1));
    });
    const out = emaDebiased(values, w);
    out.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 12));
  });

  it("skips missing and non-finite points without counting them", () => {
    const out = emaDebiased([2, null, NaN, 4], 0.5);
    expect(out[1]).toBeNull();
    expect(Number.isNaN(out[2])).toBe(true);
    // two finite points: (0.5*0.5*2... ) debiased over n=2
    const last = (0.5 * (0.5 * 2) + 0.5 * 4);
    expect(out[3]).toBeCloseTo(last / (1 - 0.25), 12);
  });

  it("lags behind a step change and converges to it", () => {
    const values = [...new Array<number>(50).fill(0), ...new Array<number>(200).fill(1)];
    const out = emaDebiased(values, 0.9);
    expect(out[50]).toBeGreaterThan(0);
    expect(out[50]).toBeLessThan(0.5);
    expect(out[249]).toBeCloseTo(1, 6);
  });
});

describe("runningAverage", () => {
  it("averages the last `window` points, fewer at the start", () => {
    expect(runningAverage([1, 2, 3, 4, 5], 3)).toEqual([1, 1.5, 2, 3, 4]);
  });

  it("returns the values unchanged for a window of 1", () => {
    expect(runningAverage([3, 1, 2], 1)).toEqual([3, 1, 2]);
  });

  it("skips missing points: they are neither averaged nor counted", () => {
    expect(runningAverage([2, null, 4, 6], 2)).toEqual([2, null, 3, 5]);
  });
});

describe("gaussian", () => {
  it("has weights summing to 1, symmetric, peaked in the middle, cut at 3 sigma", () => {
    for (const sigma of [0.5, 1, 3, 10]) {
      const w = gaussianWeights(sigma);
      expect(w.length).toBe(2 * Math.ceil(3 * sigma) + 1);
      expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      const mid = (w.length - 1) / 2;
      expect(w[0]).toBeCloseTo(w[w.length - 1] as number, 15);
      expect(Math.max(...w)).toBe(w[mid]);
    }
  });

  it("keeps a constant and a straight line (inside), and is the weighted mean of the neighbours", () => {
    expect(gaussian([5, 5, 5, 5], 2).every((v) => Math.abs((v as number) - 5) < 1e-12)).toBe(true);
    const line = Array.from({ length: 40 }, (_, i) => 2 * i);
    expect(gaussian(line, 2)[20]).toBeCloseTo(40, 10);
    const w = gaussianWeights(1);
    const values = [0, 0, 0, 9, 0, 0, 0];
    expect(gaussian(values, 1)[3]).toBeCloseTo(9 * (w[3] as number), 12);
  });

  it("returns the values at sigma 0 and passes missing points through", () => {
    expect(gaussian([1, 2], 0)).toEqual([1, 2]);
    const out = gaussian([1, null, 3], 1);
    expect(out[1]).toBeNull();
    expect(out[0]).toBeGreaterThan(1);
  });
});

describe("smooth", () => {
  it("dispatches on the kind: EMA's first point is the value itself (debiased)", () => {
    expect(smooth([7, 1, 1], "ema", 0.9)[0]).toBe(7);
    expect(smooth([1, 2, 3, 4, 5], "average", 3)).toEqual(runningAverage([1, 2, 3, 4, 5], 3));
    expect(smooth([1, 2, 3], "gaussian", 1)).toEqual(gaussian([1, 2, 3], 1));
  });

  it("clamps each kind's amount to its range; bad amounts are off", () => {
    expect(clampAmount("ema", 5)).toBe(0.99);
    expect(clampAmount("average", 7.6)).toBe(8);
    expect(clampAmount("average", 1e9)).toBe(100);
    expect(clampAmount("gaussian", -1)).toBe(0);
    expect(clampAmount("gaussian", "x")).toBe(0);
    expect(smoothingOn("average", 1)).toBe(false);
    expect(smoothingOn("gaussian", 0.5)).toBe(true);
  });
});
