import { describe, expect, it } from "vitest";
import { aggregateSeries, groupBy, groupKeys, NO_GROUP, type GroupableRun } from "../src/lib/grouping";

const s = (x: number[], values: number[]) => ({ x: Float64Array.from(x), values: Float64Array.from(values) });
const run = (over: Partial<GroupableRun>): GroupableRun => ({ group: null, job_type: null, tags: [], config: {}, ...over });

describe("groupKeys", () => {
  it("reads group, job_type, state, config keys in both spellings", () => {
    const r = run({ group: "exp-a", job_type: "train", state: "finished", config: { opt: { lr: 0.1 } } });
    expect(groupKeys("group", r)).toEqual(["exp-a"]);
    expect(groupKeys("job_type", r)).toEqual(["train"]);
    expect(groupKeys("state", r)).toEqual(["finished"]);
    expect(groupKeys("config:opt.lr", r)).toEqual(["0.1"]);
    expect(groupKeys("config.opt.lr", r)).toEqual(["0.1"]);
  });
  it("puts a run without a value into the no-group group", () => {
    expect(groupKeys("group", run({}))).toEqual([NO_GROUP]);
    expect(groupKeys("config:lr", run({}))).toEqual([NO_GROUP]);
    expect(groupKeys("tags", run({}))).toEqual([NO_GROUP]);
  });
  it("puts a run with several tags into each tag's group, once", () => {
    expect(groupKeys("tags", run({ tags: ["a", "b", "a"] }))).toEqual(["a", "b"]);
    const groups = groupBy([run({ tags: ["a", "b"] }), run({ tags: ["b"] }), run({})], (r) => groupKeys("tags", r));
    expect(groups.map(([k, v]) => [k, v.length])).toEqual([["a", 1], ["b", 2], [NO_GROUP, 1]]);
  });
  it("sorts groups by name, keeping no-group last", () => {
    expect(groupBy(["中", "b", "a"], (v) => [v === "b" ? NO_GROUP : v]).map(([k]) => k)).toEqual(["a", "中", NO_GROUP]);
    expect(groupBy([], () => ["x"])).toEqual([]);
  });
});

describe("aggregateSeries", () => {
  it("takes the mean and min–max at each shared step", () => {
    const g = aggregateSeries([s([0, 1, 2], [1, 2, 3]), s([0, 1, 2], [3, 4, 5])], { aggregate: "mean", band: "minmax" });
    expect([...g.x]).toEqual([0, 1, 2]);
    expect([...g.values]).toEqual([2, 3, 4]);
    expect([...g.lo]).toEqual([1, 2, 3]);
    expect([...g.hi]).toEqual([3, 4, 5]);
    expect([...g.counts]).toEqual([2, 2, 2]);
  });
  it("takes the median and a ±std band around it", () => {
    const g = aggregateSeries([s([0], [1]), s([0], [2]), s([0], [9])], { aggregate: "median", band: "std" });
    expect(g.values[0]).toBe(2);
    const std = Math.sqrt(((1 - 4) ** 2 + (2 - 4) ** 2 + (9 - 4) ** 2) / 3);
    expect(g.lo[0]).toBeCloseTo(2 - std);
    expect(g.hi[0]).toBeCloseTo(2 + std);
    const even = aggregateSeries([s([0], [1]), s([0], [2]), s([0], [10]), s([0], [4])], { aggregate: "median", band: "none" });
    expect(even.values[0]).toBe(3);
    expect(even.lo[0]).toBe(3);
    expect(even.hi[0]).toBe(3);
  });
  it("counts only the runs that reach a step (a shorter run)", () => {
    const g = aggregateSeries([s([0, 1, 2, 3], [0, 0, 0, 8]), s([0, 1], [2, 2])], { aggregate: "mean", band: "minmax" });
    expect([...g.x]).toEqual([0, 1, 2, 3]);
    expect([...g.values]).toEqual([1, 1, 0, 8]);
    expect([...g.counts]).toEqual([2, 2, 1, 1]);
  });
  it("aggregates exactly when one run skipped some of the others' steps", () => {
    const g = aggregateSeries([s([0, 1, 2], [1, 1, 1]), s([0, 2], [3, 3])], { aggregate: "mean", band: "minmax" });
    expect([...g.x]).toEqual([0, 1, 2]);
    expect([...g.values]).toEqual([2, 1, 2]);
    expect([...g.counts]).toEqual([2, 1, 2]);
  });
  it("skips NaN and infinite values, and drops x where no run has a value", () => {
    const g = aggregateSeries([s([0, 1, 2], [1, NaN, Infinity]), s([0, 1, 2], [3, 5, NaN])], { aggregate: "mean", band: "minmax" });
    expect([...g.x]).toEqual([0, 1]);
    expect([...g.values]).toEqual([2, 5]);
    expect([...g.counts]).toEqual([2, 1]);
    const skipX = aggregateSeries([s([NaN, 1], [4, 6])], { aggregate: "mean", band: "minmax" });
    expect([...skipX.x]).toEqual([1]);
  });
  it("gives a one-run group that run's line with a zero-width band", () => {
    const g = aggregateSeries([s([0, 5], [1, 2])], { aggregate: "mean", band: "std" });
    expect([...g.values]).toEqual([1, 2]);
    expect([...g.lo]).toEqual([1, 2]);
    expect([...g.hi]).toEqual([1, 2]);
  });
  it("gives an empty group, or runs without points, an empty series", () => {
    for (const input of [[], [s([], [])], [s([0, 1], [NaN, NaN])]]) {
      const g = aggregateSeries(input, { aggregate: "median", band: "minmax" });
      expect(g.x.length).toBe(0);
      expect(g.values.length).toBe(0);
    }
  });
  it("buckets runs that log at different steps instead of alternating between them", () => {
    const a = s([0, 10, 20, 30, 40, 50, 60, 70, 80, 90], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const b = s([3, 13, 23, 33, 43, 53, 63, 73, 83, 93], [10, 10, 10, 10, 10, 10, 10, 10, 10, 10]);
    const g = aggregateSeries([a, b], { aggregate: "mean", band: "minmax" });
    expect(g.x.length).toBeLessThanOrEqual(10);
    for (let i = 0; i < g.x.length; i++) {
      // Every bucket has both runs: the mean is 5, never 0 or 10.
      expect(g.counts[i]).toBe(2);
      expect(g.values[i]).toBe(5);
      expect(g.lo[i]).toBe(0);
      expect(g.hi[i]).toBe(10);
    }
    // Each bucket is drawn at the mean x of its points, ascending.
    for (let i = 1; i < g.x.length; i++) expect(g.x[i]).toBeGreaterThan(g.x[i - 1] as number);
    expect(g.x[0]).toBe(1.5);
  });
  it("respects the bucket limit, averaging a run's points within a bucket", () => {
    const xa = Array.from({ length: 100 }, (_, i) => i * 2);
    const xb = Array.from({ length: 100 }, (_, i) => i * 2 + 1);
    const g = aggregateSeries([s(xa, xa.map(() => 1)), s(xb, xb.map(() => 3))], { aggregate: "mean", band: "none", buckets: 4 });
    expect(g.x.length).toBe(4);
    expect([...g.values]).toEqual([2, 2, 2, 2]);
  });
  it("stays linear in the points (a group of 100 runs × 2,000 points)", () => {
    const x = Float64Array.from({ length: 2000 }, (_, i) => i);
    const runs = Array.from({ length: 100 }, (_, r) => ({ x, values: Float64Array.from(x, (v) => v * r) }));
    const g = aggregateSeries(runs, { aggregate: "median", band: "std" });
    expect(g.x.length).toBe(2000);
    expect(g.values[1]).toBeCloseTo(49.5);
  });
});
