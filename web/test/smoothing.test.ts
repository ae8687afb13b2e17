import { describe, expect, it } from "vitest";
import { emaDebiased } from "../src/lib/smoothing";

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
