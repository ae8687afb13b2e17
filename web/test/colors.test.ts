import { describe, expect, it } from "vitest";
import { PALETTE, runColor, runColors } from "../src/lib/colors";

describe("run colours", () => {
  it("keeps a run's own colour when nothing else in the set claims it", () => {
    expect(runColors(["only-run"]).get("only-run")).toBe(runColor("only-run"));
  });

  it("gives runs drawn together different colours while the palette lasts", () => {
    const ids = Array.from({ length: PALETTE.length }, (_, i) => `run-${i}`);
    expect(new Set(runColors(ids).values()).size).toBe(PALETTE.length);
  });

  it("depends on which runs are shown, not the order they were picked in", () => {
    const ids = ["b7", "a1", "zz", "c3", "q9"];
    expect([...runColors(ids)].sort()).toEqual([...runColors([...ids].reverse())].sort());
  });

  it("repeats colours only beyond the palette", () => {
    const ids = Array.from({ length: PALETTE.length + 3 }, (_, i) => `r${i}`);
    expect(runColors(ids).size).toBe(PALETTE.length + 3);
  });
});
