import { describe, expect, it } from "vitest";
import { bringsNewKeys, type LiveBatch } from "../src/lib/live";

function batchWithPoints(points: Record<string, string[]>): LiveBatch {
  return {
    points: new Map(Object.entries(points).map(([run, keys]) => [run, new Set(keys)])),
    changed: new Set(Object.keys(points)),
    created: false,
    reconnected: false,
  };
}

describe("new metric keys in a live batch", () => {
  it("are noticed in any run's points", () => {
    expect(bringsNewKeys(batchWithPoints({ a: ["loss"], b: ["loss", "acc"] }), ["loss"])).toBe(true);
  });

  it("are not reported when every key is known or no points came", () => {
    expect(bringsNewKeys(batchWithPoints({ a: ["loss"], b: ["acc"] }), ["acc", "loss"])).toBe(false);
    expect(bringsNewKeys(batchWithPoints({}), [])).toBe(false);
  });
});
