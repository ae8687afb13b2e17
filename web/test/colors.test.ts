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

/** sRGB `#rrggbb` as CIELAB (D65). */
function lab(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((c) => {
    const v = c / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  const fx = f((r * 0.4124564 + g * 0.3575761 + b * 0.1804375) / 0.95047);
  const fy = f(r * 0.2126729 + g * 0.7151522 + b * 0.072175);
  const fz = f((r * 0.0193339 + g * 0.119192 + b * 0.9503041) / 1.08883);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** CIEDE2000 colour difference (Sharma, Wu and Dalal 2005). */
function deltaE2000([L1, a1, b1]: number[], [L2, a2, b2]: number[]): number {
  const rad = Math.PI / 180;
  const cBar = (Math.hypot(a1!, b1!) + Math.hypot(a2!, b2!)) / 2;
  const g = 0.5 * (1 - Math.sqrt(cBar ** 7 / (cBar ** 7 + 25 ** 7)));
  const [ap1, ap2] = [(1 + g) * a1!, (1 + g) * a2!];
  const [c1, c2] = [Math.hypot(ap1, b1!), Math.hypot(ap2, b2!)];
  const hue = (b: number, a: number) => (a === 0 && b === 0 ? 0 : (Math.atan2(b, a) / rad + 360) % 360);
  const [h1, h2] = [hue(b1!, ap1), hue(b2!, ap2)];
  let dh = 0;
  if (c1 * c2 !== 0) dh = h2 - h1 > 180 ? h2 - h1 - 360 : h2 - h1 < -180 ? h2 - h1 + 360 : h2 - h1;
  const dH = 2 * Math.sqrt(c1 * c2) * Math.sin((dh * rad) / 2);
  const lBar = (L1! + L2!) / 2;
  const cpBar = (c1 + c2) / 2;
  let hBar = h1 + h2;
  if (c1 * c2 !== 0) hBar = (Math.abs(h1 - h2) > 180 ? hBar + (hBar < 360 ? 360 : -360) : hBar) / 2;
  const t = 1 - 0.17 * Math.cos((hBar - 30) * rad) + 0.24 * Math.cos(2 * hBar * rad) + 0.32 * Math.cos((3 * hBar + 6) * rad) - 0.2 * Math.cos((4 * hBar - 63) * rad);
  const rc = 2 * Math.sqrt(cpBar ** 7 / (cpBar ** 7 + 25 ** 7));
  const rt = -Math.sin(2 * 30 * Math.exp(-(((hBar - 275) / 25) ** 2)) * rad) * rc;
  const sl = 1 + (0.015 * (lBar - 50) ** 2) / Math.sqrt(20 + (lBar - 50) ** 2);
  const sc = 1 + 0.045 * cpBar;
  const sh = 1 + 0.015 * cpBar * t;
  const [x, y, z] = [(L2! - L1!) / sl, (c2 - c1) / sc, dH / sh];
  return Math.sqrt(x * x + y * y + z * z + rt * y * z);
}

describe("the run palette", () => {
  it("measures colour difference as CIEDE2000 does (Sharma et al.'s test data)", () => {
    expect(deltaE2000([50, 2.6772, -79.7751], [50, 0, -82.7485])).toBeCloseTo(2.0425, 4);
    expect(deltaE2000([50, -1, 2], [50, 0, 0])).toBeCloseTo(2.3669, 4);
    expect(deltaE2000([60.2574, -34.0099, 36.2677], [60.4626, -34.1751, 39.4387])).toBeCloseTo(1.2644, 4);
    expect(deltaE2000([22.7233, 20.0904, -46.694], [23.0331, 14.973, -42.5619])).toBeCloseTo(2.0373, 4);
  });

  it("has no look-alikes: every pair at least 20 apart in CIEDE2000", () => {
    // 2.3 is a just-noticeable difference between two large patches; thin chart lines and legend
    // swatches need several times that (Szafir 2018, "Modelling colour difference for
    // visualisation design"), and palette tools aim at 20 or more for colours told apart by name.
    // Maroon beside brown was 18, pink beside magenta 12.
    const close: string[] = [];
    PALETTE.forEach((a, i) =>
      PALETTE.slice(i + 1).forEach((b) => {
        const d = deltaE2000(lab(a), lab(b));
        if (d < 20) close.push(`${a}/${b}: ${d.toFixed(1)}`);
      }),
    );
    expect(close).toEqual([]);
    expect(PALETTE.length).toBeGreaterThanOrEqual(12);
  });

  it("stands out on the white chart at 3:1 or more (WCAG 1.4.11, non-text contrast)", () => {
    const rgb = (hex: string): Rgb => [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
    expect(PALETTE.filter((c) => contrastRatio(rgb(c), [255, 255, 255]) < 3)).toEqual([]);
  });
});
