import { describe, expect, it } from "vitest";
import { contrastRatio, PALETTE, readableOn, runColor, runColors, type Rgb } from "../src/lib/colors";

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

  it("avoids look-alike hues (two blues, two olives) while there are unused hue families", () => {
    const families = new Map<string, number>([
      ["#1f77b4", 0], ["#000075", 0], ["#d62728", 1], ["#800000", 1], ["#17becf", 7], ["#469990", 7],
      ["#e377c2", 6], ["#f032e6", 6], ["#bcbd22", 8], ["#808000", 8], ["#8c564b", 5], ["#9a6324", 5],
    ]);
    const familyOf = (c: string) => families.get(c) ?? c;
    for (let n = 2; n <= 10; n++) {
      for (let seed = 0; seed < 50; seed++) {
        const ids = Array.from({ length: n }, (_, i) => `s${seed}-r${i}`);
        const shown = [...runColors(ids).values()].map(familyOf);
        expect(new Set(shown).size).toBe(n);
      }
    }
  });

  it("repeats colours only beyond the palette", () => {
    const ids = Array.from({ length: PALETTE.length + 3 }, (_, i) => `r${i}`);
    expect(runColors(ids).size).toBe(PALETTE.length + 3);
  });
});

describe("readable colours", () => {
  const dark: Rgb = [13, 17, 23];

  it("measures contrast as WCAG does", () => {
    expect(contrastRatio([0, 0, 0], [255, 255, 255])).toBeCloseTo(21);
    expect(contrastRatio([255, 255, 255], [255, 255, 255])).toBe(1);
    expect(contrastRatio([118, 118, 118], [255, 255, 255])).toBeCloseTo(4.54, 2);
  });

  it("keeps a colour that is already readable", () => {
    expect(readableOn([0, 187, 0], dark)).toEqual([0, 187, 0]);
  });

  it("lightens a dark colour on a dark background just enough, keeping its hue", () => {
    const blue = readableOn([0, 0, 187], dark);
    expect(contrastRatio(blue, dark)).toBeGreaterThanOrEqual(4.5);
    expect(contrastRatio(blue, dark)).toBeLessThan(4.7);
    expect(blue[2]).toBeGreaterThan(blue[0]);
  });

  it("darkens a light colour on a light background", () => {
    const yellow = readableOn([255, 255, 85], [255, 255, 255]);
    expect(contrastRatio(yellow, [255, 255, 255])).toBeGreaterThanOrEqual(4.5);
    expect(yellow[2]).toBeLessThan(yellow[0]);
  });
});
